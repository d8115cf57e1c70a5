"""Step instances and RLVR problems as verl's training parquet: one row per instance, nothing lost.

verl's ``RLHFDataset`` reads parquet rows with five columns: ``data_source``, ``prompt`` (chat
messages, rendered by verl's agent loop with the tokenizer's chat template and a generation
prompt), ``ability``, ``reward_model: {style, ground_truth}`` and ``extra_info`` (handed to the
reward function; ``extra_info.index`` becomes the row's index). Here:

* an SRL step instance (math or agent) -> ``ground_truth`` = the expert's step or action,
  ``extra_info.reward = "srl_step"`` and ``extra_info.kind`` (agent actions are compared in
  canonical form, :mod:`srlkit.rewards.verl`);
* an RLVR problem -> the prompt the TRL path builds (the same template), ``ground_truth`` = the
  gold answer, ``extra_info.reward = "outcome"``. Only checkable golds are written
  (:func:`srlkit.teacher.golds.check_gold`, the gate ``srl data rewrite --golds_only`` applies):
  verl needs a number per rollout, and an unparseable gold would score every rollout 0.

``extra_info.id`` is the instance's or problem's id, ``extra_info.split`` its split. A step
instance whose prompt opens the model's answer (build layout ``continuation``) is refused:
verl's rollout always appends a generation prompt and would close that answer.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from srlkit.data.reader import SPLITS, iter_instances, resolve_file
from srlkit.data.schema import COL_ANSWER, COL_ID, COL_PROMPT, StepInstance
from srlkit.io import DataError, atomic_write, write_json

logger = logging.getLogger(__name__)

TASK_SRL = "srl"
TASK_RLVR = "rlvr"
TASKS = (TASK_SRL, TASK_RLVR)

# The values srlkit.rewards.verl dispatches on (extra_info["reward"]).
REWARD_STEP = "srl_step"
REWARD_OUTCOME = "outcome"
REWARD_STYLE = "rule"  # verl's word for a reward computed by a function, not a model
SUMMARY_FILE = "export.json"
BATCH_ROWS = 2048


def _schema() -> Any:
    import pyarrow as pa

    message = pa.struct([("role", pa.string()), ("content", pa.string())])
    return pa.schema(
        [
            ("data_source", pa.string()),
            ("prompt", pa.list_(message)),
            ("ability", pa.string()),
            ("reward_model", pa.struct([("style", pa.string()), ("ground_truth", pa.string())])),
            (
                "extra_info",
                pa.struct(
                    [
                        ("reward", pa.string()),
                        ("kind", pa.string()),
                        ("index", pa.int64()),
                        ("id", pa.string()),
                        ("split", pa.string()),
                    ]
                ),
            ),
        ]
    )


def verl_row(
    prompt: list[dict[str, str]],
    ground_truth: str,
    reward: str,
    kind: str,
    index: int,
    row_id: str,
    split: str,
) -> dict[str, Any]:
    """One row of verl's schema.

    >>> verl_row([{"role": "user", "content": "2+2?"}], "4", "outcome", "math", 0, "p0", "train")["data_source"]
    'srlkit/outcome/math'
    """
    return {
        "data_source": f"srlkit/{reward}/{kind}",
        "prompt": [{"role": m["role"], "content": m["content"]} for m in prompt],
        "ability": kind,
        "reward_model": {"style": REWARD_STYLE, "ground_truth": ground_truth},
        "extra_info": {
            "reward": reward,
            "kind": kind,
            "index": index,
            "id": row_id,
            "split": split,
        },
    }


def instance_row(instance: StepInstance, index: int, split: str, where: str) -> dict[str, Any]:
    """A step instance as a verl row; ``where`` (its file) names it in the error for a
    ``continuation``-layout instance, which verl cannot render."""
    if instance.continues_answer:
        raise DataError(
            where,
            f"instance {instance.id}: its prompt ends in the model's opened answer (build layout "
            "'continuation'); verl's rollout always appends a generation prompt, so export a "
            "build made with --layout paper",
        )
    return verl_row(
        instance.prompt, instance.target, REWARD_STEP, instance.kind, index, instance.id, split
    )


def _write_rows(path: Path, rows: Iterable[dict[str, Any]]) -> int:
    """Rows -> one parquet file, written atomically in row groups of ``BATCH_ROWS``."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = _schema()
    written = 0
    with atomic_write(path, "wb") as handle:
        writer = pq.ParquetWriter(handle, schema)
        try:
            batch: list[dict[str, Any]] = []
            for row in rows:
                batch.append(row)
                if len(batch) >= BATCH_ROWS:
                    writer.write_table(pa.Table.from_pylist(batch, schema=schema))
                    written += len(batch)
                    batch = []
            if batch or written == 0:
                writer.write_table(pa.Table.from_pylist(batch, schema=schema))
                written += len(batch)
        finally:  # also on a refused instance: the file handle is closed by atomic_write
            writer.close()
    return written


@dataclass
class SplitExport:
    """What one split became: ``records_in == rows + sum(dropped.values())``."""

    split: str
    source: str
    path: str
    records_in: int = 0
    rows: int = 0
    dropped: dict[str, int] = field(default_factory=dict)
    build_instances: int | None = None  # the build's own count (stats.json), when there is one

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _source_splits(source: str | os.PathLike[str]) -> list[str]:
    """The splits a source has: a build folder's train/validation files, or ``train`` for a file."""
    if not Path(source).is_dir():
        return ["train"]
    splits = []
    for split in SPLITS:
        try:
            resolve_file(source, split)
        except DataError:
            continue
        splits.append(split)
    if not splits:
        raise DataError(
            source, "no train.jsonl here (expected the output folder of 'srl data build')"
        )
    return splits


def _build_counts(source: str | os.PathLike[str]) -> dict[str, int]:
    """Instances per split as the build counted them (``stats.json``), {} outside a build folder."""
    stats = Path(source) / "stats.json"
    if not stats.is_file():
        return {}
    splits = json.loads(stats.read_text(encoding="utf-8")).get("splits", {})
    return {name: int(s["instances"]) for name, s in splits.items() if "instances" in s}


def export_srl(source: str | os.PathLike[str], out: str | os.PathLike[str]) -> list[SplitExport]:
    """Step instances (math or agent) of every split of ``source`` -> ``out/{split}.parquet``.

    Raises :class:`DataError` when the rows written differ from the build's own instance count.
    """
    counts = _build_counts(source)
    results = []
    for split in _source_splits(source):
        where = str(resolve_file(source, split))
        result = SplitExport(split, where, str(Path(out) / f"{split}.parquet"))
        result.build_instances = counts.get(split)

        def rows(split: str = split, where: str = where, result: SplitExport = result) -> Iterator:
            if result.build_instances == 0:  # the build wrote an empty file: nothing to read
                return
            for index, instance in enumerate(iter_instances(source, split)):
                result.records_in += 1
                yield instance_row(instance, index, split, where)

        result.rows = _write_rows(Path(result.path), rows())
        if result.build_instances is not None and result.build_instances != result.rows:
            raise DataError(
                where,
                f"{result.rows} rows written but stats.json counts {result.build_instances} "
                f"{split} instances; rebuild the folder with 'srl data build'",
            )
        results.append(result)
    return results


def export_rlvr(
    source: str | os.PathLike[str],
    out: str | os.PathLike[str],
    template: str,
    problem_field: str | None = None,
    answer_field: str = COL_ANSWER,
) -> list[SplitExport]:
    """Problems with a checkable gold -> ``out/{split}.parquet`` with the TRL path's prompts."""
    from srlkit.teacher.golds import check_gold
    from srlkit.training.datasets import load_rlvr_problems

    results = []
    for split in _source_splits(source):
        problems, summary = load_rlvr_problems(
            source, template, problem_field, answer_field, split, with_id=True
        )
        result = SplitExport(split, str(source), str(Path(out) / f"{split}.parquet"))
        result.records_in = summary.records_in
        dropped = dict(summary.dropped)
        kept = []
        for problem in problems:
            text = problem[COL_PROMPT][-1]["content"]
            gold = check_gold(problem[COL_ANSWER], text)
            if gold.checkable:
                kept.append((problem, gold.answer))
            else:
                reason = f"gold not checkable ({gold.status})"
                dropped[reason] = dropped.get(reason, 0) + 1
        result.dropped = dropped
        rows = (
            verl_row(p[COL_PROMPT], answer, REWARD_OUTCOME, "math", i, p[COL_ID], split)
            for i, (p, answer) in enumerate(kept)
        )
        result.rows = _write_rows(Path(result.path), rows)
        results.append(result)
    return results


def write_summary(out: str | os.PathLike[str], task: str, results: list[SplitExport]) -> Path:
    """``out/export.json``: per split, records read, rows written, drops with their reasons."""
    path = Path(out) / SUMMARY_FILE
    write_json(path, {"format": "verl", "task": task, "splits": [r.to_dict() for r in results]})
    return path

"""Read a run folder into one plain structure the report renders, whatever made the folder.

Six kinds of folder are recognised by the files they hold (so nothing has to be declared):

- **train**: ``srl train`` output: ``metrics.jsonl`` (and ``rollouts.jsonl``,
  ``best_checkpoint.json``, ``run_summary.json`` when present);
- **eval**: ``srl eval`` output: ``summary.json`` with ``benchmarks`` and ``samples/*.jsonl``;
- **eval-steps**: ``srl eval-steps`` output: ``summary.json`` beside ``steps.jsonl`` (one
  generated step per instance, shown in the sample browser against the expert step);
- **demo**: ``srl demo`` output: ``results.json`` beside ``demo_config.json`` (each seed's
  training runs are in ``seed-<s>/runs/<method>/``; the page shows the first seed's SRL curves
  and rollouts);
- **loop**: ``srl loop`` output: ``loop.json`` beside ``loop_key.json`` (its rounds: what was
  sampled, verified and pooled, and the accuracy after each; read as plain JSON, nothing of
  ``srlkit.loop`` is imported); each round's SRL training (``round-<r>/train``, an ``srl
  train`` folder) follows it as a run of its own, its steps counted on from the round before;
- a folder holding none of these but run folders one level down (a pipeline's stages) is
  expanded into those runs.

Unreadable input stops with a :class:`~srlkit.io.DataError` naming the file (and line).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from srlkit.io import DataError, iter_jsonl

logger = logging.getLogger(__name__)

KIND_TRAIN, KIND_EVAL, KIND_DEMO, KIND_STEPS = "train", "eval", "demo", "eval-steps"
KIND_LOOP = "loop"
LOOP_FILE, LOOP_KEY_FILE = "loop.json", "loop_key.json"  # srlkit.loop.rounds writes them
PIPELINE_FILE = "pipeline.json"  # srlkit.training.pipeline writes it (not imported: torch)


@dataclass
class Run:
    """Everything the report shows about one run folder."""

    label: str
    path: Path
    kind: str
    history: list[dict[str, Any]] = field(default_factory=list)  # metrics.jsonl lines
    best: dict[str, Any] | None = None  # best_checkpoint.json
    groups: list[dict[str, Any]] = field(default_factory=list)  # rollouts.jsonl records
    summary: dict[str, Any] | None = None  # eval summary.json / demo results.json / loop.json
    samples: list[dict[str, Any]] = field(default_factory=list)  # eval sample records
    skipped_lines: int = 0  # unreadable JSONL lines (e.g. the last one of a killed run)
    method: str | None = None  # what its curves show, when the folder name does not say it
    step_offset: int = 0  # a pipeline stage's steps, counted on from the stages before it


def _read_json(path: Path, expected: str) -> dict[str, Any]:
    """A JSON object file; anything else (invalid JSON, a list, bad UTF-8) is one DataError."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise DataError(path, f"invalid JSON ({exc.msg})", exc.lineno) from None
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise DataError(path, f"unreadable JSON ({type(exc).__name__})") from None
    if not isinstance(data, dict):
        raise DataError(path, f"expected {expected}, found a JSON {type(data).__name__}")
    return data


def _read_jsonl(path: Path, run: Run) -> list[tuple[int, dict[str, Any]]]:
    """Records of a JSONL file; unreadable lines (an interrupted write) are counted, not fatal."""
    errors: list[DataError] = []
    records = list(iter_jsonl(path, skip_invalid=True, errors=errors))
    run.skipped_lines += len(errors)
    return records


MAX_STEP = 2**53  # steps beyond this are not integers in the page's JavaScript


def is_step(value: Any) -> bool:
    """A training step as the page can plot and filter it: a whole number in [0, 2^53]."""
    return type(value) is int and 0 <= value <= MAX_STEP


def _metric_lines(path: Path, run: Run) -> list[dict[str, Any]]:
    """metrics.jsonl lines; a line that is not an object, or whose step is no whole number
    (null, a string, NaN, 1e400), is counted with the unreadable lines and left out."""
    lines = []
    for _, rec in _read_jsonl(path, run):
        if isinstance(rec, dict) and is_step(rec.get("step", 0)):
            lines.append(rec)
        else:
            run.skipped_lines += 1
    return lines


def run_kind(path: Path) -> str | None:
    """Which kind of run ``path`` holds, or None when it holds none."""
    if (path / "results.json").is_file() and (path / "demo_config.json").is_file():
        return KIND_DEMO
    if (path / LOOP_FILE).is_file() and (path / LOOP_KEY_FILE).is_file():
        return KIND_LOOP
    if (path / "summary.json").is_file() and (path / "samples").is_dir():
        return KIND_EVAL
    if (path / "summary.json").is_file() and (path / "steps.jsonl").is_file():
        return KIND_STEPS
    if (path / "metrics.jsonl").is_file() or (path / "rollouts.jsonl").is_file():
        return KIND_TRAIN
    return None


def _load_rollouts(path: Path, run: Run) -> None:
    rollouts = path / "rollouts.jsonl"
    if rollouts.is_file():
        for line_no, rec in _read_jsonl(rollouts, run):
            if (
                not isinstance(rec, dict)
                or not isinstance(rec.get("rollouts"), list)
                or not is_step(rec.get("step"))
            ):
                raise DataError(
                    rollouts,
                    "expected a group record with 'step' (a whole number) and 'rollouts' (a list)",
                    line_no,
                )
            if not all(isinstance(r, dict) for r in rec["rollouts"]):
                raise DataError(rollouts, "expected every rollout to be a JSON object", line_no)
            run.groups.append(rec)


def _load_train(path: Path, run: Run) -> None:
    if (path / "metrics.jsonl").is_file():
        run.history = _metric_lines(path / "metrics.jsonl", run)
    best_file = path / "best_checkpoint.json"
    if best_file.is_file():
        run.best = _read_json(best_file, "an object with the best checkpoint's 'step'")
        if not is_step(run.best.get("step")):
            raise DataError(best_file, "expected 'step' to be a whole number")
    _load_rollouts(path, run)


def _load_eval(path: Path, run: Run) -> None:
    run.summary = _read_json(path / "summary.json", "an `srl eval` summary")
    if not isinstance(run.summary.get("benchmarks"), dict) or not all(
        isinstance(b, dict) for b in run.summary["benchmarks"].values()
    ):
        raise DataError(
            path / "summary.json", "expected an `srl eval` summary with 'benchmarks' (an object)"
        )
    for file in sorted((path / "samples").glob("*.jsonl")):
        run.samples += [rec for _, rec in _read_jsonl(file, run) if isinstance(rec, dict)]


def _load_demo(path: Path, run: Run) -> None:
    """A demo folder: its results, the SRL training of its first seed (curves, rollouts), and
    each method's example solutions. Methods and labels are the ones the results file lists;
    values of another type than the demo writes are left out."""
    run.summary = _read_json(path / "results.json", "a JSON object of demo results")
    seeds = run.summary.get("seeds") if isinstance(run.summary.get("seeds"), dict) else {}
    first = next(iter(seeds), None)
    srl = seeds.get(first) if first is not None else None
    srl = srl.get("srl") if isinstance(srl, dict) else None
    methods = run.summary.get("methods") if isinstance(run.summary.get("methods"), list) else []
    methods = [m for m in methods if isinstance(m, dict)]
    labels = {str(m.get("name")): str(m.get("label", m.get("name"))) for m in methods}
    if isinstance(srl, dict) and isinstance(srl.get("history"), list):
        run.history = [
            h for h in srl["history"] if isinstance(h, dict) and is_step(h.get("step", 0))
        ]
        run.method = labels.get("srl", "SRL")  # the curves are this method's, not the folder's
        _load_rollouts(path / f"seed-{first}" / "runs" / "srl", run)
    for name, label in labels.items():
        results = run.summary.get(name)
        examples = results.get("examples") if isinstance(results, dict) else None
        examples = examples if isinstance(examples, list) else []
        for i, ex in enumerate(e for e in examples if isinstance(e, dict)):
            run.samples.append(
                {
                    "benchmark": f"{label} (held-out hard)",
                    "problem_id": ex.get("id", f"example {i + 1}"),
                    "mode": "greedy",
                    "sample_index": 0,
                    "prompt": next(
                        (ex[k] for k in ("problem", "question", "prompt") if ex.get(k)), ""
                    ),
                    "completion": ex.get("completion", ""),
                    "extracted": ex.get("extracted"),
                    "gold": ex.get("answer"),
                    "correct": ex.get("correct"),
                }
            )


def _load_steps(path: Path, run: Run) -> None:
    """``srl eval-steps`` output: its summary, and each instance's generated step as a sample."""
    run.summary = _read_json(path / "summary.json", "an `srl eval-steps` summary")
    for _, rec in _read_jsonl(path / "steps.jsonl", run):
        if not isinstance(rec, dict):
            run.skipped_lines += 1
            continue
        reward = rec.get("reward")
        run.samples.append(
            {
                "benchmark": "next step",
                "problem_id": rec.get("id"),
                "mode": "greedy",
                "sample_index": 0,
                "prompt": rec.get("target"),
                "completion": rec.get("completion"),
                "extracted": rec.get("action"),
                "gold": rec.get("target"),
                "correct": rec.get("exact_match"),
                "reason": rec.get("format_reason")
                or (f"step reward {reward:.3f}" if isinstance(reward, float) else None),
            }
        )


def _json_type(value: Any) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "a string"
    return "null" if value is None else "true/false" if isinstance(value, bool) else "a number"


def _shaped(file: Path, value: Any, kind: type, where: str) -> Any:
    """``value`` when it is a ``kind`` (dict or list), an empty one when it is absent (None);
    anything else is one DataError naming the file and the value's place."""
    if value is None:
        return kind()
    if not isinstance(value, kind):
        wanted = "an object" if kind is dict else "a list"
        raise DataError(file, f"expected {where} to be {wanted}, found {_json_type(value)}")
    return value


ROUND_OBJECTS = ("expert_pool", "samples", "verification", "pool", "eval", "timings_s")


def _load_loop(path: Path, run: Run) -> None:
    """``loop.json``: a list or an object wherever the loop writes one, else one DataError
    naming the file and the place; numbers of another type are shown as missing."""
    file = path / LOOP_FILE
    run.summary = summary = _read_json(file, "an `srl loop` summary")
    for key in ("config", "rollouts"):
        _shaped(file, summary.get(key), dict, f"'{key}'")
    filters = _shaped(file, summary.get("filters"), dict, "'filters'")
    _shaped(file, filters.get("process_failed"), dict, "'filters.process_failed'")
    for name, value in _shaped(file, summary.get("comparisons"), dict, "'comparisons'").items():
        _shaped(file, value, dict, f"comparison {json.dumps(name)[:60]}")
    for key in ("curve", "reading"):
        _shaped(file, summary.get(key), list, f"'{key}'")
    for i, record in enumerate(_shaped(file, summary.get("rounds"), list, "'rounds'")):
        record = _shaped(file, record, dict, f"'rounds[{i}]'")
        for key in ROUND_OBJECTS:
            _shaped(file, record.get(key), dict, f"'rounds[{i}].{key}'")
        failed = (record.get("verification") or {}).get("process_failed")
        _shaped(file, failed, dict, f"'rounds[{i}].verification.process_failed'")


def _round_number(folder: Path) -> int | None:
    prefix, _, number = folder.name.partition("-")
    whole = prefix == "round" and number.isascii() and number.isdigit() and len(number) < 10
    return int(number) if whole else None


def loop_training_runs(path: Path, label: str) -> list[Run]:
    """Each round's SRL training (``round-<r>/train``) in round order, its steps counted on
    from the round before: a round trains on from the model the round before left."""
    folders = sorted(
        (n, f / "train")
        for f in path.iterdir()
        if f.is_dir() and (n := _round_number(f)) is not None
    )
    runs = [
        run
        for n, train in folders
        if run_kind(train) == KIND_TRAIN
        for run in load_run(train, f"{label}/round-{n}")
    ]
    offset = 0
    for run in runs:
        run.step_offset = offset
        offset += max((h.get("step", 0) for h in run.history), default=0)
    return runs


def demo_results(run: Run, read: Callable[[dict[str, Any]], Any]) -> Any:
    """``read(results)`` of a demo run, or one DataError naming its results.json when the file
    does not have the demo's structure (a value of the wrong type somewhere)."""
    try:
        return read(run.summary)
    except (AttributeError, KeyError, TypeError, ValueError, IndexError) as exc:
        raise DataError(
            run.path / "results.json", f"not the demo's results structure ({type(exc).__name__})"
        ) from None


def _stage_order(path: Path) -> list[str]:
    """The stage names of a pipeline folder (its ``pipeline.json``), in the order they ran."""
    file = path / PIPELINE_FILE
    if not file.is_file():
        return []
    stages = _read_json(file, "a pipeline record with 'stages'").get("stages")
    names = (
        [s.get("stage") for s in stages if isinstance(s, dict)] if isinstance(stages, list) else []
    )
    return [n for n in names if isinstance(n, str)]


LOADERS = {
    KIND_TRAIN: _load_train,
    KIND_EVAL: _load_eval,
    KIND_DEMO: _load_demo,
    KIND_STEPS: _load_steps,
    KIND_LOOP: _load_loop,
}


def load_run(path: str | Path, label: str | None = None) -> list[Run]:
    """The run(s) in ``path``: one run, or the runs one level down (a pipeline's stages)."""
    path = Path(path)
    if not path.is_dir():
        raise DataError(
            path, "not a folder; expected a run folder (srl train / eval / demo / loop output)"
        )
    kind = run_kind(path)
    if kind is None:
        children = [p for p in sorted(path.iterdir()) if p.is_dir() and run_kind(p)]
        if not children:
            raise DataError(
                path,
                "no run found: expected metrics.jsonl or rollouts.jsonl (training), summary.json "
                "with samples/ (evaluation) or steps.jsonl (eval-steps), results.json (demo) or "
                "loop.json (loop), here or one level down",
            )
        order = _stage_order(path)
        if order:  # a pipeline: its stages in the order they ran, steps counted on across them
            children.sort(key=lambda p: order.index(p.name) if p.name in order else len(order))
        prefix = label or path.name
        runs = [run for child in children for run in load_run(child, f"{prefix}/{child.name}")]
        if order:
            offset = 0
            for run in runs:
                run.step_offset = offset
                offset += max((h.get("step", 0) for h in run.history), default=0)
        return runs
    run = Run(label=label or path.name, path=path, kind=kind)
    LOADERS[kind](path, run)
    logger.info(
        "%s: %s run, %d metric lines, %d rollout groups, %d samples",
        path,
        kind,
        len(run.history),
        len(run.groups),
        len(run.samples),
    )
    if kind == KIND_LOOP:
        return [run, *loop_training_runs(path, run.label)]
    return [run]

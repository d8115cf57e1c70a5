"""Read a run folder into one plain structure the report renders, whatever made the folder.

Four kinds of folder are recognised by the files they hold (so nothing has to be declared):

- **train**: ``srl train`` output: ``metrics.jsonl`` (and ``rollouts.jsonl``,
  ``best_checkpoint.json``, ``run_summary.json`` when present);
- **eval**: ``srl eval`` output: ``summary.json`` with ``benchmarks`` and ``samples/*.jsonl``;
- **demo**: ``srl demo`` output: ``results.json`` beside ``demo_config.json`` (each seed's
  training runs are in ``seed-<s>/runs/<method>/``; the page shows the first seed's SRL curves
  and rollouts);
- a folder holding none of these but run folders one level down (a pipeline's stages) is
  expanded into those runs.

Unreadable input stops with a :class:`~srlkit.io.DataError` naming the file (and line).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from srlkit.io import DataError, iter_jsonl

logger = logging.getLogger(__name__)

KIND_TRAIN, KIND_EVAL, KIND_DEMO = "train", "eval", "demo"


@dataclass
class Run:
    """Everything the report shows about one run folder."""

    label: str
    path: Path
    kind: str
    history: list[dict[str, Any]] = field(default_factory=list)  # metrics.jsonl lines
    best: dict[str, Any] | None = None  # best_checkpoint.json
    groups: list[dict[str, Any]] = field(default_factory=list)  # rollouts.jsonl records
    summary: dict[str, Any] | None = None  # eval summary.json / demo results.json
    samples: list[dict[str, Any]] = field(default_factory=list)  # eval sample records
    skipped_lines: int = 0  # unreadable JSONL lines (e.g. the last one of a killed run)


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise DataError(path, f"invalid JSON ({exc.msg})", exc.lineno) from None


def _read_jsonl(path: Path, run: Run) -> list[tuple[int, dict[str, Any]]]:
    """Records of a JSONL file; unreadable lines (an interrupted write) are counted, not fatal."""
    errors: list[DataError] = []
    records = list(iter_jsonl(path, skip_invalid=True, errors=errors))
    run.skipped_lines += len(errors)
    return records


def run_kind(path: Path) -> str | None:
    """Which kind of run ``path`` holds, or None when it holds none."""
    if (path / "results.json").is_file() and (path / "demo_config.json").is_file():
        return KIND_DEMO
    if (path / "summary.json").is_file() and (path / "samples").is_dir():
        return KIND_EVAL
    if (path / "metrics.jsonl").is_file() or (path / "rollouts.jsonl").is_file():
        return KIND_TRAIN
    return None


def _load_rollouts(path: Path, run: Run) -> None:
    rollouts = path / "rollouts.jsonl"
    if rollouts.is_file():
        for line_no, rec in _read_jsonl(rollouts, run):
            if not isinstance(rec.get("rollouts"), list) or "step" not in rec:
                raise DataError(
                    rollouts, "expected a group record with 'step' and 'rollouts'", line_no
                )
            run.groups.append(rec)


def _load_train(path: Path, run: Run) -> None:
    if (path / "metrics.jsonl").is_file():
        run.history = [rec for _, rec in _read_jsonl(path / "metrics.jsonl", run)]
    if (path / "best_checkpoint.json").is_file():
        run.best = _read_json(path / "best_checkpoint.json")
    _load_rollouts(path, run)


def _load_eval(path: Path, run: Run) -> None:
    run.summary = _read_json(path / "summary.json")
    if not isinstance(run.summary, dict) or "benchmarks" not in run.summary:
        raise DataError(path / "summary.json", "expected an `srl eval` summary with 'benchmarks'")
    for file in sorted((path / "samples").glob("*.jsonl")):
        run.samples += [rec for _, rec in _read_jsonl(file, run)]


def _load_demo(path: Path, run: Run) -> None:
    """A demo folder: its results, the SRL training of its first seed (curves, rollouts), and
    each method's example solutions. Methods and labels are the ones the results file lists."""
    run.summary = _read_json(path / "results.json")
    if not isinstance(run.summary, dict):
        raise DataError(path / "results.json", "expected a JSON object of demo results")
    seeds = run.summary.get("seeds") if isinstance(run.summary.get("seeds"), dict) else {}
    first = next(iter(seeds), None)
    srl = (seeds.get(first) or {}).get("srl") if first is not None else None
    if isinstance(srl, dict) and isinstance(srl.get("history"), list):
        run.history = [h for h in srl["history"] if isinstance(h, dict)]
        _load_rollouts(path / f"seed-{first}" / "runs" / "srl", run)
    for method in run.summary.get("methods") or []:
        if not isinstance(method, dict):
            continue
        name, label = str(method.get("name")), str(method.get("label", method.get("name")))
        examples = (run.summary.get(name) or {}).get("examples") or []
        for i, ex in enumerate(e for e in examples if isinstance(e, dict)):
            run.samples.append(
                {
                    "benchmark": f"{label} (held-out hard)",
                    "problem_id": ex.get("id", f"example {i + 1}"),
                    "mode": "greedy",
                    "sample_index": 0,
                    "prompt": ex.get("problem", ""),
                    "completion": ex.get("completion", ""),
                    "extracted": ex.get("extracted"),
                    "gold": ex.get("answer"),
                    "correct": ex.get("correct"),
                }
            )


LOADERS = {KIND_TRAIN: _load_train, KIND_EVAL: _load_eval, KIND_DEMO: _load_demo}


def load_run(path: str | Path, label: str | None = None) -> list[Run]:
    """The run(s) in ``path``: one run, or the runs one level down (a pipeline's stages)."""
    path = Path(path)
    if not path.is_dir():
        raise DataError(
            path, "not a folder; expected a run folder (srl train / eval / demo output)"
        )
    kind = run_kind(path)
    if kind is None:
        children = [p for p in sorted(path.iterdir()) if p.is_dir() and run_kind(p)]
        if not children:
            raise DataError(
                path,
                "no run found: expected metrics.jsonl or rollouts.jsonl (training), summary.json "
                "with samples/ (evaluation) or results.json (demo), here or one level down",
            )
        prefix = label or path.name
        return [run for child in children for run in load_run(child, f"{prefix}/{child.name}")]
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
    return [run]

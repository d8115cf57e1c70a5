"""``srl eval`` (math benchmarks), ``srl eval-steps`` (next-step validation) and ``srl eval-table``.

Each command's options are its config dataclass (:class:`~srlkit.evaluation.runner.EvalConfig`,
:class:`~srlkit.evaluation.steps.StepEvalConfig`), parsed by :mod:`srlkit.cli.options`: the same
names as flags and in a ``--config`` recipe. Both evaluations write an append-only per-sample
file and their resolved ``config.json``, and resume when rerun with the same ``--out``; heavy
imports (torch, transformers, vLLM) happen inside the handlers.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from srlkit.cli.options import add_command, parse_options
from srlkit.io import DataError

COMMANDS = {
    "eval": "evaluate a model on math benchmarks (greedy, avg@k, pass@k, token usage)",
    "eval-steps": "validate next-step prediction on step instances (mean step reward, "
    "format failures, exact match)",
    "eval-table": "compare `srl eval` runs in the paper's table (one row per run)",
}


@dataclass
class TableArguments:
    """``srl eval-table RUN...``."""

    runs: list[str] = field(
        default_factory=list,
        metadata={"help": "output folders of srl eval, or LABEL=DIR (positional)"},
    )


def default_out(model: str, kind: str) -> str:
    """``eval_results/<name>-<8 hex of the resolved path>-<kind>``.

    srlkit's own models all end in ``.../model`` or ``checkpoint-N``, so the folder name alone
    would send different models' results into one folder; the hash of the full path keeps
    them apart, and the same model always gets the same folder (so a rerun resumes).
    """
    local = Path(model.rstrip("/"))
    key = str(local.resolve()) if local.exists() else model
    digest = hashlib.sha1(key.encode("utf-8")).hexdigest()[:8]
    return str(Path("eval_results") / f"{local.name or 'model'}-{digest}-{kind}")


def register(subparsers: Any) -> None:
    for name, help_text in COMMANDS.items():
        add_command(subparsers, name, help_text).set_defaults(func=handle_eval, eval_command=name)


def handle_eval(args: argparse.Namespace) -> int:
    handler = {"eval": run_eval, "eval-steps": run_eval_steps, "eval-table": run_eval_table}
    return handler[args.eval_command](list(args.rest_argv))


def run_eval_table(argv: list[str]) -> int:
    from srlkit.evaluation.report import comparison_table

    options = parse_options(
        TableArguments,
        argv,
        prog="srl eval-table",
        description="Print the paper's 7-number table, its Average and the mean greedy answer "
        "length for each output folder of `srl eval` (label = folder name, or LABEL=DIR).",
        positionals=("runs",),
        required=("runs",),
    )
    runs = {}
    for token in options.runs:
        label, _, directory = (
            token.rpartition("=") if "=" in token else (Path(token).name, "", token)
        )
        path = Path(directory) / "summary.json"
        try:
            runs[label] = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise DataError(path, "no summary.json: is this an output folder of `srl eval`?") from None
        except ValueError as exc:
            raise DataError(path, f"not valid JSON: {exc}") from None
    print(comparison_table(runs), end="")
    return 0


def run_eval(argv: list[str]) -> int:
    from srlkit.evaluation.benchmarks import BENCHMARKS
    from srlkit.evaluation.runner import EvalConfig, run_evaluation

    config = parse_options(
        EvalConfig,
        argv,
        prog="srl eval",
        description="Evaluate MODEL (hub id or folder) on math benchmarks. Known benchmarks: "
        + "; ".join(f"{n}: {s.description}" for n, s in BENCHMARKS.items())
        + ". A .jsonl file (or NAME=FILE) with problem and answer fields works too.",
        positionals=("model",),
        required=("model",),
    )
    config.out_dir = config.out_dir or default_out(config.model, "math")
    run_evaluation(config)
    out = Path(config.out_dir)
    print((out / "results.md").read_text(encoding="utf-8"))
    print(f"samples: {out / 'samples'}/  summary: {out / 'summary.json'}")
    return 0


def run_eval_steps(argv: list[str]) -> int:
    from srlkit.evaluation.steps import StepEvalConfig, run_step_evaluation

    config = parse_options(
        StepEvalConfig,
        argv,
        prog="srl eval-steps",
        description="Generate one step for each instance of DATA and score it with the SRL "
        "step reward (the paper's step-level validation).",
        positionals=("model", "data"),
        required=("model", "data"),
    )
    config.out_dir = config.out_dir or default_out(config.model, "steps")
    summary = run_step_evaluation(config)

    def pct(v: float | None) -> str:
        return "-" if v is None else f"{100 * v:.1f}%"

    mean = summary["mean_reward"]
    print(f"step instances:      {summary['n_instances']}")
    print(f"mean step reward:    {'-' if mean is None else f'{mean:.4f}'}")
    print(f"format-failure rate: {pct(summary['format_failure_rate'])}")
    print(f"exact-match rate:    {pct(summary['exact_match_rate'])}")
    out = Path(config.out_dir)
    print(f"records: {out / 'steps.jsonl'}  summary: {out / 'summary.json'}")
    return 0

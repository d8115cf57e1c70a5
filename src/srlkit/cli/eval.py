"""``srl eval`` (math benchmarks), ``srl eval-steps`` (next-step validation) and ``srl eval-table``.

Each command's options are its config dataclass (:class:`~srlkit.evaluation.runner.EvalConfig`,
:class:`~srlkit.evaluation.steps.StepEvalConfig`), parsed by :mod:`srlkit.cli.options`: the same
names as flags and in a ``--config`` recipe. Both evaluations write an append-only per-sample
file and their resolved ``config.json``, and resume when rerun with the same ``--out``; heavy
imports (torch, transformers, vLLM) happen inside the handlers.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import srlkit.demo.benchmarks  # noqa: F401  (registers the demo's chain-hard, as a user's task would)
from srlkit.cli.options import Command, add_commands
from srlkit.io import DataError


@dataclass
class TableArguments:
    """``srl eval-table RUN...``."""

    runs: list[str] = field(
        default_factory=list,
        metadata={"help": "output folders of srl eval, or LABEL=DIR (positional)"},
    )


def default_out(model: str, kind: str) -> str:
    """``eval_results/<name>-<8 hex of the resolved path>-<kind>`` (see
    :func:`srlkit.evaluation.outdir.default_eval_dir`)."""
    from srlkit.evaluation.outdir import default_eval_dir

    return default_eval_dir(model, kind)


def register(subparsers: Any) -> None:
    add_commands(subparsers, COMMANDS)


def run_eval_table(options: TableArguments) -> int:
    from srlkit.evaluation.tables import comparison_table

    runs = {}
    for token in options.runs:
        label, _, directory = (
            token.rpartition("=") if "=" in token else (Path(token).name, "", token)
        )
        path = Path(directory) / "summary.json"
        try:
            runs[label] = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise DataError(
                path, "no summary.json: is this an output folder of `srl eval`?"
            ) from None
        except ValueError as exc:
            raise DataError(path, f"not valid JSON: {exc}") from None
        summary = runs[label]
        if isinstance(summary, dict) and "n_instances" in summary and "benchmarks" not in summary:
            raise DataError(
                path,
                "an `srl eval-steps` summary (next-step rewards, no benchmarks): eval-table "
                "compares `srl eval` runs; `srl report DIR...` tables eval-steps runs",
            )
        if not isinstance(summary, dict) or not isinstance(summary.get("benchmarks"), dict):
            raise DataError(path, "expected an `srl eval` summary with 'benchmarks'")
    print(comparison_table(runs), end="")
    return 0


def run_eval(config: Any) -> int:
    from srlkit.evaluation.runner import run_evaluation

    config.out_dir = config.out_dir or default_out(config.model, "math")
    run_evaluation(config)
    out = Path(config.out_dir)
    print((out / "results.md").read_text(encoding="utf-8"))
    print(f"samples: {out / 'samples'}/  summary: {out / 'summary.json'}")
    return 0


def run_eval_steps(config: Any) -> int:
    from srlkit.evaluation.steps import run_step_evaluation

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


COMMANDS = {
    "eval": Command(
        "srl eval",
        "evaluate a model on math benchmarks (greedy, avg@k, pass@k, token usage)",
        "srlkit.evaluation.runner:EvalConfig",
        run_eval,
        positionals=("model",),
        required=("model",),
        description="Evaluate MODEL (hub id or folder) on math benchmarks: the names listed "
        "under --benchmarks, or a .jsonl file (or NAME=FILE) with problem and answer fields.",
    ),
    "eval-steps": Command(
        "srl eval-steps",
        "validate next-step prediction on step instances (mean step reward, format failures, "
        "exact match)",
        "srlkit.evaluation.steps:StepEvalConfig",
        run_eval_steps,
        positionals=("model", "data"),
        required=("model", "data"),
        description="Generate one step for each instance of DATA and score it with the SRL "
        "step reward (the paper's step-level validation).",
    ),
    "eval-table": Command(
        "srl eval-table",
        "compare `srl eval` runs in the paper's table (one row per run)",
        f"{__name__}:TableArguments",
        run_eval_table,
        positionals=("runs",),
        required=("runs",),
        description="Print the paper's 7-number table, its Average and the mean greedy answer "
        "length for each output folder of `srl eval` (label = folder name, or LABEL=DIR).",
    ),
}

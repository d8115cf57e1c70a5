"""How a loop scores each round's model when the caller brings no evaluator of its own.

``srl eval`` on the held-out benchmarks (greedy; the curve's accuracy is the mean over them)
and, when held-out step instances are given, ``srl eval-steps``. A task with more to measure
(the built-in task counts correct chains) passes its own function of the same shape.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from srlkit.loop.config import LoopConfig

Evaluator = Callable[[str, Path], dict[str, Any]]
"""``(model_dir, out_dir) -> metrics``; ``metrics["accuracy"]`` is the curve's value."""


def default_evaluator(config: LoopConfig) -> Evaluator:
    """``srl eval`` on the held-out benchmarks (greedy; accuracy = the mean over benchmarks)
    and, when given, ``srl eval-steps`` on held-out step instances."""

    def evaluate(model_dir: str, out_dir: Path) -> dict[str, Any]:
        from srlkit.evaluation.runner import EvalConfig, run_evaluation
        from srlkit.evaluation.steps import StepEvalConfig, run_step_evaluation

        common = {
            "model": model_dir,
            "max_new_tokens": config.eval_max_new_tokens,
            "batch_size": config.eval_batch_size,
            "seed": config.seed,
            "backend": config.backend,
            "device": config.device,
            "dtype": config.dtype,
        }
        summary = run_evaluation(
            EvalConfig(
                out_dir=str(out_dir / "solve"),
                benchmarks=list(config.eval_benchmarks),
                data_dir=config.eval_data_dir,
                greedy=True,
                **common,
            )
        )
        accuracy = {
            name: float(b["greedy"]["accuracy"]) for name, b in summary["benchmarks"].items()
        }
        metrics: dict[str, Any] = {
            "accuracy": sum(accuracy.values()) / len(accuracy),
            "by_benchmark": accuracy,
        }
        if config.eval_steps_data:
            steps = run_step_evaluation(
                StepEvalConfig(
                    data=config.eval_steps_data, out_dir=str(out_dir / "steps"), **common
                )
            )
            metrics["step_reward"] = steps["mean_reward"]
            metrics["exact_step"] = steps["exact_match_rate"]
        return metrics

    return evaluate

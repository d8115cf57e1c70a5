"""Evaluation: math benchmarks (greedy, avg@k, pass@k, token usage) and step-level validation.

- :mod:`~srlkit.evaluation.benchmarks`: benchmark registry, local files or hub ids, gold answers.
- :mod:`~srlkit.evaluation.metrics`: pure metric functions (unbiased pass@k, avg@k, paper table).
- :mod:`~srlkit.evaluation.backends`: HF ``generate`` (batched, left-padded) and vLLM.
- :mod:`~srlkit.evaluation.runner`: the resumable evaluation loop (``srl eval``).
- :mod:`~srlkit.evaluation.steps`: next-step validation on step instances (``srl eval-steps``).
- :mod:`~srlkit.evaluation.grader_check`: the check that reference solutions grade as correct.

Nothing here imports torch at module import time; backends import it when built.
"""

from srlkit.evaluation.benchmarks import (
    BENCHMARKS,
    PAPER_BENCHMARKS,
    Problem,
    load_benchmark,
    register_benchmark,
    resolve_spec,
)
from srlkit.evaluation.metrics import avg_at_k, paper_table, pass_at_k
from srlkit.evaluation.runner import EvalConfig, run_evaluation
from srlkit.evaluation.steps import StepEvalConfig, run_step_evaluation

__all__ = [
    "BENCHMARKS",
    "PAPER_BENCHMARKS",
    "EvalConfig",
    "Problem",
    "StepEvalConfig",
    "avg_at_k",
    "load_benchmark",
    "paper_table",
    "pass_at_k",
    "register_benchmark",
    "resolve_spec",
    "run_evaluation",
    "run_step_evaluation",
]

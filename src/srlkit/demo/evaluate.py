"""Evaluate a demo model the two ways the paper does: whole-problem accuracy and step reward.

Whole-problem accuracy (greedy, and avg@k at temperature 1.0) is the headline number, graded by
``srl eval``'s scorer (:func:`srlkit.evaluation.runner.score_completion`); next to it, *correct
chains*: solutions whose every step is the expert's, so a right answer reached by a wrong route
is visible (a wrong chain can end on the right number by chance, and this
column says how often it happens). The step-level numbers (mean step reward, exact next step) are the
paper's validation signal for SRL, scored as ``srl eval-steps`` scores them: the step reward
SRL trains on, and "exact" meaning a well-formed step whose reward is 1.0. They are split by
step kind (adding or subtracting, doubling, giving the answer), because the hard split is hard
through its doublings. A right answer is one of 21 numbers (0..20), so a wrong solution can
end on it by chance: ``right_answer_wrong_chain`` counts how often that happened.
"""

from __future__ import annotations

import logging
import math
import os
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from srlkit.data.schema import StepInstance
from srlkit.demo.generate import generate_texts, solve_accuracy
from srlkit.demo.tasks import ChainProblem

logger = logging.getLogger(__name__)

SOLVE_TOKENS = 160
STEP_TOKENS = 24
_THINK_RE = re.compile(r"<think>.*?</think>", re.DOTALL)


@dataclass(frozen=True)
class EvalSettings:
    """What to measure; ``samples`` > 0 adds avg@samples at temperature 1.0."""

    samples: int = 0
    batch_size: int = 64
    seed: int = 0
    show_progress: bool = True


def load_model(model_dir: str | os.PathLike[str]):
    """Model and tokenizer from a directory, ready for CPU generation."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir)
    return model.eval(), tokenizer


def step_kind(target: str) -> str:
    """``double``, ``add_subtract`` or ``answer`` from an expert step's title."""
    title = target.split("**")[1] if target.count("**") >= 2 else ""
    if title == "Double":
        return "double"
    return "add_subtract" if title.startswith(("Add", "Subtract")) else "answer"


def step_scores(
    model,
    tokenizer,
    instances: Sequence[StepInstance],
    batch_size: int = 64,
    description: str | None = None,
) -> dict[str, Any]:
    """Greedy next step for each instance: mean step reward, format failures, exact matches,
    scored by ``srl eval-steps``' scorer (:func:`srlkit.evaluation.steps.score_steps`)."""
    from srlkit.evaluation.steps import score_steps

    texts = generate_texts(
        model, tokenizer, [i.prompt for i in instances], STEP_TOKENS, 0.0, batch_size, description
    )
    records = score_steps(list(instances), texts)
    exact_by: dict[str, list[bool]] = defaultdict(list)
    for record in records:
        exact_by[step_kind(record["target"])].append(record["exact_match"])
    n = max(1, len(records))
    return {
        "step_reward": sum(r["reward"] for r in records) / n,
        "format_failure_rate": sum(not r["format_ok"] for r in records) / n,
        "exact_step": sum(r["exact_match"] for r in records) / n,
        "exact_step_by_kind": {k: sum(v) / len(v) for k, v in sorted(exact_by.items())},
        "step_instances": len(records),
    }


def solution_steps(text: str) -> list[str]:
    """The non-empty lines a solution writes outside its think blocks."""
    return [line.strip() for line in _THINK_RE.sub("", text).splitlines() if line.strip()]


def is_correct_chain(problem: ChainProblem, text: str) -> bool:
    """Every line of the solution is the expert's step, and there are no others."""
    return solution_steps(text) == [
        step.math_text(i) for i, step in enumerate(problem.steps(), start=1)
    ]


def standard_error(p: float, n: int) -> float:
    """Binomial standard error of an accuracy ``p`` measured on ``n`` problems."""
    return math.sqrt(p * (1 - p) / n) if n else 0.0


def evaluate_model(
    model_dir: str | os.PathLike[str],
    problems: Sequence[ChainProblem],
    instances: Sequence[StepInstance],
    settings: EvalSettings = EvalSettings(),
    label: str = "model",
) -> dict[str, Any]:
    """All demo metrics of one model on held-out problems and their step instances."""
    model, tokenizer = load_model(model_dir)

    def bar(text: str) -> str | None:
        return f"evaluate {label}: {text}" if settings.show_progress else None

    greedy = solve_accuracy(
        model,
        tokenizer,
        problems,
        SOLVE_TOKENS,
        batch_size=settings.batch_size,
        description=bar("solve (greedy)"),
    )
    texts = [c["completion"] for c in greedy.completions]
    chains = [is_correct_chain(p, t) for p, t in zip(problems, texts, strict=True)]
    right = [bool(c["correct"]) for c in greedy.completions]
    lengths = [len(tokenizer(t)["input_ids"]) for t in texts]
    n = len(problems)
    result: dict[str, Any] = {
        "model": str(model_dir),
        "accuracy": greedy.accuracy,
        "accuracy_se": standard_error(greedy.accuracy, n),
        "n": n,
        "correct": greedy.correct,
        "correct_chains": sum(chains),
        "right_answer_wrong_chain": sum(r and not c for r, c in zip(right, chains, strict=True)),
        # Per problem, in the test set's order: what paired comparisons of two models need.
        "correct_by_problem": [int(r) for r in right],
        "chain_by_problem": [int(c) for c in chains],
        "mean_tokens": sum(lengths) / max(1, n),
        "greedy": greedy.to_dict(keep_completions=3),
    }
    if settings.samples > 0:
        sampled = solve_accuracy(
            model,
            tokenizer,
            problems,
            SOLVE_TOKENS,
            temperature=1.0,
            samples=settings.samples,
            batch_size=settings.batch_size,
            description=bar(f"solve (avg@{settings.samples})"),
        )
        result[f"accuracy_avg@{settings.samples}"] = sampled.accuracy
        k = settings.samples
        hits = [c["correct"] for c in sampled.completions]
        groups = [any(hits[i : i + k]) for i in range(0, len(hits), k)]
        result[f"groups_with_a_correct_rollout@{k}"] = sum(groups) / max(1, len(groups))
    if instances:
        result.update(step_scores(model, tokenizer, instances, settings.batch_size, bar("steps")))
    return result

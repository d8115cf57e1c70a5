"""Evaluate a demo model the two ways the paper does: whole-problem accuracy and step reward.

Whole-problem accuracy (greedy, and avg@k at temperature 1.0) is the headline number; the mean
step reward on held-out step instances (the paper's validation signal for SRL) shows whether
single steps improved even when whole solutions are still wrong.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from srlkit.data.schema import StepInstance
from srlkit.demo.generate import generate_texts, solve_accuracy
from srlkit.demo.tasks import ChainProblem

logger = logging.getLogger(__name__)

SOLVE_TOKENS = 160
STEP_TOKENS = 40
_STEP_TITLE_RE = re.compile(r"^\s*\d+\.\s*\*\*(.+?)\*\*", re.MULTILINE)


@dataclass(frozen=True)
class EvalSettings:
    """What to measure; ``samples`` > 0 adds avg@samples at temperature 1.0."""

    samples: int = 0
    batch_size: int = 64
    seed: int = 0


def load_model(model_dir: str | os.PathLike[str]):
    """Model and tokenizer from a directory, ready for CPU generation."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir)
    return model.eval(), tokenizer


def step_scores(
    model,
    tokenizer,
    instances: Sequence[StepInstance],
    batch_size: int = 64,
    description: str | None = None,
) -> dict[str, float]:
    """Greedy next step for each instance: mean step reward, format failures, exact matches."""
    from srlkit.rewards.format import parse_completion
    from srlkit.rewards.srl import srl_step_reward

    texts = generate_texts(
        model, tokenizer, [i.prompt for i in instances], STEP_TOKENS, 0.0, batch_size, description
    )
    rewards = srl_step_reward(texts, [i.target for i in instances], [i.kind for i in instances])
    parsed = [parse_completion(t) for t in texts]
    n = max(1, len(texts))
    return {
        "step_reward": sum(rewards) / n,
        "format_failure_rate": sum(not p.ok for p in parsed) / n,
        "exact_match_rate": sum(
            p.ok and p.action.strip() == i.target.strip() for p, i in zip(parsed, instances)
        )
        / n,
    }


def structure_scores(
    problems: Sequence[ChainProblem], completions: Sequence[str]
) -> dict[str, float]:
    """How well whole solutions follow the expert's plan, arithmetic aside.

    ``right_step_count_rate``: the solution has exactly the expert's number of steps (one per
    operation, then the answer) - the long-chain skill hard problems demand. ``right_plan_rate``:
    its step titles are the expert's, in order - it read every operation from the problem. Both
    separate "does not know what to do next" from "cannot do the arithmetic", which the answer
    accuracy alone cannot.
    """
    count = plan = 0
    for problem, text in zip(problems, completions, strict=True):
        titles = _STEP_TITLE_RE.findall(text)
        expert = [step.title for step in problem.steps()]
        count += len(titles) == len(expert)
        plan += titles == expert
    n = max(1, len(completions))
    return {"right_step_count_rate": count / n, "right_plan_rate": plan / n}


def evaluate_model(
    model_dir: str | os.PathLike[str],
    problems: Sequence[ChainProblem],
    instances: Sequence[StepInstance],
    settings: EvalSettings = EvalSettings(),
    label: str = "model",
) -> dict[str, Any]:
    """All demo metrics of one model on held-out problems and their step instances."""
    model, tokenizer = load_model(model_dir)
    greedy = solve_accuracy(
        model,
        tokenizer,
        problems,
        SOLVE_TOKENS,
        batch_size=settings.batch_size,
        description=f"evaluate {label}: solve (greedy)",
    )
    result: dict[str, Any] = {
        "accuracy_greedy": greedy.accuracy,
        "greedy": greedy.to_dict(keep_completions=3),
    }
    result.update(structure_scores(problems, [c["completion"] for c in greedy.completions]))
    if settings.samples > 0:
        sampled = solve_accuracy(
            model,
            tokenizer,
            problems,
            SOLVE_TOKENS,
            temperature=1.0,
            samples=settings.samples,
            batch_size=settings.batch_size,
            description=f"evaluate {label}: solve (avg@{settings.samples})",
        )
        result[f"accuracy_avg@{settings.samples}"] = sampled.accuracy
    if instances:
        result.update(
            step_scores(
                model, tokenizer, instances, settings.batch_size, f"evaluate {label}: steps"
            )
        )
    lengths = [len(tokenizer(c["completion"])["input_ids"]) for c in greedy.completions]
    result["mean_solution_tokens"] = sum(lengths) / max(1, len(lengths))
    return result

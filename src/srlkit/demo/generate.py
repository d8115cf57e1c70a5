"""Batched generation and answer accuracy for the demo's tiny models.

Scoring always goes through :func:`srlkit.rewards.outcome.score_answer`, the one function the
RLVR reward and ``srl eval`` share, so the demo's accuracy means what the toolkit's does.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from srlkit.demo.prompts import solve_messages
from srlkit.demo.tasks import ChainProblem

logger = logging.getLogger(__name__)


def generate_texts(
    model,
    tokenizer,
    conversations: Sequence[Sequence[dict[str, str]]],
    max_new_tokens: int,
    temperature: float = 0.0,
    batch_size: int = 64,
    description: str | None = None,
    seed: int = 0,
) -> list[str]:
    """Complete each conversation with ``srl eval``'s HF backend; greedy when ``temperature`` is 0."""
    from tqdm.auto import tqdm

    from srlkit.evaluation.backends import HFBackend, SamplingSettings
    from srlkit.evaluation.prompts import render_prompt

    backend = HFBackend(model, tokenizer, batch_size=batch_size)
    prompts = [render_prompt(tokenizer, list(c)) for c in conversations]
    outputs: list[str] = []
    starts = range(0, len(prompts), batch_size)
    for i, start in enumerate(
        tqdm(starts, desc=description, disable=description is None, leave=False)
    ):
        settings = SamplingSettings(
            temperature=temperature, max_new_tokens=max_new_tokens, seed=seed + i
        )
        outputs += [g.text for g in backend.generate(prompts[start : start + batch_size], settings)]
    return outputs


@dataclass
class SolveResult:
    """Accuracy of whole solutions on a problem set, with every completion kept for inspection."""

    accuracy: float
    correct: int
    total: int
    unscorable: int = 0
    completions: list[dict] = field(default_factory=list)

    def to_dict(self, keep_completions: int = 8) -> dict:
        return {
            "accuracy": self.accuracy,
            "correct": self.correct,
            "total": self.total,
            "unscorable": self.unscorable,
            "examples": self.completions[:keep_completions],
        }


def solve_accuracy(
    model,
    tokenizer,
    problems: Sequence[ChainProblem],
    max_new_tokens: int = 160,
    temperature: float = 0.0,
    samples: int = 1,
    batch_size: int = 64,
    description: str | None = None,
) -> SolveResult:
    """Fraction of solutions whose final answer is right (mean over ``samples`` per problem)."""
    from srlkit.rewards.outcome import score_answer

    conversations = [solve_messages(p.question) for p in problems for _ in range(samples)]
    texts = generate_texts(
        model, tokenizer, conversations, max_new_tokens, temperature, batch_size, description
    )
    correct = unscorable = 0
    records = []
    for i, text in enumerate(texts):
        problem = problems[i // samples]
        result = score_answer(text, problem.answer)
        if result.score is None:
            unscorable += 1
        correct += int(result.score == 1.0)
        records.append(
            {
                "id": problem.id,
                "answer": problem.answer,
                "extracted": result.extracted,
                "correct": result.score == 1.0,
                "completion": text,
            }
        )
    total = len(texts)
    return SolveResult(correct / max(1, total), correct, total, unscorable, records)

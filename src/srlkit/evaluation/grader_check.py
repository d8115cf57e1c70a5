"""Grader check: does the shared answer scorer accept each benchmark's own reference solutions?

Why: an evaluation number is only as good as its grader. A benchmark's reference solution is
right by construction, so it must score 1.0 against the gold answer (we require at least 99%;
the rest are listed so a person can see why), and an answer we know to be wrong must score 0.
The wrong answers are (1) the gold number plus one, where the gold is a number, (2) a
completion with no answer at all, (3) another problem's gold answer, where the two golds differ
as text (a pair whose golds are equal in value may then still, correctly, score 1).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from srlkit.evaluation.benchmarks import LoadedBenchmark, Problem

logger = logging.getLogger(__name__)

_NUMBER = re.compile(r"-?\d+(\.\d+)?")


@dataclass
class CheckResult:
    """How many cases were checked, how many passed, and the failures by problem id."""

    checked: int = 0
    passed: int = 0
    failures: list[dict[str, Any]] = field(default_factory=list)

    @property
    def rate(self) -> float | None:
        return self.passed / self.checked if self.checked else None

    def to_dict(self, max_failures: int = 20) -> dict[str, Any]:
        return {
            "checked": self.checked,
            "passed": self.passed,
            "rate": self.rate,
            "failures": self.failures[:max_failures],
        }


def _score(text: str, gold: str) -> float | None:
    from srlkit.rewards.outcome import score_answer

    return score_answer(text, gold).score


def check_references(problems: list[Problem]) -> CheckResult:
    """Score every reference solution against its gold answer; passing = score 1.0."""
    result = CheckResult()
    for p in problems:
        if p.reference_solution is None:
            continue
        result.checked += 1
        score = _score(p.reference_solution, p.gold)
        if score == 1.0:
            result.passed += 1
        else:
            result.failures.append(
                {"id": p.id, "gold": p.gold, "score": score, "tail": p.reference_solution[-160:]}
            )
    return result


def _plus_one(gold: str) -> str | None:
    text = gold.replace(",", "").strip()
    if not _NUMBER.fullmatch(text):
        return None
    value = Fraction(text) + 1
    return str(value.numerator) if value.denominator == 1 else str(float(value))


def wrong_answers(problems: list[Problem]) -> list[tuple[str, Problem, str]]:
    """(kind, problem, wrong completion) cases that must score 0."""
    cases: list[tuple[str, Problem, str]] = []
    for i, p in enumerate(problems):
        bumped = _plus_one(p.gold)
        if bumped is not None:
            cases.append(("gold_plus_one", p, f"The answer is \\boxed{{{bumped}}}."))
        cases.append(("no_answer", p, "I could not solve this problem."))
        for other in problems[i + 1 :] + problems[:i]:
            if other.gold.replace(" ", "") != p.gold.replace(" ", ""):
                cases.append(("other_gold", p, f"So the answer is \\boxed{{{other.gold}}}."))
                break
    return cases


def check_wrong_answers(problems: list[Problem]) -> dict[str, CheckResult]:
    """Score the known-wrong completions; passing = score 0.0. One result per kind of case."""
    results: dict[str, CheckResult] = {}
    for kind, p, text in wrong_answers(problems):
        result = results.setdefault(kind, CheckResult())
        result.checked += 1
        score = _score(text, p.gold)
        if score == 0.0:
            result.passed += 1
        else:
            result.failures.append({"id": p.id, "gold": p.gold, "score": score, "completion": text})
    return results


def grader_check(loaded: LoadedBenchmark, limit: int | None = None) -> dict[str, Any]:
    """The full check for one benchmark: references (when it has them) and known-wrong answers."""
    problems = loaded.problems[:limit] if limit is not None else loaded.problems
    refs = check_references(problems)
    wrong = check_wrong_answers(problems)
    return {
        "benchmark": loaded.name,
        "n_problems": len(problems),
        "references": refs.to_dict(),
        "wrong": {kind: r.to_dict() for kind, r in wrong.items()},
    }

"""Which gold answers can be checked: the gate in front of answer verification and RLVR data.

Why a gate: the reference "solutions" of public sets are often not answers. Of s1K's 1,000,
about a third are proofs or prose without ``\\boxed{}``; a gold read from such a text (its last
number, say) makes the outcome reward score nonsense as right. A gold is *checkable* when

1. there is a short answer to read: the answer field, else the last ``\\boxed{}`` (or GSM8K's
   ``#### N``) of the solution, else the whole solution when it is at most :data:`SHORT_ANSWER_CHARS` on one line;
2. the one scorer of srlkit (:func:`srlkit.rewards.outcome.score_answer`) judges the gold
   right against itself by parsing it (not by the identical-text fallback, which only an exact
   copy would ever pass);
3. it does not accept *any* answer: the sentinels ``0`` and ``1`` are not both right.

Anything else gets a status saying why (``missing``, ``proof``, ``prose``, ``unparseable``,
``accepts_anything``); those problems are reported, and used only when asked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from srlkit.rewards.outcome import last_boxed, score_answer

SHORT_ANSWER_CHARS = 64
CHECKABLE = "checkable"
_GSM8K_RE = re.compile(r"####[ \t]*([^\n]*)")
_PROOF_RE = re.compile(r"\b(?:prove|show that|show how|demonstrate that|proof)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Gold:
    """A problem's gold: ``answer`` when checkable (else None), and why (``status``)."""

    answer: str | None
    status: str
    candidate: str | None = None  # what was read, checkable or not (shown in reports)

    @property
    def checkable(self) -> bool:
        return self.status == CHECKABLE

    def to_dict(self) -> dict[str, Any]:
        return {"answer": self.answer, "status": self.status, "candidate": self.candidate}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Gold:
        return cls(d.get("answer"), str(d.get("status", "missing")), d.get("candidate"))


def read_candidate(value: Any, problem: str = "") -> tuple[str | None, str]:
    """The short answer a gold field or reference solution holds, or None and why not."""
    if value is None or isinstance(value, bool) or not str(value).strip():
        return None, "missing"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    boxed = last_boxed(text)
    if boxed:
        return boxed, CHECKABLE
    marks = _GSM8K_RE.findall(text)
    if marks and marks[-1].strip():
        return marks[-1].strip().replace(",", ""), CHECKABLE
    if len(text) <= SHORT_ANSWER_CHARS and "\n" not in text:
        return text, CHECKABLE
    return None, "proof" if _PROOF_RE.search(problem) else "prose"


def check_gold(value: Any, problem: str = "") -> Gold:
    """Classify one gold (an answer, or a reference solution) for ``problem``.

    >>> check_gold("The answer is $\\\\boxed{\\\\frac{1}{2}}$.").answer
    '\\\\frac{1}{2}'
    >>> check_gold("We prove it by induction on n, as follows ..." * 3, "Prove that n! > 2^n").status
    'proof'
    """
    candidate, status = read_candidate(value, problem)
    if candidate is None:
        return Gold(None, status)
    boxed = f"\\boxed{{{candidate}}}"
    itself = score_answer(boxed, candidate)
    if itself.score != 1.0 or itself.reason.startswith("gold unparseable"):
        return Gold(None, "unparseable", candidate)
    if all(score_answer(f"\\boxed{{{s}}}", candidate).score == 1.0 for s in ("0", "1")):
        return Gold(None, "accepts_anything", candidate)
    return Gold(candidate, CHECKABLE, candidate)

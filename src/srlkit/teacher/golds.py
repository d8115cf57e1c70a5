"""Which gold answers can be checked: the gate in front of answer verification and RLVR data.

Why a gate: the reference "solutions" of public sets are often not answers. Of s1K's 1,000,
about a third are proofs or prose without ``\\boxed{}``; a gold read from such a text (its last
number, say) makes the outcome reward score nonsense as right. A gold is *checkable* when

1. there is a short answer to read: the answer field, else the last ``\\boxed{}`` (or GSM8K's
   ``#### N``) of the solution, else the whole solution when it is at most :data:`SHORT_ANSWER_CHARS` on one line;
2. the one scorer of srlkit (:func:`srlkit.rewards.outcome.score_answer`) judges the gold
   right against itself by parsing it (not by the identical-text fallback, which only an exact
   copy would ever pass);
3. it does not accept *any* answer: the sentinels ``0`` and ``1`` are not both right;
4. for a problem that asks for a proof, it is a value, not the claim restated: a gold with a
   relation (``a^2 + b^2 \\leq 2``, ``p \\equiv 3 \\pmod{4}``, ``f(x) = ...``), a geometric
   object (``\\triangle ABC``) or words (``Lemma 8:``) is what the proof shows, and any
   completion that restates the claim would be scored right (s1K: 657 checkable golds -> 643).

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
_CLAIM_RE = re.compile(
    r"[<>=≤≥≠]|\\(?:leq?|geq?|neq?|lt|gt|equiv|in|notin|mid|subset|subseteq|supset|triangle|"
    r"angle|parallel|perp|cong|sim)(?![A-Za-z])"
)
_WORD_RE = re.compile(r"\b[A-Za-z]{4,}\b")
_COMMAND_RE = re.compile(r"\\[A-Za-z]+")


def restates_a_claim(candidate: str) -> bool:
    """Whether a proof problem's gold is a statement (a relation, an object, words), not a value.

    >>> restates_a_claim("a^2 + b^2 \\leq 2"), restates_a_claim("\\triangle ABC")
    (True, True)
    >>> restates_a_claim("\\frac{\\sqrt{3}}{3}"), restates_a_claim("2n + 1")
    (False, False)
    """
    return bool(_CLAIM_RE.search(candidate) or _WORD_RE.search(_COMMAND_RE.sub(" ", candidate)))


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
    if _PROOF_RE.search(problem) and restates_a_claim(candidate):
        return Gold(None, "proof", candidate)
    boxed = f"\\boxed{{{candidate}}}"
    itself = score_answer(boxed, candidate)
    if itself.score != 1.0 or itself.reason.startswith("gold unparseable"):
        return Gold(None, "unparseable", candidate)
    if all(score_answer(f"\\boxed{{{s}}}", candidate).score == 1.0 for s in ("0", "1")):
        return Gold(None, "accepts_anything", candidate)
    return Gold(candidate, CHECKABLE, candidate)

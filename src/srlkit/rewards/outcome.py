"""The outcome reward: is the final answer right? One scoring function for RLVR and evaluation.

:func:`score_answer` is the only place an answer is judged, so the RLVR reward and the
evaluation numbers can never disagree. It extracts the final answer (:func:`extract_answer`),
then asks math-verify whether it equals the gold answer, gold first as math-verify requires.
The judge runs in a child process with a hard time limit (:mod:`srlkit.rewards.judge`), so it
is safe from any thread and no answer can stall training; only LaTeX parsing is used, so model
text is never executed.

>>> extract_answer("so the total is \\\\boxed{\\\\frac{3}{4}}.")
'\\\\frac{3}{4}'
>>> extract_answer("Natalia sold 48 + 24 = 72 clips.\\n#### 72")
'72'
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from srlkit.data.answers import BOX_COMMANDS, MAX_ANSWER_CHARS, gsm8k_answer, last_boxed
from srlkit.rewards.format import THINK_CLOSE, THINK_OPEN, completion_text
from srlkit.rewards.judge import default_pool, judge_answer, overflow_ceiling

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT_S = 5.0

# Not glued to a word or another number: "-sepehr2010" signs a solution, it is not an answer.
_NUMBER_RE = re.compile(r"(?<![\w.])-?\d+(?:,\d{3})*(?:\.\d+)?(?:/\d+)?")
_TEXTBF_RE = re.compile(r"\\(?:textbf|mathbf)\{([^{}]*)\}")
_PAREN_INT_RE = re.compile(r"^\((\d+)\)$")
_BARE_POINT_RE = re.compile(r"(\d)\.(?!\d)")


@dataclass(frozen=True)
class OutcomeScore:
    """A verdict: ``score`` 1.0 / 0.0, or None when the gold cannot be parsed (and the answer is not identical text)."""

    score: float | None
    extracted: str | None
    reason: str


def _last_number(text: str) -> str | None:
    last = None
    for last in _NUMBER_RE.finditer(text):
        pass
    return last.group(0) if last else None


def extract_answer(text: str) -> str | None:
    """The final answer in ``text``: last ``\\boxed{}``, else GSM8K ``#### N``, else the last number.

    Returns None when there is none. Linear in ``len(text)``; never raises on a string.
    """
    boxed = last_boxed(text)
    if boxed:
        return boxed
    return gsm8k_answer(text) or _last_number(text)


def normalize_answer(answer: str) -> str:
    """Undo notations the LaTeX parser rejects but whose meaning is plain.

    ``\\textbf{(073)}`` (AIME answers written bold, in parentheses) becomes ``073``, and a
    number with a bare decimal point (``-1./3``, Minerva) loses the point. Applied to gold and
    prediction alike, so it cannot favour either.
    """
    answer = _TEXTBF_RE.sub(r"\1", answer).strip()
    answer = _PAREN_INT_RE.sub(r"\1", answer)
    return _BARE_POINT_RE.sub(r"\1", answer)


def _gold_text(gold: Any) -> str | None:
    """The gold answer as a string; worked solutions (``#### N`` or ``\\boxed``) are reduced to it."""
    if gold is None or isinstance(gold, bool):
        return None
    if isinstance(gold, float) and gold.is_integer():
        gold = int(gold)
    text = str(gold).strip()
    if "####" in text or any(cmd in text for cmd in BOX_COMMANDS):
        text = extract_answer(text) or ""
    return normalize_answer(text) or None


def _outside_think(text: str) -> str:
    """``text`` without its complete ``<think>...</think>`` blocks.

    A find loop rather than a lazy regex, which would rescan to the end from every unclosed
    ``<think>`` (quadratic on hostile output).
    """
    parts, pos = [], 0
    while True:
        start = text.find(THINK_OPEN, pos)
        end = text.find(THINK_CLOSE, start + len(THINK_OPEN)) if start >= 0 else -1
        if end < 0:
            parts.append(text[pos:])
            return " ".join(parts)
        parts.append(text[pos:start])
        pos = end + len(THINK_CLOSE)


def _final_text(completion: Any) -> str:
    """The completion's text outside think blocks if an answer is there, else the whole text."""
    text = completion_text(completion)
    outside = _outside_think(text)
    return outside if extract_answer(outside) is not None else text


def score_answer(
    completion_text: Any, gold: Any, timeout_s: float = DEFAULT_TIMEOUT_S
) -> OutcomeScore:
    """Judge a completion's final answer against ``gold``; never raises on model output.

    ``completion_text`` may be a string or TRL's conversational form; ``gold`` a string
    (a bare answer or a worked solution with ``#### N`` / ``\\boxed{}``) or a number. A judge
    that exceeds ``timeout_s`` scores 0.0 with reason ``"timeout ..."``.
    """
    gold_answer = _gold_text(gold)
    if gold_answer is None:
        return OutcomeScore(None, None, "gold answer missing")
    try:
        text = _final_text(completion_text)
    except TypeError as err:
        return OutcomeScore(0.0, None, f"bad completion: {err}")
    extracted = extract_answer(text)
    if extracted is None:
        verdict = judge_answer(gold_answer, gold_answer, timeout_s)
        score = None if verdict["score"] is None else 0.0
        return OutcomeScore(score, None, verdict["reason"] if score is None else "no answer found")
    if len(extracted) > MAX_ANSWER_CHARS:
        return OutcomeScore(0.0, extracted[:MAX_ANSWER_CHARS], "answer too long")
    prediction = normalize_answer(extracted)
    verdict = judge_answer(gold_answer, prediction, timeout_s)
    if verdict["score"] is None and _same_text(gold_answer, prediction):
        # math-verify cannot read this gold (Minerva: "np.arcsin(10/13)", "E_{1},E_{2}"), but an
        # answer written the same way is right; anything else stays unjudgeable (None).
        return OutcomeScore(1.0, extracted, "gold unparseable; identical text")
    return OutcomeScore(verdict["score"], extracted, verdict["reason"])


def _same_text(gold: str, prediction: str) -> bool:
    """Equal up to white space and surrounding ``$``: the fallback for golds no parser reads."""
    return "".join(gold.strip("$").split()) == "".join(prediction.strip("$").split())


def score_answers(
    completions: Sequence[Any], golds: Sequence[Any], timeout_s: float = DEFAULT_TIMEOUT_S
) -> list[OutcomeScore]:
    """:func:`score_answer` for many pairs at once, one judge process per CPU in parallel."""
    if len(completions) != len(golds):
        raise ValueError(f"{len(completions)} completions but {len(golds)} gold answers")
    # Threads up to the pool's overflow ceiling: with only max_workers threads, answers queued
    # here would wait behind slow ones without the pool ever seeing them.
    workers = min(len(completions), overflow_ceiling(default_pool().max_workers))
    if workers <= 1:
        return [score_answer(c, g, timeout_s) for c, g in zip(completions, golds)]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(
            pool.map(
                lambda pair: score_answer(pair[0], pair[1], timeout_s), zip(completions, golds)
            )
        )


def outcome_reward(
    completions: Sequence[Any],
    answer: Sequence[Any],
    timeout_s: float = DEFAULT_TIMEOUT_S,
    **kwargs: Any,
) -> list[float | None]:
    """TRL reward function over the dataset column ``answer``: 1.0 right, 0.0 wrong.

    None (which TRL ignores when weighting rewards) when the gold answer cannot be parsed;
    those are counted and logged, since they silently shrink the training signal.
    """
    scores = [result.score for result in score_answers(completions, answer, timeout_s)]
    n_none = sum(s is None for s in scores)
    if n_none:
        logger.warning(
            "outcome reward: %d of %d gold answers could not be parsed", n_none, len(scores)
        )
    return scores

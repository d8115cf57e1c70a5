"""Verify and filter teacher outputs: measure once, decide cheaply, count every drop.

Measuring (:func:`measure`) happens once per response, in the worker that received it, and is
stored with the response: the step parse, the answer check (a math-verify call in a child
process, the slow part) and, for rewrites, faithfulness. Deciding (:func:`decide`) applies the
thresholds of :class:`FilterOptions` to those numbers, so a rerun with other thresholds costs
no judge call and a fully cached rerun is fast.

Faithfulness of a rewrite (documented and measured in docs/teacher.md): the share of the
rewrite's *math items* that the original contains. Items are the formulas of the step bodies
(``$...$``, ``\\[...\\]``, ``\\(...\\)``, ``$$...$$``) and the numbers written outside them. Variable
names (``$x$``) and single digits are not items: they occur in every solution. A formula
counts as found when its normalised text (spaces, ``\\left``/``\\right``, spacing
commands removed, ``x^{2}`` = ``x^2``, ``\\dfrac`` = ``\\frac``) occurs in the normalised original, or when it holds
a number of two or more digits and every number in it occurs among the original's numbers;
a bare number when the original has it.
A rewrite that solves anew, or belongs to another problem, brings formulas and numbers the
original does not have.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from srlkit.data.schema import Step
from srlkit.data.segment import split_numbered
from srlkit.rewards.outcome import last_boxed, score_answer

MEASURE_VERSION = 4  # 4: think blocks are not steps
_LABEL_RE = re.compile(r"^\s*(?:\*\*)?SOLUTION:?(?:\*\*)?[ \t]*$", re.IGNORECASE | re.MULTILINE)
_MATH_RE = re.compile(
    r"\$\$(.+?)\$\$|\\\[(.+?)\\\]|\\\((.+?)\\\)|(?<![\\$])\$(?!\$)(.+?)(?<!\\)\$", re.DOTALL
)
_OPENER_RE = re.compile(r"\$\$|\\\[|\\\(|(?<![\\$])\$(?!\$)")
_CLOSERS = {"$$": "$$", "\\[": "\\]", "\\(": "\\)"}
_NUMBER_RE = re.compile(r"\d+(?:\.\d+)?")
_NOISE_RE = re.compile(r"\\left|\\right|\\[,;:! ]|\\displaystyle|\\limits|\s+")
_BOXED_RE = re.compile(r"\\boxed\s*\{((?:[^{}]|\{[^{}]*\})*)\}")
_SCRIPT_RE = re.compile(r"([\^_])\{(\w)\}")  # x^{2} is x^2


_THINK_RE = re.compile(r"<think>.*?</think>", re.DOTALL)


def parse_steps(text: str) -> list[Step]:
    """The numbered steps after the ``SOLUTION:`` label (or in the whole text without one).

    ``<think>...</think>`` blocks are removed first: a reasoning teacher's monologue, or a
    student's (``srl loop`` samples solutions from the model it trains), is not an expert step,
    and left in it would become a step of its own before step 1.
    """
    text = _THINK_RE.sub("", text)
    labels = list(_LABEL_RE.finditer(text))
    body = text[labels[-1].end() :] if labels else text
    return split_numbered(body.replace("\r\n", "\n"))


def _norm_math(text: str) -> str:
    text = _SCRIPT_RE.sub(r"\1\2", _NOISE_RE.sub("", text))
    return text.replace("\\dfrac", "\\frac").replace("\\tfrac", "\\frac")


def _formula_spans(text: str) -> list[tuple[int, int, int, int]]:
    """``(start, end, content_start, content_end)`` of every formula, left to right.

    The matches of ``_MATH_RE.finditer`` (kept as the definition, and checked equal in the
    tests), found in linear time: the regex retries a lazy ``(.+?)`` to the end of the text
    for every opener without a closer (``\\[`` written 70,000 times took 144 s). Here each
    opener looks for its closer once; an opener without one means no later opener of that
    kind has one either.
    """
    spans: list[tuple[int, int, int, int]] = []
    dead: set[str] = set()
    pos = 0
    while True:
        m = _OPENER_RE.search(text, pos)
        if m is None:
            return spans
        opener, start = m.group(), m.start()
        end = -1 if opener in dead else _closer(text, opener, start)
        if end < 0:
            dead.add(opener)
            pos = start + 1
            continue
        width = 1 if opener == "$" else 2
        spans.append((start, end + width, start + width, end))
        pos = end + width


def _closer(text: str, opener: str, start: int) -> int:
    """Where the closer of the formula opened at ``start`` begins, or -1 when there is none."""
    first = start + len(opener) + 1  # the content holds at least one character
    if opener != "$":
        return text.find(_CLOSERS[opener], first)
    end = text.find("$", first)
    while end != -1 and text[end - 1] == "\\":
        end = text.find("$", end + 1)
    return end


def math_items(text: str) -> tuple[list[str], list[str]]:
    """The formulas of ``text`` and the numbers written outside them."""
    spans = _formula_spans(text)
    formulas = [text[a:b] for _, _, a, b in spans]
    cuts = [0, *(i for s, e, _, _ in spans for i in (s, e)), len(text)]
    prose = " ".join(text[cuts[k] : cuts[k + 1]] for k in range(0, len(cuts), 2))
    return formulas, _NUMBER_RE.findall(prose)


def faithfulness(rewrite: str, original: str) -> tuple[float | None, int]:
    """Share of the rewrite's math items found in the original, and how many items there were.

    None when the rewrite has no math items at all (nothing to check).

    >>> faithfulness("1. **Add** $2+3=5$", "We get $2 + 3 = 5$.")
    (1.0, 1)
    >>> faithfulness("1. **Add** $7 \\\\cdot 6 = 42$", "We get $2 + 3 = 5$.")
    (0.0, 1)
    """
    formulas, numbers = math_items(
        _BOXED_RE.sub(r"\1", rewrite)
    )  # \boxed{} is our format, not theirs
    # Uninformative items are not counted: variable names ($x$) and single digits occur in
    # every solution, so they would make any rewrite look faithful to any original.
    formulas = [f for f in (_norm_math(f) for f in formulas) if len(f) > 2]
    numbers = [n for n in numbers if len(n) > 1]
    total = len(formulas) + len(numbers)
    if total == 0:
        return None, 0
    original = _BOXED_RE.sub(r"\1", original)
    original_norm = _norm_math(original.replace("$", ""))
    original_numbers = set(_NUMBER_RE.findall(original))
    found = sum(1 for n in numbers if n in original_numbers)
    verdicts: dict[str, bool] = {}  # each distinct formula is searched for once
    for formula in formulas:
        if formula not in verdicts:
            nums = _NUMBER_RE.findall(formula)
            informative = any(len(n) > 1 for n in nums)
            verdicts[formula] = formula in original_norm or (
                informative and all(n in original_numbers for n in nums)
            )
        found += verdicts[formula]
    return found / total, total


def measure(
    text: str, gold: str | None, original: str | None = None, max_chars: int | None = None
) -> dict[str, Any]:
    """Everything the filters need about one response, computed once (stored in the cache).

    A response longer than ``max_chars`` is dropped as too long whatever else it holds: it is
    counted in steps and characters only (no answer check, no faithfulness, no stored parse),
    so a huge reply costs neither judge time nor cache space.
    """
    steps = parse_steps(text)
    out: dict[str, Any] = {
        "version": MEASURE_VERSION,
        "steps": len(steps),
        "max_step_chars": max((len(s.body) + len(s.title) for s in steps), default=0),
        "chars": len(text),
    }
    if max_chars is not None and len(text) > max_chars:
        return out
    out["parsed"] = [[s.title, s.body] for s in steps]  # stored: a cached rerun parses nothing
    if gold is not None:
        if last_boxed(text) is None:
            # Our prompts ask for \boxed{}; the scorer's last-number fallback would read a step
            # number ("2. **Check** ...") as the answer.
            out.update(answer_score=0.0, answer_reason="no \\boxed{} answer", extracted=None)
        else:
            verdict = score_answer(text, gold)
            out.update(
                answer_score=verdict.score,
                answer_reason=verdict.reason,
                extracted=verdict.extracted,
            )
    if original is not None:
        # Step bodies only: the numbering and the titles are the format we asked for.
        bodies = "\n".join(s.body for s in steps) if steps else text
        score, items = faithfulness(bodies, original)
        out.update(faithfulness=score, math_items=items)
    return out


@dataclass(frozen=True)
class FilterOptions:
    """Thresholds of :func:`decide` (the config fields of the same names)."""

    min_steps: int = 2
    max_steps: int = 40
    max_chars: int = 30000
    max_step_chars: int = 6000
    min_faithfulness: float = 0.6
    check_answer: bool = True


def decide(finish_reason: str, m: dict[str, Any], options: FilterOptions) -> str | None:
    """The drop reason of a measured response, or None when it is kept (duplicates aside)."""
    if finish_reason == "length":
        return "truncated"
    if m["steps"] < options.min_steps:
        return "too_few_steps"
    if m["steps"] > options.max_steps:
        return "too_many_steps"
    if m["chars"] > options.max_chars or m["max_step_chars"] > options.max_step_chars:
        return "too_long"
    if options.check_answer and "answer_score" in m:
        if m.get("extracted") is None:
            return "no_answer"
        if m["answer_score"] != 1.0:
            return "wrong_answer"
    faithful = m.get("faithfulness")
    if faithful is not None and faithful < options.min_faithfulness:
        return "unfaithful"
    return None


def dedup_key(task: str, steps: list[Step]) -> str:
    """Two trajectories are duplicates when the task and every step agree up to white space and case."""
    text = "\n".join([task, *(f"{s.title}\t{s.body}" for s in steps)])
    return " ".join(text.lower().split())

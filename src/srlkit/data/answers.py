"""Reading a final answer out of a solution text: the last ``\\boxed{}`` and GSM8K's ``####``.

These readers live with the data model because both sides of srlkit need them: data loaders
and benchmarks read *gold* answers with them, and the outcome reward and evaluation read
*model* answers with the same functions, so gold and prediction can never be read differently.
Both are linear in the text's length and never raise on a string (they run on model output).
"""

from __future__ import annotations

import re

MAX_ANSWER_CHARS = 1000
"""Longer answers are treated as over-long: no real answer is that long, and the judge's cost
grows quickly with expression size. A box still open this far after its brace is returned cut
at this length, so the caller can refuse it without scanning a megabyte."""

BOX_COMMANDS = ("\\boxed", "\\fbox")
_MAX_BOXES_TRIED = 16
_BARE_BOX_RE = re.compile(r" +([^\s$]+)")
GSM8K_MARK = "####"
_THOUSANDS_RE = re.compile(r"-?\d{1,3}(?:,\d{3})+(?:\.\d+)?")


def _boxed_content(text: str, start: int) -> str | None:
    """Content of the box command at ``start``: ``\\boxed{...}`` (balanced) or ``\\boxed 5``."""
    i = start + (len("\\boxed") if text.startswith("\\boxed", start) else len("\\fbox"))
    brace = i
    while brace < len(text) and text[brace] in " \t":  # ``\boxed {5}`` is ``\boxed{5}``
        brace += 1
    if brace < len(text) and text[brace] == "{":
        depth = 0
        window_end = min(len(text), brace + MAX_ANSWER_CHARS + 2)
        for j in range(brace, window_end):
            if text[j] == "{":
                depth += 1
            elif text[j] == "}":
                depth -= 1
                if depth == 0:
                    return text[brace + 1 : j].strip()
        # Still open after the longest answer we judge: report it as over-long (the caller
        # refuses it) rather than scanning further; open at the very end: unclosed.
        return text[brace + 1 : window_end] if window_end < len(text) else None
    if i < len(text) and text[i] == " ":
        match = _BARE_BOX_RE.match(text[i : i + MAX_ANSWER_CHARS])
        return match.group(1) if match else None
    return None


def last_boxed(text: str) -> str | None:
    """The last well-formed ``\\boxed{}``/``\\fbox{}`` content, braces balanced.

    An unclosed or empty last box falls back to the one before (up to 16 boxes are tried).
    The one box reader of srlkit: gold answers (data loaders, benchmarks) and model answers
    (rewards, evaluation) are read alike.

    >>> last_boxed(r"so $\\boxed{\\frac{1}{2}}$ and not \\boxed{3")
    '\\\\frac{1}{2}'
    >>> last_boxed("no box here") is None
    True
    """
    end = len(text)
    for _ in range(_MAX_BOXES_TRIED):
        start = max(text.rfind(cmd, 0, end) for cmd in BOX_COMMANDS)
        if start < 0:
            return None
        content = _boxed_content(text, start)
        if content:
            return content
        end = start
    return None


def gsm8k_answer(text: str) -> str | None:
    """The answer after the last ``####`` of a GSM8K-style solution, or None when there is none.

    The rest of that line, stripped, with a trailing full stop removed and thousands separators
    dropped from a number (``#### 1,000.`` reads ``1000``; ``#### 1, 2`` stays as it is). One ``rfind``: linear however many marks the text holds.

    >>> gsm8k_answer("She has 3 + 4 = 7 apples.\\n#### 7")
    '7'
    >>> gsm8k_answer("#### 1,250.\\n")
    '1250'
    >>> gsm8k_answer("#### \\n") is None
    True
    """
    start = text.rfind(GSM8K_MARK)
    if start < 0:
        return None
    line_end = text.find("\n", start)
    line = text[start + len(GSM8K_MARK) : line_end if line_end >= 0 else len(text)]
    answer = line.strip().rstrip(".").strip()
    if _THOUSANDS_RE.fullmatch(answer):
        answer = answer.replace(",", "")
    return answer or None


def remove_gsm8k_answer_lines(text: str) -> str:
    """``text`` without its ``#### answer`` lines (the answer is kept separately, not as a step).

    >>> remove_gsm8k_answer_lines("3 + 4 = 7\\n#### 7")
    '3 + 4 = 7\\n'
    """
    return "".join(
        line for line in text.splitlines(keepends=True) if not line.lstrip().startswith(GSM8K_MARK)
    )

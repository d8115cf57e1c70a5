"""Where a math solution may be cut: never inside math, an environment, braces or a figure.

Rule-based step cutting fails on real prose mostly by cutting *inside* something: display
math with blank lines in it becomes a step ``$$`` and a step ``x = 2 $$``; an ``align``
environment loses its ``\\end``. This module finds the protected spans of a text in one
pass over its LaTeX tokens, so a splitter can ask whether a position is safe:

- inline and display math: ``$...$``, ``$$...$$``, ``\\(...\\)``, ``\\[...\\]``;
- environments ``\\begin{X} ... \\end{X}`` (nested), and brace groups ``{...}``;
- Asymptote figures ``[asy] ... [/asy]`` (MATH solutions embed them).

Escaped characters (``\\$``, ``\\{``) open nothing. A span left open at the end of the text
(unbalanced source) is protected to the end: cutting there could only make fragments.

>>> spans = protected_spans("We get $x =\\n 2$ and\\n\\\\[y\\\\]")
>>> [s for s in spans]
[(7, 15), (20, 25)]
>>> is_safe(spans, 10), is_safe(spans, 17)
(False, True)
"""

from __future__ import annotations

import re
from bisect import bisect_right

_TOKEN_RE = re.compile(
    r"\\\\|\\[$%{}]|\$\$|\$|\\\[|\\\]|\\\(|\\\)|\\begin\{[^{}\n]*\}|\\end\{[^{}\n]*\}|\{|\}|\[asy\]|\[/asy\]"
)
_CLOSERS = {"$$": "$$", "$": "$", "\\[": "\\]", "\\(": "\\)", "[asy]": "[/asy]"}


def protected_spans(text: str) -> list[tuple[int, int]]:
    """Sorted, disjoint ``(start, end)`` spans that no cut may fall strictly inside."""
    return _scan(text)[0]


def _scan(text: str) -> tuple[list[tuple[int, int]], bool]:
    """The protected spans, and whether the last one is still open at the end of the text."""
    spans: list[tuple[int, int]] = []
    mode: str | None = None  # the open math delimiter or "[asy]"
    envs = braces = 0
    start = -1
    for m in _TOKEN_RE.finditer(text):
        tok = m.group(0)
        was_protected = mode is not None or envs or braces
        if mode == "[asy]":
            if tok == "[/asy]":
                mode = None
        elif tok == "\\\\" or (len(tok) == 2 and tok[0] == "\\" and tok[1] in "$%{}"):
            continue
        elif mode is not None and tok == _CLOSERS[mode]:
            mode = None
        elif mode is None and tok in _CLOSERS:
            mode = tok
        elif tok.startswith("\\begin"):
            envs += 1
        elif tok.startswith("\\end"):
            envs = max(0, envs - 1)
        elif tok == "{":
            braces += 1
        elif tok == "}":
            braces = max(0, braces - 1)
        protected = mode is not None or envs or braces
        if protected and not was_protected:
            start = m.start()
        elif was_protected and not protected:
            spans.append((start, m.end()))
    still_open = bool(mode is not None or envs or braces)
    if still_open:
        spans.append((start, len(text)))
    return spans, still_open


def is_safe(spans: list[tuple[int, int]], pos: int) -> bool:
    """True when a cut at ``pos`` (between ``text[pos-1]`` and ``text[pos]``) splits no span."""
    i = bisect_right(spans, (pos, 1 << 62)) - 1
    return i < 0 or not (spans[i][0] < pos < spans[i][1])


def balanced(text: str) -> bool:
    """Every math delimiter, environment and brace that ``text`` opens, it closes."""
    return not _scan(text)[1]


def without_math(text: str) -> str:
    """``text`` with every protected span removed (what is left is prose and punctuation)."""
    out, pos = [], 0
    for start, end in protected_spans(text):
        out.append(text[pos:start])
        pos = end
    out.append(text[pos:])
    return "".join(out)

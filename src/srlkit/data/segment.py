"""Cutting a written math solution into steps, and saying how it was cut.

SRL's reward compares one step at a time, so the granularity of a "step" is the main choice a
user makes about their data. Solutions in the wild come in a handful of shapes, tried in this
order by ``method="auto"`` (the first that finds at least two steps wins):

- ``numbered``: ``1. **Title** body`` lines, the format of the paper's s1K-1.1 solutions.
  Only a run of consecutive numbers 1, 2, 3, ... counts, so a numbered list nested inside a
  step body (which restarts at 1) does not split the step.
- ``step_heading``: ``Step 1: ...``, ``**Step 1.** ...``, ``### Step 1 - ...``.
- ``markdown``: markdown headings (``## Title``), the text under each one being its body.
- ``paragraphs``: blocks separated by blank lines (the fallback; display math inside a
  paragraph stays with it).

Two more are chosen explicitly (GSM8K's loader uses the first): ``lines`` (one step per
non-blank line) and ``regex`` (a user pattern that matches where each step *starts*; a named
group ``title`` becomes the step title).

>>> seg = segment_solution("1. **Add** 2 + 3 = 5\\n2. **Double** 2 * 5 = 10")
>>> seg.method, [(s.title, s.body) for s in seg.steps]
('numbered', [('Add', '2 + 3 = 5'), ('Double', '2 * 5 = 10')])
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from srlkit.data.schema import Step

METHODS = ("auto", "numbered", "step_heading", "markdown", "paragraphs", "lines", "regex")
AUTO_ORDER = ("numbered", "step_heading", "markdown", "paragraphs")

_NUMBERED_RE = re.compile(
    r"^[ \t]{0,3}(\d{1,3})[.)][ \t]+\*\*(.+?)\*\*[ \t]*:?[ \t]*(.*)$", re.MULTILINE
)
_STEP_RE = re.compile(
    r"^[ \t]*(?:#{1,6}[ \t]*)?(?:\*\*)?Step[ \t]+(\d{1,3})(?:\*\*)?[ \t]*[:.)\-\u2013\u2014]?[ \t]*(.*)$",
    re.MULTILINE | re.IGNORECASE,
)
# The title is the rest of the line, its closing ``#``s stripped in Python: a lazy ``(.*?)``
# followed by ``[ \t#]*$`` backtracked quadratically over a line like ``# # # # ... x``.
_MARKDOWN_RE = re.compile(r"^[ \t]{0,3}#{1,6}(?:[ \t]+([^\n]*))?[ \t#]*$", re.MULTILINE)
_SOLUTION_LABEL_RE = re.compile(r"^\s*(?:\*\*)?SOLUTION:?(?:\*\*)?\s*$", re.IGNORECASE)
_PARAGRAPH_SPLIT_RE = re.compile(r"\n[ \t]*\n")


@dataclass(frozen=True)
class Segmentation:
    """The steps found and the method that found them (reported in metadata and stats)."""

    steps: list[Step]
    method: str


def segment_solution(
    text: str, method: str = "auto", pattern: str | re.Pattern[str] | None = None
) -> Segmentation:
    """Cut ``text`` into steps with ``method`` (see the module docstring); never raises on content.

    A solution that yields fewer than two steps is returned as it is; dropping it (with that
    reason) is the caller's decision.
    """
    if method not in METHODS:
        raise ValueError(
            f"unknown segmentation method {method!r}; expected one of {', '.join(METHODS)}"
        )
    text = text.replace("\r\n", "\n").strip()
    if method == "regex":
        if pattern is None:
            raise ValueError("segmentation method 'regex' needs a pattern (--step-regex)")
        return Segmentation(split_by_regex(text, pattern), "regex")
    if method != "auto":
        return Segmentation(_SPLITTERS[method](text), method)
    best = Segmentation([], "paragraphs")
    for name in AUTO_ORDER:
        steps = _SPLITTERS[name](text)
        if len(steps) >= 2:
            return Segmentation(steps, name)
        if len(steps) > len(best.steps):
            best = Segmentation(steps, name)
    return best


def _clean_title(title: str) -> str:
    return title.strip().strip("*").strip().rstrip(":").strip()


def _preamble_step(text: str) -> list[Step]:
    """Text before the first heading: a step of its own unless it is only a ``SOLUTION:`` label."""
    text = text.strip()
    if not text or _SOLUTION_LABEL_RE.match(text):
        return []
    return [Step(body=text)]


def _consecutive(matches: list[re.Match[str]]) -> list[re.Match[str]]:
    """Keep the headings numbered 1, 2, 3, ... in order (nested lists restart and are skipped)."""
    kept: list[re.Match[str]] = []
    for m in matches:
        if int(m.group(1)) == len(kept) + 1:
            kept.append(m)
    return kept


def _split_at(text: str, starts: list[re.Match[str]]) -> list[tuple[re.Match[str], str]]:
    """Pair each heading match with the text that follows it up to the next heading."""
    out = []
    for i, m in enumerate(starts):
        end = starts[i + 1].start() if i + 1 < len(starts) else len(text)
        out.append((m, text[m.end() : end]))
    return out


def split_numbered(text: str) -> list[Step]:
    """``1. **Title** body`` steps (the paper's format)."""
    heads = _consecutive(list(_NUMBERED_RE.finditer(text)))
    if not heads:
        return []
    steps = _preamble_step(text[: heads[0].start()])
    for m, rest in _split_at(text, heads):
        body = _join(m.group(3), rest)
        steps.append(Step(title=_clean_title(m.group(2)), body=body))
    return [s for s in steps if s.title or s.body]


def _join(first_line: str, rest: str) -> str:
    """The heading line's remainder and the following lines, with indentation of the block removed."""
    lines = rest.split("\n")
    indents = [len(ln) - len(ln.lstrip(" ")) for ln in lines if ln.strip()]
    cut = min(indents) if indents else 0
    body = "\n".join(ln[cut:] for ln in lines).strip()
    first_line = first_line.strip()
    if first_line and body:
        return f"{first_line}\n{body}"
    return first_line or body


def split_step_headings(text: str) -> list[Step]:
    """``Step N:`` headings; the rest of the heading line is the title when a body follows."""
    heads = _consecutive(list(_STEP_RE.finditer(text)))
    if not heads:
        return []
    steps = _preamble_step(text[: heads[0].start()])
    for m, rest in _split_at(text, heads):
        title, body = _clean_title(m.group(2)), _join("", rest)
        steps.append(Step(title=title, body=body) if body else Step(body=title))
    return [s for s in steps if s.title or s.body]


def split_markdown(text: str) -> list[Step]:
    """Markdown headings as titles, the text under each as its body (empty sections are skipped)."""
    heads = list(_MARKDOWN_RE.finditer(text))
    if not heads:
        return []
    steps = _preamble_step(text[: heads[0].start()])
    for m, rest in _split_at(text, heads):
        body = _join("", rest)
        if body:
            title = (m.group(1) or "").rstrip(" \t#")
            steps.append(Step(title=_clean_title(title), body=body))
    return steps


def split_paragraphs(text: str) -> list[Step]:
    """Blank-line separated blocks."""
    return [Step(body=p.strip()) for p in _PARAGRAPH_SPLIT_RE.split(text) if p.strip()]


def split_lines(text: str) -> list[Step]:
    """One step per non-blank line (GSM8K writes one calculation per line)."""
    return [Step(body=ln.strip()) for ln in text.split("\n") if ln.strip()]


def split_by_regex(text: str, pattern: str | re.Pattern[str]) -> list[Step]:
    """Split where ``pattern`` matches (multiline mode); a ``title`` group names the step."""
    rx = re.compile(pattern, re.MULTILINE) if isinstance(pattern, str) else pattern
    heads = [m for m in rx.finditer(text) if m.end() > m.start() or m.start() > 0]
    if not heads:
        return [Step(body=text)] if text else []
    steps = _preamble_step(text[: heads[0].start()])
    for m, rest in _split_at(text, heads):
        title = _clean_title(m.groupdict().get("title") or "")
        body = rest.strip() if "title" in rx.groupindex else (m.group(0) + rest).strip()
        if title or body:
            steps.append(Step(title=title, body=body))
    return steps


_SPLITTERS = {
    "numbered": split_numbered,
    "step_heading": split_step_headings,
    "markdown": split_markdown,
    "paragraphs": split_paragraphs,
    "lines": split_lines,
}

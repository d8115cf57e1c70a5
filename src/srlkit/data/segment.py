"""Cutting a written math solution into steps, and saying how it was cut.

SRL's reward compares one step at a time, so the granularity of a "step" is the main choice a
user makes about their data. Solutions in the wild come in a handful of shapes, tried in this
order by ``method="auto"`` (the first that finds at least two steps wins):

- ``numbered``: ``1. **Title** body`` lines, the format of the paper's s1K-1.1 solutions.
  Only a run of consecutive numbers 1, 2, 3, ... counts, so a numbered list nested inside a
  step body (which restarts at 1) does not split the step.
- ``step_heading``: ``Step 1: ...``, ``**Step 1.** ...``, ``### Step 1 - ...``.
- ``markdown``: markdown headings (``## Title``), the text under each one being its body.
- ``paragraphs``: blocks separated by blank lines outside math (display math with blank
  lines inside, an environment, a brace group stay whole).
- ``prose``: line-broken prose, as AoPS and MATH write solutions (sentences and formulas on
  their own lines, no blank lines, no numbering): one step per line outside math, or per
  sentence when that gives a single step. A formula line that continues an unfinished
  sentence ("Subtracting, we get" / ``$x = 2$``) joins it, and a line of delimiters only
  joins its neighbour.

No method cuts inside math (see :mod:`srlkit.data.mathspans`), and no step is only a
delimiter (``$$``, ``\\]``, ``{``): such a piece is joined to the step before it.

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

from srlkit.data.mathspans import is_safe, protected_spans, without_math
from srlkit.data.schema import Step

METHODS = ("auto", "numbered", "step_heading", "markdown", "paragraphs", "prose", "lines", "regex")
AUTO_ORDER = ("numbered", "step_heading", "markdown", "paragraphs", "prose")

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
_LINE_RE = re.compile(r"\n")
# A sentence ends at . ! ? followed by space and a capital, a formula or an opening bracket.
# (or right after a display formula that ends one: ``... = 2.\]Hence``).
_SENTENCE_END_RE = re.compile(
    r"(?<=[.!?])\s+(?=[A-Z$\\(\[])|(?<=[.!?]\\\])\s*(?=[A-Z])|(?<=[.!?]\$\$)\s*(?=[A-Z])"
)
_ABBREVIATIONS = ("e.g.", "i.e.", "etc.", "vs.", "cf.", "Mr.", "Mrs.", "Dr.", "St.", "Fig.", "Eq.")
_DELIMITERS_ONLY_RE = re.compile(r"^[\s$.,;:!?(){}\[\]\\~*-]*$")
_SENTENCE_DONE_RE = re.compile(r"[.!?](?:\s*\$*|\)|\*\*)?$")


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


def split_numbered(text: str, any_number: bool = False) -> list[Step]:
    """``1. **Title** body`` steps (the paper's format).

    Headings must be numbered 1, 2, 3, ... in order (a nested bold list restarting at 1 stays
    inside its step). ``any_number`` cuts at every heading whatever its number instead: for
    text whose only lists are its steps, as a model's own solution in the paper's format, where
    a heading numbered like the one before (``5.`` twice) is a slip of counting, not a sub-list.
    """
    matches = list(_NUMBERED_RE.finditer(text))
    heads = matches if any_number else _consecutive(matches)
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


def _safe_split(text: str, rx: re.Pattern[str], spans: list[tuple[int, int]]) -> list[str]:
    """``text`` cut at the matches of ``rx`` that fall outside every protected span."""
    pieces, pos = [], 0
    for m in rx.finditer(text):
        if is_safe(spans, m.start()) and is_safe(spans, m.end()):
            pieces.append(text[pos : m.start()])
            pos = m.end()
    pieces.append(text[pos:])
    return [p.strip() for p in pieces if p.strip()]


def _is_delimiter(piece: str) -> bool:
    return bool(_DELIMITERS_ONLY_RE.match(piece)) or bool(
        re.fullmatch(r"\\(?:begin|end)\{[^{}]*\}", piece)
    )


def _join_delimiters(pieces: list[str]) -> list[str]:
    """A piece of delimiters only (``$$``, ``\\]``, ``.``) joins the piece before it (or after)."""
    out: list[str] = []
    pending = ""
    for piece in pieces:
        if _is_delimiter(piece):
            if out:
                out[-1] = f"{out[-1]}\n{piece}"
            else:
                pending = f"{pending}\n{piece}".strip()
            continue
        out.append(f"{pending}\n{piece}".strip() if pending else piece)
        pending = ""
    return out or ([pending] if pending else [])


def split_paragraphs(text: str) -> list[Step]:
    """Blank-line separated blocks; blank lines inside math, environments or braces do not cut."""
    pieces = _safe_split(text, _PARAGRAPH_SPLIT_RE, protected_spans(text))
    return [Step(body=p) for p in _join_delimiters(pieces)]


def _sentences(line: str) -> list[str]:
    spans = protected_spans(line)
    pieces, pos = [], 0
    for m in _SENTENCE_END_RE.finditer(line):
        head = line[pos : m.start()]
        if not is_safe(spans, m.start()) or head.endswith(_ABBREVIATIONS):
            continue
        pieces.append(head)
        pos = m.end()
    pieces.append(line[pos:])
    return [p.strip() for p in pieces if p.strip()]


def _is_formula(piece: str) -> bool:
    """Only math (and punctuation) on this piece: a display formula line."""
    return not re.search(r"[A-Za-z0-9]", without_math(piece))


def _continues(piece: str) -> bool:
    """Starts like the rest of a sentence: a formula, or a lower-case word."""
    return _is_formula(piece) or bool(re.match(r"(?:\$|\\[(\[]|[a-z])", piece))


def _join_continuations(pieces: list[str]) -> list[str]:
    """A piece that continues an unfinished sentence ("we get" / ``$x = 2$``) joins it."""
    out: list[str] = []
    for piece in pieces:
        if out and _continues(piece) and not _SENTENCE_DONE_RE.search(out[-1]):
            out[-1] = f"{out[-1]}\n{piece}"
        else:
            out.append(piece)
    return out


def split_prose(text: str) -> list[Step]:
    """Line-broken prose: lines outside math (sentences when it is one line), continuations joined."""
    pieces = _join_continuations(
        _join_delimiters(_safe_split(text, _LINE_RE, protected_spans(text)))
    )
    if len(pieces) < 2:  # one line, or lines that all continue one another: cut at sentences
        pieces = _join_delimiters(_sentences(text))
    return [Step(body=p) for p in pieces]


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
    "prose": split_prose,
    "lines": split_lines,
}

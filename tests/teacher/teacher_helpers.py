"""Helpers for teacher tests: a faithful scripted "teacher" for the localhost chat server."""

from __future__ import annotations

import re

_SENTENCE_RE = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")


def numbered_from(original: str) -> str:
    """A faithful "teacher" rewrite: the original's sentences as numbered steps (at least 2)."""
    parts = [p.strip() for p in _SENTENCE_RE.split(original.strip()) if p.strip()]
    if len(parts) < 2:
        parts = [parts[0], "So the answer is as above."] if parts else ["Nothing.", "Nothing."]
    lines = [f"{i}. **Step {i}** {p.replace(chr(10), ' ')}" for i, p in enumerate(parts, start=1)]
    return "SOLUTION:\n" + "\n".join(lines)


def prompt_text(body: dict) -> str:
    return body["messages"][-1]["content"]


def original_of(body: dict) -> str:
    return prompt_text(body).split("ORIGINAL SOLUTION:", 1)[1]


def rewrite_responder(body: dict) -> str:
    return numbered_from(original_of(body))

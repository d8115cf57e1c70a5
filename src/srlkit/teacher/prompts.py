"""The teacher prompts: ours by default, any text file instead, versioned by content.

Why versioned by content: a cached response is only reusable for the exact prompt that
produced it. The version is the template's name plus the first 12 hex digits of its SHA-256,
so editing a prompt file starts a fresh cache key without the user having to think about it,
and the version recorded in every trajectory's metadata says which text produced it.

Placeholders are ``{problem}`` (both prompts) and ``{solution}`` (rewrite); they are replaced
literally (not with ``str.format``), because LaTeX is full of braces.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import cached_property
from importlib import resources
from pathlib import Path

from srlkit.io import DataError, read_text_file

TASKS = ("generate", "rewrite")
_PLACEHOLDER_RE = re.compile(r"\{problem\}|\{solution\}")
PLACEHOLDERS = {"generate": ("{problem}",), "rewrite": ("{problem}", "{solution}")}


@dataclass
class PromptTemplate:
    """A prompt text with its placeholders, and the version string that identifies it."""

    task: str
    text: str
    source: str  # "builtin" or the file it was read from

    @cached_property
    def version(self) -> str:
        digest = hashlib.sha256(self.text.encode("utf-8")).hexdigest()[:12]
        return f"{self.task}-{digest}"

    def render(self, problem: str, solution: str = "") -> str:
        """The user message for one problem (and, for rewrite, its original solution).

        One pass over the template: a solution that happens to contain ``{problem}`` (or a
        problem containing ``{solution}``) is inserted as written, never substituted again.

        >>> PromptTemplate("rewrite", "P: {problem} S: {solution}", "t").render("x", "{problem}")
        'P: x S: {problem}'
        """
        values = {"{problem}": problem.strip(), "{solution}": solution.strip()}
        return _PLACEHOLDER_RE.sub(lambda m: values[m.group()], self.text)


def load_prompt(task: str, path: str | Path | None = None) -> PromptTemplate:
    """Our prompt for ``task``, or the file at ``path`` (which must use the task's placeholders)."""
    if task not in TASKS:
        raise ValueError(f"unknown teacher task {task!r}; expected one of {', '.join(TASKS)}")
    if path is None:
        text = resources.files("srlkit.teacher").joinpath("prompts", f"{task}.txt")
        return PromptTemplate(task, text.read_text(encoding="utf-8").strip(), "builtin")
    text = read_text_file(path, "prompt file")
    missing = [p for p in PLACEHOLDERS[task] if p not in text]
    if missing:
        raise DataError(path, f"the {task} prompt must contain {' and '.join(missing)}")
    return PromptTemplate(task, text, str(path))

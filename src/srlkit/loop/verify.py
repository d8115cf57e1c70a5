"""Which sampled solutions enter the expert pool: the outcome check, and a task's process check.

Outcome verification is ``srl data generate``'s answer check (``score_answer`` against the
gold): every sampled solution that reaches it has the right final answer. That is the known
weakness of outcome-only filters (STaR and its kin): a right answer reached through a wrong
chain is kept, and training on it teaches the wrong chain. Where a task can check every step,
a *process check* judges the whole chain. ``srl loop`` always runs the process check when one
is named, so it can report how many solutions an outcome-only filter would have let in
wrongly; with ``--verifier process`` it also drops them.

A process check is a function ``(problem record, trajectory) -> reason | None`` registered by
name (:func:`register_process_check`); ``None`` means the chain is right. The built-in task's
check, ``chain``, compares every step with the expert's, which is exact for that task: each
step's equation is determined by the problem and the previous value.

Agents have no answer to check: an agent run counts as verified when its record says the task
was resolved (``resolved`` in SWE-Gym's and SWE-smith's records, ``target`` in nebius's: true
when the patch passed the tests; the agent loaders keep both in the metadata). :func:`resolved`
reads that flag for the trajectories of the pool's expert files.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from srlkit.data.schema import KIND_AGENT, Trajectory
from srlkit.data.segment import split_numbered

ProcessCheck = Callable[[dict[str, Any], Trajectory], str | None]
WRONG_CHAIN = "wrong_chain"
MISNUMBERED = "misnumbered_steps"
_PROCESS_CHECKS: dict[str, ProcessCheck] = {}
_NUMBER_RE = re.compile(r"^\d+\.\s*")


def register_process_check(name: str, check: ProcessCheck) -> ProcessCheck:
    """Make ``check`` available as ``--process_check NAME`` (a task of one's own registers its
    check on import, as benchmarks do)."""
    _PROCESS_CHECKS[name] = check
    return check


def process_check(name: str) -> ProcessCheck:
    """The check registered as ``name`` (a ValueError naming the known ones otherwise)."""
    if name not in _PROCESS_CHECKS:
        known = ", ".join(sorted(_PROCESS_CHECKS)) or "none"
        raise ValueError(f"unknown --process_check {name!r}; registered: {known}")
    return _PROCESS_CHECKS[name]


def _lines(text: str) -> list[str]:
    """Non-empty lines without their leading step number (``3. ``)."""
    return [_NUMBER_RE.sub("", line.strip()) for line in text.splitlines() if line.strip()]


def chain_check(problem: dict[str, Any], trajectory: Trajectory) -> str | None:
    """The built-in task's process check: every step is the expert's, in order.

    The expert's solution is the problem record's ``solution``. Steps are compared by what they
    write (title and equation), not by their numbers: a solution that numbers two steps alike
    writes the right chain, but the parser reads the second as part of the first, so it cannot
    be cut into the expert's steps; it is told apart (``misnumbered_steps``) from a wrong chain.
    """
    expert = _lines(problem["solution"])
    written = "\n".join(s.math_text(i) for i, s in enumerate(trajectory.steps, start=1))
    if _lines(written) != expert:
        return WRONG_CHAIN
    if len(trajectory.steps) != len(expert):
        return MISNUMBERED
    return None


register_process_check("chain", chain_check)


def renumbered(trajectory: Trajectory) -> Trajectory | None:
    """The trajectory cut at every ``N. **Title**`` heading, or None when that changes nothing.

    ``srl data generate`` cuts a reply at headings numbered 1, 2, 3, ... in order, so a solution
    that numbers two steps alike (``6.`` twice, then ``7.``) reads as one long step. In a
    student's own solution the headings are its steps (it writes no nested lists), and the
    number is format: the instance builder renumbers every step anyway. On the built-in task
    most of the student's right solutions have such a slip (counted in docs/loop.md).
    """
    text = "\n".join(s.math_text(i) for i, s in enumerate(trajectory.steps, start=1))
    steps = split_numbered(text, any_number=True)
    if [(s.title, s.body) for s in steps] == [(s.title, s.body) for s in trajectory.steps]:
        return None
    return replace(trajectory, steps=steps, metadata={**trajectory.metadata, "renumbered": True})


RESOLVED_FIELDS = ("resolved", "target")
"""Where agent records say whether the run solved its task (the first one present counts)."""


def resolved(trajectory: Trajectory) -> bool:
    """Whether an agent run counts as verified: its source record says the task was resolved.

    Math trajectories in the pool are expert solutions and always count. An agent run without
    a flag counts too (a demonstration set records no outcome); one whose flag is false (or
    ``"false"``, ``0``) does not.
    """
    names = [n for n in RESOLVED_FIELDS if n in trajectory.metadata]
    if trajectory.kind != KIND_AGENT or not names:
        return True
    flag = trajectory.metadata[names[0]]
    if isinstance(flag, str):
        return flag.strip().lower() in ("true", "1", "yes", "resolved")
    return bool(flag)

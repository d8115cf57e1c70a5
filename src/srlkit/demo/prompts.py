"""The demo's one conversation: ``srl eval``'s solve prompt, answered by a whole solution.

Why one: the student is warm-started on whole solutions in exactly the prompt it is evaluated
with (:func:`srlkit.evaluation.prompts.build_messages`), RLVR and R3 train on that prompt, and
SRL's step instances are that same prompt with the student's answer opened by the expert's
first steps: the data pipeline's ``continuation`` layout
(:func:`srlkit.data.instances.build_instances`). The student writes step k where it would in a
whole solution of its own, so what SRL teaches it about step k is what it uses when it solves.
With the paper layout (problem and earlier steps in a user turn after a system prompt) the
0.36M-parameter student kept two separate skills: SRL raised its next steps in that form and
left its own solutions where they were (docs/paper-table.md, trials 13-16).

The think block is empty: a step of this task needs no monologue (the equation the step writes
is the computation), and every thought token costs CPU time in a tiny model's rollouts. The
continuation format check accepts a step without one, as the paper allows.
"""

from __future__ import annotations

from collections.abc import Sequence

from srlkit.data.instances import InstanceOptions, build_instances
from srlkit.data.schema import Step, StepInstance, Trajectory
from srlkit.evaluation.prompts import DEFAULT_INSTRUCTION, build_messages

THINK_OPEN = "<think></think>\n"
"""What the student writes before its steps (an empty monologue)."""


def instance_options() -> InstanceOptions:
    """How the demo cuts trajectories into step instances: every step a target, continuing the
    student's own answer (which opens with its empty think block)."""
    return InstanceOptions(targets="all", layout="continuation", answer_opening=THINK_OPEN)


def step_instances(trajectories: Sequence[Trajectory]) -> list[StepInstance]:
    """All step instances of ``trajectories`` (one per expert step)."""
    options = instance_options()
    return [inst for traj in trajectories for inst in build_instances(traj, options)]


def solve_messages(question: str) -> list[dict[str, str]]:
    """Chat messages asking for a whole solution: exactly ``srl eval``'s default prompt."""
    return build_messages(question)


def prompt_texts() -> list[str]:
    """Every fixed text of the conversation (for the student's cache key and tokenizer corpus)."""
    return [DEFAULT_INSTRUCTION, THINK_OPEN]


def solve_completion(steps: Sequence[Step]) -> str:
    """The student's answer: an empty thought, then every numbered step, one per line."""
    return THINK_OPEN + "\n".join(step.math_text(i) for i, step in enumerate(steps, start=1))

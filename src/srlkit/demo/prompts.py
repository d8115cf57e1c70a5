"""The demo's conversations: ``srl eval``'s solve prompt, and the step instances built from it.

Evaluation, RLVR and R3 use the solve prompt (:func:`srlkit.evaluation.prompts.build_messages`).
SRL's step instances are that same prompt with the student's answer opened by the expert's
first steps: the data pipeline's ``continuation`` layout
(:func:`srlkit.data.instances.build_instances`). The student writes step k where it would in a
whole solution of its own, so what SRL teaches it about step k is what it uses when it solves.
With the paper layout (problem and earlier steps in a user turn after a system prompt) the
0.36M-parameter student kept two separate skills: SRL raised its next steps in that form and
left its own solutions where they were (docs/paper-table.md, trials 13-16).

The warm start also uses the paper layout, as an exercise: half of its examples are one step
instance each ("Write step k only.", after a one-line system prompt), half whole solutions. A
student warm-started on whole solutions only read hard problems worse and gained less from
the same SRL (trial 17), so the exercise stays.

The think block is empty: a step of this task needs no monologue (the equation the step writes
is the computation), and every thought token costs CPU time in a tiny model's rollouts. Both
format checks accept an empty monologue (the continuation one also a missing one), as the
paper allows.
"""

from __future__ import annotations

from collections.abc import Sequence

from srlkit.data.instances import InstanceOptions, build_instances
from srlkit.data.schema import Step, StepInstance, Trajectory
from srlkit.evaluation.prompts import DEFAULT_INSTRUCTION, build_messages

STEP_SYSTEM_PROMPT = "Think inside <think></think>, then write only the next step."
"""System prompt of the warm start's step exercises: a one-line version of the packaged one
(the tiny student reads every prompt token on a CPU)."""
THINK_OPEN = "<think></think>\n"
"""What the student writes before its steps (an empty monologue)."""


def instance_options() -> InstanceOptions:
    """How the demo cuts trajectories into step instances: every step a target, continuing the
    student's own answer (which opens with its empty think block)."""
    return InstanceOptions(targets="all", layout="continuation", answer_opening=THINK_OPEN)


def exercise_options() -> InstanceOptions:
    """The warm start's step exercises: the paper layout, every step a target, short prompt."""
    return InstanceOptions(targets="all", math_system_prompt=STEP_SYSTEM_PROMPT)


def step_instances(
    trajectories: Sequence[Trajectory], options: InstanceOptions | None = None
) -> list[StepInstance]:
    """All step instances of ``trajectories`` (one per expert step), SRL's by default."""
    options = options or instance_options()
    return [inst for traj in trajectories for inst in build_instances(traj, options)]


def solve_messages(question: str) -> list[dict[str, str]]:
    """Chat messages asking for a whole solution: exactly ``srl eval``'s default prompt."""
    return build_messages(question)


def prompt_texts() -> list[str]:
    """Every fixed text of both forms (for the student's cache key and tokenizer corpus)."""
    return [STEP_SYSTEM_PROMPT, DEFAULT_INSTRUCTION, "Steps so far: none yet.", "Write step"]


def step_completion(step: Step, number: int) -> str:
    """The answer to a step exercise: an empty thought, then the numbered step."""
    return f"{THINK_OPEN}{step.math_text(number)}"


def solve_completion(steps: Sequence[Step]) -> str:
    """The student's answer: an empty thought, then every numbered step, one per line."""
    return THINK_OPEN + "\n".join(step.math_text(i) for i, step in enumerate(steps, start=1))

"""The demo's two conversations: "give the next step" (SRL) and "solve the whole problem" (eval).

Why here: the student is warm-started in exactly the forms it is later trained and evaluated
in, so both are built by the toolkit's own code and nowhere else. Step prompts come from the
data pipeline's instance builder (:func:`srlkit.data.instances.build_instances`): the problem,
the expert's earlier steps, "Write step k only."; the model opens with a think block and writes
the one next ``N. **Title** action`` step. Solve prompts are the evaluation prompt of ``srl
eval`` (:func:`srlkit.evaluation.prompts.build_messages`), so RLVR, R3 and evaluation share it.

The think block is empty: a step of this task needs no monologue (the equation the step writes
is the computation), and every thought token costs CPU time in a tiny model's rollouts. The SRL
format check accepts an empty monologue, as the paper allows.

The system prompt for step instances is a one-line version of the packaged one: the tiny
student reads every prompt token on a CPU, and a hundred-token instruction it cannot follow
anyway would cost more than the problem itself.
"""

from __future__ import annotations

from collections.abc import Sequence

from srlkit.data.instances import InstanceOptions, build_instances
from srlkit.data.schema import Step, StepInstance, Trajectory
from srlkit.evaluation.prompts import DEFAULT_INSTRUCTION, build_messages

STEP_SYSTEM_PROMPT = "Think inside <think></think>, then write only the next step."
THINK_OPEN = "<think></think>\n"
"""What the student writes before its steps in both forms (an empty monologue)."""


def instance_options() -> InstanceOptions:
    """How the demo cuts trajectories into step instances: every step a target, short prompt."""
    return InstanceOptions(targets="all", math_system_prompt=STEP_SYSTEM_PROMPT)


def step_instances(trajectories: Sequence[Trajectory]) -> list[StepInstance]:
    """All step instances of ``trajectories`` (one per expert step)."""
    options = instance_options()
    return [inst for traj in trajectories for inst in build_instances(traj, options)]


def solve_messages(question: str) -> list[dict[str, str]]:
    """Chat messages asking for a whole solution: exactly ``srl eval``'s default prompt."""
    return build_messages(question)


def prompt_texts() -> list[str]:
    """Every fixed text of both forms (for the student's cache key and tokenizer corpus)."""
    return [STEP_SYSTEM_PROMPT, DEFAULT_INSTRUCTION, "Steps so far: none yet.", "Write step"]


def step_completion(step: Step, number: int) -> str:
    """The student's answer in the step form: an empty thought, then the numbered step."""
    return f"{THINK_OPEN}{step.math_text(number)}"


def solve_completion(steps: Sequence[Step]) -> str:
    """The student's answer in the solve form: an empty thought, then every numbered step."""
    return THINK_OPEN + "\n".join(step.math_text(i) for i, step in enumerate(steps, start=1))

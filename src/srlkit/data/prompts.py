"""Prompts for step instances, as chat messages so that any model's chat template applies.

The system prompts (``src/srlkit/prompts/*.txt``) ask for private thinking inside
``<think></think>`` and then *only* the single next step, because the SRL reward scores the
text after ``</think>`` against one expert step: anything more (later steps, a recap) only
lowers the similarity. Both are overridable with a file (``--system-prompt``).

Math: one user message holding the problem and the expert's steps 1..k-1 written as the paper
writes them (``N. **Title** body``), then the request for step k (optionally giving its title:
the paper's hint). Agents: the task as the first user message, then the last K rounds as real
assistant (expert action) / user (``OBSERVATION:``) turns, the form agent models are trained on.

The *solve prompt* (``build_messages``: the problem, then "solve step by step ... final answer
in \\boxed{}") lives here too, because it is shared: ``srl eval`` asks for whole solutions with
it, and step instances of the ``continuation`` layout (``continuation_messages``) are that very
prompt with the model's answer opened by the expert's earlier steps.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from importlib import resources
from pathlib import Path

from srlkit.data.schema import KIND_AGENT, Step
from srlkit.io import DataError, read_text_file

Message = dict[str, str]
TRUNCATION_MARKER = "[... {n} characters truncated ...]"

DEFAULT_INSTRUCTION = (
    "Solve the problem step by step. You may think first inside <think> </think> tags. "
    "Write your final answer within \\boxed{}."
)
DEFAULT_TEMPLATE = "{problem}\n\n{instruction}"
SOLVE_TEMPLATE = DEFAULT_TEMPLATE.replace("{instruction}", DEFAULT_INSTRUCTION)
"""The default solve prompt with only ``{problem}`` left: what a prompt-template option of
another command (RLVR's, a loop's sampling prompt) takes to ask exactly as ``srl eval`` does."""


def build_messages(
    problem: str,
    template: str = DEFAULT_TEMPLATE,
    instruction: str = DEFAULT_INSTRUCTION,
    system_prompt: str | None = None,
) -> list[Message]:
    """The solve prompt for one problem: an optional system turn and one user turn.

    ``template`` may use ``{problem}`` and ``{instruction}``; it is filled with ``str.replace``
    rather than ``str.format`` because problems are full of LaTeX braces.
    """
    if "{problem}" not in template:
        raise ValueError("the prompt template must contain {problem}")
    user = template.replace("{instruction}", instruction).replace("{problem}", problem)
    messages = [{"role": "system", "content": system_prompt}] if system_prompt else []
    messages.append({"role": "user", "content": user})
    return messages


def continuation_messages(
    problem: str,
    previous: Sequence[Step],
    opening: str = "",
    hint: str | None = None,
    step_number: int | None = None,
) -> list[Message]:
    """The solve prompt, then the model's answer opened with the expert's steps 1..k-1.

    The final message is the assistant's, to be *continued* (as ``continue_final_message``
    does in transformers): the model's next words are its step k. ``opening`` is what the
    model's answers start with before any step (e.g. an empty think block); with ``hint`` the
    answer also holds step k's number and title, and the model writes its body.

    >>> continuation_messages("1 + 1?", [Step(title="Add", body="1 + 1 = 2")])[-1]
    {'role': 'assistant', 'content': '1. **Add** 1 + 1 = 2\\n'}
    """
    written = "".join(step.math_text(i) + "\n" for i, step in enumerate(previous, start=1))
    if hint:
        written += f"{step_number or len(previous) + 1}. **{hint}** "
    return build_messages(problem) + [{"role": "assistant", "content": opening + written}]


@cache
def default_system_prompt(kind: str) -> str:
    """The packaged system prompt for ``kind`` ("math" or "agent")."""
    name = "srl_agent_system.txt" if kind == KIND_AGENT else "srl_math_system.txt"
    return resources.files("srlkit").joinpath("prompts", name).read_text(encoding="utf-8").strip()


def read_system_prompt(path: str | Path) -> str:
    """A user's system prompt file (UTF-8 text, not empty)."""
    text = read_text_file(path, "system prompt file")
    if not text:
        raise DataError(path, "system prompt file is empty")
    return text


def truncate_middle(text: str, max_chars: int | None) -> str:
    """Keep the head and tail of a long observation with a visible marker between them.

    Both ends matter in tool output: the head says what ran, the tail holds the error or the
    prompt line. ``max_chars=None`` keeps everything.

    >>> truncate_middle("a" * 10 + "b" * 10, 10)
    'aaaaa\\n[... 10 characters truncated ...]\\nbbbbb'
    """
    if max_chars is None or len(text) <= max_chars:
        return text
    head = max_chars // 2
    tail = max_chars - head
    cut = len(text) - head - tail
    return f"{text[:head]}\n{TRUNCATION_MARKER.format(n=cut)}\n{text[len(text) - tail :]}"


def math_messages(
    system: str,
    problem: str,
    previous: Sequence[Step],
    step_number: int,
    hint_title: str | None = None,
) -> list[Message]:
    """Chat messages asking for step ``step_number`` given the expert's earlier steps."""
    parts = [f"Problem:\n{problem.strip()}"]
    if previous:
        written = "\n".join(step.math_text(i) for i, step in enumerate(previous, start=1))
        parts.append(f"Steps so far:\n{written}")
    else:
        parts.append("Steps so far: none yet.")
    if hint_title:
        parts.append(
            f"Step {step_number} is titled **{hint_title}**. Write the content of this step only (without its number and title)."
        )
    else:
        parts.append(f"Write step {step_number} only.")
    return [{"role": "system", "content": system}, {"role": "user", "content": "\n\n".join(parts)}]


def agent_intro(task: str, omitted: int) -> str:
    """The first user message: the task, plus a note when earlier rounds are left out."""
    intro = task.strip()
    if omitted:
        intro += f"\n\n({omitted} earlier action{'s' if omitted != 1 else ''} and their outputs are not shown.)"
    return intro


def agent_round(step: Step, max_observation_chars: int | None) -> tuple[Message, Message]:
    """One expert round as an assistant turn (the action) and a user turn (the observation)."""
    observation = truncate_middle(step.observation, max_observation_chars)
    content = f"OBSERVATION:\n{observation}" if observation else "OBSERVATION: (no output)"
    return {"role": "assistant", "content": step.action}, {"role": "user", "content": content}

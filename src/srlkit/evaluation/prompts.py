"""The evaluation prompt: reason step by step, final answer in ``\\boxed{}``, ``<think>`` allowed.

Why through the chat template: the paper evaluates instruction-tuned models (Qwen2.5-7B-Instruct)
as they are served, so the problem goes into a user turn rendered by the model's own template
with the generation prompt appended. A model without a chat template (a base model) gets the
plain text instead, and ``--no-chat-template`` forces that.
"""

from __future__ import annotations

from typing import Any

DEFAULT_INSTRUCTION = (
    "Solve the problem step by step. You may think first inside <think> </think> tags. "
    "Write your final answer within \\boxed{}."
)
DEFAULT_TEMPLATE = "{problem}\n\n{instruction}"


def build_messages(
    problem: str,
    template: str = DEFAULT_TEMPLATE,
    instruction: str = DEFAULT_INSTRUCTION,
    system_prompt: str | None = None,
) -> list[dict[str, str]]:
    """Chat messages for one problem: an optional system turn and one user turn.

    ``template`` may use ``{problem}`` and ``{instruction}``; it is filled with ``str.replace``
    rather than ``str.format`` because problems are full of LaTeX braces.
    """
    if "{problem}" not in template:
        raise ValueError("the prompt template must contain {problem}")
    user = template.replace("{instruction}", instruction).replace("{problem}", problem)
    messages = [{"role": "system", "content": system_prompt}] if system_prompt else []
    messages.append({"role": "user", "content": user})
    return messages


def render_prompt(
    tokenizer: Any, messages: list[dict[str, str]], use_chat_template: bool = True
) -> str:
    """The text handed to the model: the chat template with a generation prompt, or plain text."""
    if use_chat_template and getattr(tokenizer, "chat_template", None):
        return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    return "\n\n".join(m["content"] for m in messages) + "\n\n"

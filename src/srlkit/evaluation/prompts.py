"""The evaluation prompt: reason step by step, final answer in ``\\boxed{}``, ``<think>`` allowed.

Why through the chat template: the paper evaluates instruction-tuned models (Qwen2.5-7B-Instruct)
as they are served, so the problem goes into a user turn rendered by the model's own template
with the generation prompt appended. A model without a chat template (a base model) gets the
plain text instead, and ``--no-chat-template`` forces that.
"""

from __future__ import annotations

from typing import Any

# The solve prompt is shared with the data pipeline's continuation layout, which is why it is
# defined there (the data package imports nothing else of srlkit).
from srlkit.data.prompts import (
    DEFAULT_INSTRUCTION,
    DEFAULT_TEMPLATE,
    SOLVE_TEMPLATE,
    build_messages,
)
from srlkit.data.schema import ends_in_answer

__all__ = [
    "DEFAULT_INSTRUCTION",
    "DEFAULT_TEMPLATE",
    "SOLVE_TEMPLATE",
    "build_messages",
    "render_prompt",
]


def render_prompt(
    tokenizer: Any, messages: list[dict[str, str]], use_chat_template: bool = True
) -> str:
    """The text handed to the model: the chat template with a generation prompt, or plain text.

    A conversation that ends with an assistant message is *continued*: the earlier messages
    with the generation prompt, then that message's text exactly as written (a step instance
    of the ``continuation`` layout). transformers' ``continue_final_message`` would strip the
    text's trailing new line, which is where the model's next step begins.
    """
    opened = ""
    if ends_in_answer(messages):
        messages, opened = messages[:-1], messages[-1]["content"]
    if use_chat_template and getattr(tokenizer, "chat_template", None):
        text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    else:
        text = "\n\n".join(m["content"] for m in messages) + "\n\n"
    return text + opened

"""The one prompt renderer: chat template with a generation prompt, or an opened answer continued."""

from __future__ import annotations

from srlkit.evaluation.prompts import build_messages, render_prompt


class _PlainTokenizer:
    chat_template = None


def test_a_final_assistant_message_is_continued_exactly(tiny_model_dir):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    solve = build_messages("What is 2 + 2?")
    opened = solve + [{"role": "assistant", "content": "1. **Add** 2 + 2 = 4\n"}]
    fresh = render_prompt(tok, solve)
    assert fresh.endswith("<|im_start|>assistant\n")
    # transformers' continue_final_message would drop the trailing new line; we keep it.
    assert render_prompt(tok, opened) == fresh + "1. **Add** 2 + 2 = 4\n"


def test_plain_text_rendering_without_a_chat_template():
    solve = build_messages("What is 2 + 2?")
    fresh = render_prompt(_PlainTokenizer(), solve)
    assert fresh == solve[0]["content"] + "\n\n"
    opened = solve + [{"role": "assistant", "content": "1. x\n"}]
    assert render_prompt(_PlainTokenizer(), opened) == fresh + "1. x\n"

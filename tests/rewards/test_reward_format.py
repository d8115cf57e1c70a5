"""The format check: named golden cases for every rule, strict and lenient."""

from __future__ import annotations

import time

import pytest

from srlkit.rewards.format import (
    completion_text,
    format_reward,
    parse_completion,
    parse_continuation,
    parse_step,
)

OK_CASES = {
    "plain": ("<think>add</think>2 + 3 = 5", "add", "2 + 3 = 5"),
    "leading_white_space": ("\n  <think>a</think>\nx = 1\n", "a", "x = 1"),
    "empty_monologue": ("<think></think>x = 1", "", "x = 1"),
    "solution_wrapper": ("<think>a</think>\n<solution>\nx = 1\n</solution>\n", "a", "x = 1"),
    "trailing_im_end": ("<think>a</think>x = 1<|im_end|>", "a", "x = 1"),
    "trailing_tokens_stacked": ("<think>a</think>x = 1<|im_end|>\n<|endoftext|>", "a", "x = 1"),
    "trailing_eos_sentencepiece": ("<think>a</think>x = 1</s>", "a", "x = 1"),
    "html_strike_inside_action_is_kept": (
        "<think>a</think>echo '<s>old</s>'",
        "a",
        "echo '<s>old</s>'",
    ),
    "multiline_action": ("<think>t</think>\nline 1\nline 2", "t", "line 1\nline 2"),
}

FAIL_CASES = {
    "no_tags": ("2 + 3 = 5", "missing <think> block"),
    "only_close_tag_strict": ("thinking...</think>x", "missing <think> (found </think> only)"),
    "text_before_think": ("Sure! <think>a</think>x", "text before <think>"),
    "unclosed_think": ("<think>I am still thinking", "unclosed <think>"),
    "nested_think": ("<think>a<think>b</think>c</think>x", "nested <think>"),
    "duplicated_think": ("<think>a</think>x<think>b</think>y", "duplicated <think>"),
    "duplicated_close": ("<think>a</think>x</think>y", "duplicated </think>"),
    "empty_action": ("<think>a</think>   ", "empty action"),
    "empty_after_special_token": ("<think>a</think><|im_end|>", "empty action"),
    "empty_solution": ("<think>a</think><solution> </solution>", "empty action"),
    "unclosed_solution": ("<think>a</think><solution>x = 1", "unclosed <solution>"),
    "close_solution_only": ("<think>a</think>x = 1</solution>", "</solution> without <solution>"),
    "text_after_solution": (
        "<think>a</think><solution>x</solution> and more",
        "text after </solution>",
    ),
    "text_before_solution": ("<think>a</think>so <solution>x</solution>", "text before <solution>"),
    "two_solutions": (
        "<think>a</think><solution>x</solution><solution>y</solution>",
        "duplicated <solution> tag",
    ),
    "special_token_inside": (
        "<think>a</think>x<|im_start|>user\nhi",
        "special token inside output",
    ),
    "nul_byte": ("<think>a</think>x\x00y", "NUL byte in output"),
    "not_text": (12345, "completion must be a str or a list of message dicts, got int"),
}


@pytest.mark.parametrize("text,monologue,action", OK_CASES.values(), ids=OK_CASES.keys())
def test_accepts(text, monologue, action):
    parsed = parse_completion(text)
    assert parsed.ok and parsed.reason is None
    assert (parsed.monologue, parsed.action) == (monologue, action)


@pytest.mark.parametrize("text,reason", FAIL_CASES.values(), ids=FAIL_CASES.keys())
def test_rejects_with_reason(text, reason):
    parsed = parse_completion(text)
    assert not parsed.ok
    assert parsed.reason == reason


def test_lenient_accepts_missing_open_tag():
    parsed = parse_completion("the template opened the block</think> x = 1", lenient=True)
    assert (
        parsed.ok
        and parsed.monologue == "the template opened the block"
        and parsed.action == "x = 1"
    )


def test_lenient_cuts_at_the_first_end_of_turn_token():
    text = "<think>a</think>x = 1<|im_end|>\n<|im_start|>user\nnext question"
    assert parse_completion(text).reason == "special token inside output"
    assert parse_completion(text, lenient=True).action == "x = 1"


def test_lenient_removes_stray_special_tokens_but_stays_strict_otherwise():
    assert parse_completion("<think>a</think>x<|im_start|> = 1", lenient=True).action == "x = 1"
    assert parse_completion("no tags at all", lenient=True).reason == "missing <think> block"
    assert parse_completion("a</think>b</think>c", lenient=True).reason == "duplicated </think>"
    assert parse_completion("<think>a", lenient=True).reason == "unclosed <think>"


def test_conversational_completion():
    messages = [{"role": "assistant", "content": "<think>a</think>x = 1"}]
    assert parse_completion(messages).action == "x = 1"


def test_reasoning_content_becomes_monologue():
    messages = [{"role": "assistant", "reasoning_content": "let me add", "content": "x = 5"}]
    parsed = parse_completion(messages)
    assert parsed.ok and parsed.monologue == "let me add" and parsed.action == "x = 5"
    assert completion_text(messages) == "<think>let me add</think>x = 5"


def test_content_parts_list():
    messages = [
        {
            "role": "assistant",
            "content": [
                {"type": "text", "text": "<think>a</think>"},
                {"type": "text", "text": "y"},
            ],
        }
    ]
    assert parse_completion(messages).action == "y"


def test_bad_message_list_fails_cleanly():
    assert not parse_completion([1, 2, 3]).ok
    assert not parse_completion(None).ok


def test_one_megabyte_outputs_are_fast():
    big = "<think>" + "a" * 1_000_000 + "</think>" + "x = 1 " * 100_000
    hostile = "<|" * 500_000 + "<think>" * 10_000
    start = time.perf_counter()
    assert parse_completion(big).ok
    assert not parse_completion(hostile).ok
    assert not parse_completion("</s>" * 250_000).ok
    assert time.perf_counter() - start < 2.0


def test_format_reward_is_a_trl_reward_function():
    assert format_reward(["<think>a</think>x", "x"], prompts=["p", "p"], target=["x", "x"]) == [
        1.0,
        0.0,
    ]


@pytest.mark.parametrize(
    ("text", "monologue", "action"),
    [
        pytest.param("3. a = 1\n4. b = 2\n5. c", "", "3. a = 1", id="later_steps_cut"),
        pytest.param("3. a = 1", "", "3. a = 1", id="one_step"),
        pytest.param("<think>plan</think>\n3. a\n4. b", "plan", "3. a", id="thought_first"),
        pytest.param("3. a\n<think>next</think>\n4. b", "", "3. a", id="interleaved_thought"),
        pytest.param("\n\n3. a\nstill step 3\n4. b", "", "3. a\nstill step 3", id="two_lines"),
        pytest.param("3. a<|im_end|>", "", "3. a", id="end_of_turn"),
        pytest.param("<solution>3. a</solution>\n4. b", "", "3. a", id="solution_wrapper"),
    ],
)
def test_continuation_scores_the_first_step(text, monologue, action):
    parsed = parse_continuation(text)
    assert (parsed.ok, parsed.monologue, parsed.action) == (True, monologue, action)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        pytest.param("<think>plan", "unclosed <think>", id="unclosed"),
        pytest.param("<think>a<think>b</think>3. a", "nested <think>", id="nested"),
        pytest.param("3. a </think>", "think tag inside the step", id="stray_close"),
        pytest.param("3. a <|im_start|> b", "special token inside output", id="special"),
        pytest.param("<think>only</think>", "empty action", id="thought_only"),
        pytest.param("", "empty action", id="empty"),
        pytest.param("a\x00b", "NUL byte in output", id="nul"),
    ],
)
def test_continuation_rejects_with_reason(text, reason):
    parsed = parse_continuation(text)
    assert not parsed.ok and parsed.reason == reason


def test_parse_step_picks_the_rules_by_layout():
    assert parse_step("3. a", continuation=True).ok
    assert parse_step("3. a").reason == "missing <think> block"
    assert parse_continuation([{"role": "assistant", "content": "3. a\n4. b"}]).action == "3. a"

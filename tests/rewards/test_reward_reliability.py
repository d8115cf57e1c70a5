"""Rewards on hostile model output: never raise, and every text pattern runs in linear time.

The time bounds are generous (1 s for 60,000 characters, which linear code handles in a few
milliseconds) so a loaded machine cannot fail them, yet every case here took 4 s to minutes
when a pattern backtracked quadratically.
"""

from __future__ import annotations

import time

import pytest

from srlkit.data import actions
from srlkit.data.actions import canonicalize_action_text, parse_action
from srlkit.data.answers import gsm8k_answer, remove_gsm8k_answer_lines
from srlkit.data.loaders.agent_chat import SWEPlayLoader
from srlkit.data.segment import segment_solution
from srlkit.rewards.registry import get_reward
from srlkit.rewards.srl import srl_step_reward
from srlkit.rewards.verl import compute_score

N = 60_000
BOUND_S = 1.0
HUGE = "7" * 5000


def _timed(fn, *args):
    start = time.perf_counter()
    result = fn(*args)
    return result, time.perf_counter() - start


def test_huge_integer_in_tool_call_json_scores_instead_of_raising():
    call = '{"name": "bash", "arguments": {"n": ' + HUGE + "}}"
    completion = f"<think>go</think><tool_call>{call}</tool_call>"
    target = f"<function=bash>\n<parameter=n>{HUGE}</parameter>\n</function>"
    assert srl_step_reward([completion], target=[target], kind="agent") == [1.0]
    assert get_reward("srl_step")([completion], target=[target], kind=["agent"]) == [1.0]
    assert compute_score("x", completion, target, {"kind": "agent"})["score"] == 1.0


def test_huge_integer_kept_verbatim_in_canonical_action():
    action = parse_action('{"name": "f", "arguments": {"big": ' + HUGE + ', "small": 3}}')
    assert isinstance(action.arguments["big"], actions.RawNumber)
    assert action.arguments["small"] == 3
    string_arguments = '{"name": "f", "arguments": "{\\"x\\": ' + HUGE + '}"}'
    assert canonicalize_action_text(string_arguments) == (
        f"<function=f>\n<parameter=x>{HUGE}</parameter>\n</function>"
    )


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("<tool_call>x" + " " * N + "y", id="tool_call_space_run"),
        pytest.param("<tool_call>" + "\n" * N + "}", id="tool_call_newline_run"),
    ],
)
def test_action_parsing_is_linear(text):
    _, seconds = _timed(parse_action, text)
    assert seconds < BOUND_S


def test_tool_call_body_unchanged_by_linear_rewrite():
    assert (
        parse_action('<tool_call>  \n{"name": "a", "arguments": {}}\n </tool_call> tail').name
        == "a"
    )
    assert parse_action('<tool_call>{"name": "a", "arguments": {"k": 1}}').arguments == {"k": 1}


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("# " * (N // 2) + "x", id="markdown_hash_space_run"),
        pytest.param("#### " + "#" * N + "x", id="markdown_hash_run"),
    ],
)
def test_segmentation_is_linear(text):
    _, seconds = _timed(segment_solution, text)
    assert seconds < BOUND_S


def test_markdown_titles_unchanged_by_linear_rewrite():
    seg = segment_solution("## First ##\nbody one\n### Second\nbody two", "markdown")
    assert [(s.title, s.body) for s in seg.steps] == [("First", "body one"), ("Second", "body two")]


@pytest.mark.parametrize("run", ["\n", " \n"])
def test_gsm8k_final_answer_reading_is_linear(run):
    text = run * (N // len(run)) + "x\n#### 5"
    (answer, seconds) = _timed(gsm8k_answer, text)
    assert answer == "5" and seconds < BOUND_S
    _, seconds = _timed(remove_gsm8k_answer_lines, text)
    assert seconds < BOUND_S


def test_swe_play_banner_pattern_is_linear():
    loader = SWEPlayLoader()
    _, seconds = _timed(loader.task_text, "-" * N)
    assert seconds < BOUND_S
    banner = "example\n----- NEW TASK DESCRIPTION -----\nFix the bug.\n"
    assert loader.task_text(banner) == "Fix the bug."

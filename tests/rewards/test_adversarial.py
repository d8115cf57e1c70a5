"""Nothing a model can output crashes a reward or takes longer than the stated bound.

Bound stated in docs/rewards.md: the SRL step reward scores any completion in under 1 second
per completion on one core for targets up to 6,400 characters (in practice < 0.6 s; real steps
take microseconds); the outcome reward in under ``timeout_s`` + 2 s grace.
"""

from __future__ import annotations

import math
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from srlkit.rewards.format import format_reward, parse_completion
from srlkit.rewards.outcome import extract_answer
from srlkit.rewards.similarity import batch_similarity
from srlkit.rewards.srl import srl_step_reward

FRAGMENTS = [
    "<think>",
    "</think>",
    "<solution>",
    "</solution>",
    "<|im_end|>",
    "<|im_start|>",
    "</s>",
    "\x00",
    "<function=bash>",
    "<parameter=command>",
    "</parameter>",
    "</function>",
    "<tool_call>",
    "</tool_call>",
    "```bash\n",
    "```",
    "{",
    "}",
    "\\boxed{",
    "\\fbox",
    "####",
    "12",
    "-3.5",
    "1,000",
    "x = 2",
    " ",
    "\n",
    "\U0001f600",
    "\ud800",
    "é",
]
hostile_text = st.lists(
    st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=10)), max_size=40
).map("".join)
messages = st.lists(
    st.fixed_dictionaries(
        {
            "role": st.sampled_from(["assistant", "user", "tool"]),
            "content": st.one_of(hostile_text, st.none(), st.integers()),
        },
        optional={"reasoning_content": st.one_of(hostile_text, st.none())},
    ),
    max_size=3,
)
completions = st.one_of(
    hostile_text, messages, st.none(), st.integers(), st.lists(st.integers(), max_size=2)
)

REWARD_BOUND_S = 1.0


@settings(max_examples=300, deadline=None)
@given(
    completion=completions,
    target=hostile_text,
    kind=st.sampled_from(["math", "agent", None]),
    lenient=st.booleans(),
)
def test_rewards_never_crash(completion, target, kind, lenient):
    parsed = parse_completion(completion, lenient=lenient)
    assert isinstance(parsed.ok, bool) and (parsed.ok == (parsed.reason is None))
    assert format_reward([completion], lenient=lenient) in ([0.0], [1.0])
    [reward] = srl_step_reward([completion], target=[target], kind=[kind], lenient=lenient)
    assert reward == -1.0 or 0.0 <= reward <= 1.0
    if isinstance(completion, str):
        answer = extract_answer(completion)
        assert answer is None or isinstance(answer, str)


def _hostile_actions(target: str, length: int = 16_384) -> dict[str, str]:
    return {
        "one_char": "a" * length,
        "two_chars": "ab" * (length // 2),
        "space_x": " x" * (length // 2),
        "target_repeated": (target * (length // max(len(target), 1) + 1))[:length],
        "unclosed_function_blocks": "<function=a>" * (length // 12),
        "unclosed_fences": "```x\n" * (length // 5),
    }


@pytest.mark.slow
@pytest.mark.parametrize(
    "target",
    ["a" * 6400, "ab " * 2133, ("Let x = 2. " * 600)[:6400]],
    ids=["one_char", "ab_space", "sentence"],
)
def test_worst_case_actions_are_bounded(target):
    """Ratcliff/Obershelp on pathological pairs takes minutes; the work budget cuts it off."""
    for name, action in _hostile_actions(target).items():
        for kind in ("math", "agent"):
            start = time.perf_counter()
            [reward] = srl_step_reward(["<think></think>" + action], target=[target], kind=[kind])
            elapsed = time.perf_counter() - start
            assert 0.0 <= reward <= 1.0
            assert elapsed < REWARD_BOUND_S, (name, kind, elapsed)


def test_budget_marks_only_what_it_cuts():
    pathological = batch_similarity(["ab" * 8192], ["a" * 6400], max_steps=10**6)
    assert math.isnan(pathological[0])
    assert batch_similarity(["abcd"], ["bcde"], max_steps=10**6) == [0.75]


def test_overlong_action_scores_zero_not_penalty():
    [reward] = srl_step_reward(["<think>t</think>" + "x" * 20_000], target=["x"])
    assert reward == 0.0


def test_megabyte_completion_is_fast():
    completion = "<think>" + "think " * 170_000 + "</think>" + "x = 1 " * 2_000
    answer_text = "<think>" * 100_000 + "\\boxed{" * 10_000 + "1,2" * 100_000
    start = time.perf_counter()
    srl_step_reward([completion], target=["x = 1"])
    extract_answer(answer_text)
    assert time.perf_counter() - start < 2.0

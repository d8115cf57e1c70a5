"""The SRL step reward and the registry, as plain functions and as TRL reward functions."""

from __future__ import annotations

import difflib
import json

import pytest

from srlkit.data.actions import canonicalize_action_text
from srlkit.rewards.registry import build_reward_funcs, get_reward, register_reward
from srlkit.rewards.srl import make_srl_step_reward, srl_step_reward

TARGET = "2. **Add the parts** 48 + 24 = 72"


def test_similarity_of_the_action_only():
    completion = "<think>48/2 = 24, then add</think>2. **Add the parts** 48 + 24 = 72"
    noisy = "<think>" + TARGET * 5 + "</think>48 + 24 = 72"
    rewards = srl_step_reward([completion, noisy], target=[TARGET, TARGET])
    assert rewards[0] == 1.0
    assert (
        rewards[1] == difflib.SequenceMatcher(None, "48 + 24 = 72", TARGET, autojunk=False).ratio()
    )


def test_format_failure_gets_the_penalty():
    assert srl_step_reward([TARGET], target=[TARGET]) == [-1.0]
    assert srl_step_reward([TARGET], target=[TARGET], format_penalty=-0.5) == [-0.5]


def test_options_are_fixed_by_the_factory():
    reward = make_srl_step_reward(format_penalty=0.0, lenient=True, metric="exact")
    assert reward.__name__ == "srl_step"
    assert reward(["opened by template</think>x = 1", "x = 2"], target=["x = 1", "x = 1"]) == [
        1.0,
        0.0,
    ]


def test_agent_actions_are_compared_in_canonical_form():
    """The same tool call in three syntaxes scores 1.0 against the canonical target."""
    target = canonicalize_action_text(
        "<function=bash>\n<parameter=command>ls -la</parameter>\n</function>"
    )
    hermes = '<think>list</think><tool_call>{"name": "bash", "arguments": {"command": "ls -la"}}</tool_call>'
    openhands = (
        "<think>list</think><function=bash>\n<parameter=command>\nls -la\n</parameter>\n</function>"
    )
    json_call = '<think>list</think>{"name": "bash", "arguments": {"command": "ls -la"}}'
    rewards = srl_step_reward(
        [hermes, openhands, json_call], target=[target] * 3, kind=["agent"] * 3
    )
    assert rewards == [1.0, 1.0, 1.0]
    # Without kind="agent" the raw texts are compared and differ.
    assert srl_step_reward([hermes], target=[target])[0] < 1.0


def test_trl_calling_convention():
    """TRL passes every dataset column and its own extras as keyword arguments."""
    completions = [[{"role": "assistant", "content": "<think>a</think>x = 1"}]] * 2
    rewards = srl_step_reward(
        completions,
        prompts=[[{"role": "user", "content": "p"}]] * 2,
        target=["x = 1", "x = 2"],
        kind=["math", "math"],
        answer=["1", "1"],
        step_index=[1, 1],
        completion_ids=[[1], [2]],
        trainer_state=None,
    )
    assert rewards[0] == 1.0 and 0.0 < rewards[1] < 1.0
    assert all(isinstance(r, float) for r in rewards)


def test_column_length_mismatch_is_reported():
    with pytest.raises(ValueError, match="target: 1 values for 2 completions"):
        srl_step_reward(["a", "b"], target=["x"])


def test_real_agent_targets_score_one_against_themselves(shared_data):
    """Real SWE-Gym tool calls: each rendered as OpenAI JSON scores 1.0 against its canonical form."""
    from srlkit.data.actions import action_from_openai_tool_call

    rows = json.loads(
        (shared_data / "swe_gym_openhands_sampled_trajectories" / "sample_raw.json").read_text()
    )
    calls = [
        c
        for m in rows[0]["messages"]
        if m.get("role") == "assistant"
        for c in m.get("tool_calls") or []
    ][:15]
    assert calls
    targets = [action_from_openai_tool_call(c).canonical_text() for c in calls]
    completions = [
        "<think>next</think>"
        + json.dumps(
            {"name": c["function"]["name"], "arguments": json.loads(c["function"]["arguments"])}
        )
        for c in calls
    ]
    assert srl_step_reward(completions, target=targets, kind=["agent"] * len(calls)) == [1.0] * len(
        calls
    )


def test_registry_names_weights_and_options():
    funcs, weights = build_reward_funcs(
        {"srl_step": {"weight": 1.0, "format_penalty": -2.0}, "format": 0.25}
    )
    assert [f.__name__ for f in funcs] == ["srl_step", "format"] and weights == [1.0, 0.25]
    assert funcs[0](["no format"], target=["x"]) == [-2.0]
    assert build_reward_funcs("outcome")[1] == [1.0]
    assert [f.__name__ for f in build_reward_funcs(["srl_step", "format"])[0]] == [
        "srl_step",
        "format",
    ]


def test_registry_dotted_path_for_user_rewards(tmp_path, monkeypatch):
    (tmp_path / "my_rewards.py").write_text(
        "def length_reward(completions, scale=1.0, **kwargs):\n"
        "    return [scale * len(c) for c in completions]\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    fn = get_reward("my_rewards:length_reward", scale=2.0)
    assert fn.__name__ == "length_reward"
    assert fn(["ab", "abcd"]) == [4.0, 8.0]
    assert get_reward("my_rewards.length_reward")(["a"]) == [1.0]


def test_registry_errors_name_the_problem():
    with pytest.raises(ValueError, match="not a registered name"):
        get_reward("nonsense")
    with pytest.raises(ValueError, match="cannot import module 'no_such_pkg'"):
        get_reward("no_such_pkg.reward")
    with pytest.raises(ValueError, match="has no attribute 'missing'"):
        get_reward("srlkit.rewards.srl:missing")
    with pytest.raises(TypeError, match="weight must be a number"):
        build_reward_funcs({"srl_step": "heavy"})
    with pytest.raises(ValueError, match="already registered"):
        register_reward("srl_step", make_srl_step_reward)


def test_continuation_rows_score_only_the_first_step():
    completions = ["2. **B** y\n3. **C** z", "2. **B** y", "<think>x</think>2. **B** y"]
    plain = srl_step_reward(completions, "2. **B** y")
    assert plain[:2] == [-1.0, -1.0] and plain[2] == 1.0
    assert srl_step_reward(completions, "2. **B** y", continuation=True) == [1.0, 1.0, 1.0]
    mixed = srl_step_reward(completions[:2], "2. **B** y", ["math"] * 2, [True, False])
    assert mixed == [1.0, -1.0]

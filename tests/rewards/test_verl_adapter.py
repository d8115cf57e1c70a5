"""verl's custom-reward interface gives the same numbers as the TRL reward functions."""

from __future__ import annotations

import pytest

from srlkit.rewards.srl import srl_step_reward
from srlkit.rewards.verl import compute_score, compute_score_batch


def test_per_response_srl_step_is_the_default():
    completion = "<think>add</think>48 + 24 = 70"
    result = compute_score("gsm8k_steps", completion, "48 + 24 = 72")
    assert result == {
        "score": srl_step_reward([completion], target=["48 + 24 = 72"])[0],
        "gold_unparseable": 0.0,
    }


def test_batch_mixes_rewards_and_keeps_order_and_keys():
    results = compute_score_batch(
        ["a", "b", "c", "d"],
        ["<think>t</think>x = 1", "\\boxed{72}", "no format", "\\boxed{1}"],
        ["x = 1", "72", "x = 1", "\\frac{"],
        [
            None,
            {"reward": "outcome"},
            {"reward": "srl_step", "kind": "math"},
            {"reward": "outcome"},
        ],
    )
    assert [r["score"] for r in results] == [1.0, 1.0, -1.0, 0.0]
    assert [r["gold_unparseable"] for r in results] == [0.0, 0.0, 0.0, 1.0]
    assert all(set(r) == {"score", "gold_unparseable"} for r in results)


def test_agent_kind_from_extra_info():
    target = "<function=bash>\n<parameter=command>ls</parameter>\n</function>"
    hermes = (
        '<think>t</think><tool_call>{"name": "bash", "arguments": {"command": "ls"}}</tool_call>'
    )
    assert compute_score("swe", hermes, target, {"kind": "agent"})["score"] == 1.0


def test_unknown_reward_name_is_reported():
    with pytest.raises(ValueError, match="response 0 must be 'srl_step' or 'outcome', got 'bleu'"):
        compute_score("x", "y", "z", {"reward": "bleu"})

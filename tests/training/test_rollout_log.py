"""rollouts.jsonl: what a GRPO run writes about its rollouts, and that it agrees with the reward."""

from __future__ import annotations

import difflib

import pytest

pytest.importorskip("trl")

from datasets import Dataset

from srlkit.io import iter_jsonl
from srlkit.rewards.format import completion_text
from srlkit.rewards.srl import make_srl_step_reward, srl_step_reward
from srlkit.training import dynamic_sampling as ds
from srlkit.training.grpo import SRLGRPOConfig, SRLGRPOTrainer
from srlkit.training.rollout_log import (
    ROLLOUTS_FILE,
    MatchSettings,
    abridge,
    match_settings,
    rollout_entry,
)

G = 4


def read_jsonl(path):
    return [record for _, record in iter_jsonl(path)]


def _dataset(n: int, offset: int = 0) -> Dataset:
    return Dataset.from_dict(
        {
            "prompt": [
                [{"role": "user", "content": f"Problem {i}: add 2 and {i}. Next step?"}]
                for i in range(offset, offset + n)
            ],
            "target": [f"2 + {i} = {2 + i}" for i in range(offset, offset + n)],
            "kind": ["math"] * n,
        }
    )


def test_entry_stores_exactly_what_the_reward_compared():
    completion = "<think>add</think> 2 + 3 = 5, done"
    entry = rollout_entry(
        completion, {"target": "2 + 3 = 5"}, {"srl_step": 0.8}, 0.8, MatchSettings(), 4000
    )
    assert entry["format_ok"] and entry["action"] == "2 + 3 = 5, done"
    pred, ref = entry["compared"]["prediction"], entry["compared"]["reference"]
    ratio = difflib.SequenceMatcher(None, pred, ref, autojunk=False).ratio()
    assert ratio == srl_step_reward([completion], target=["2 + 3 = 5"])[0]


def test_entry_of_a_malformed_completion_has_a_reason_and_no_comparison():
    entry = rollout_entry(
        "2 + 3 = 5", {"target": "x"}, {"srl_step": -1.0}, -1.0, MatchSettings(), 10
    )
    assert not entry["format_ok"] and entry["format_reason"] == "missing <think> block"
    assert "compared" not in entry


def test_agent_steps_are_compared_in_canonical_form():
    completion = (
        '<think>t</think><tool_call>{"name": "bash", "arguments": {"command": "ls"}}</tool_call>'
    )
    target = "<function=bash>\n<parameter=command>ls</parameter>\n</function>"
    entry = rollout_entry(
        completion, {"target": target, "kind": "agent"}, {}, None, MatchSettings(), 99
    )
    reward = srl_step_reward([completion], target=[target], kind=["agent"])[0]
    pred, ref = entry["compared"]["prediction"], entry["compared"]["reference"]
    assert difflib.SequenceMatcher(None, pred, ref, autojunk=False).ratio() == reward


def test_match_settings_come_from_the_configured_reward():
    reward = make_srl_step_reward(lenient=True, autojunk=True)
    assert match_settings([len, reward]) == MatchSettings(lenient=True, autojunk=True)
    assert match_settings([srl_step_reward]) == MatchSettings()  # the plain function: defaults
    assert match_settings([len]) is None


def test_abridge_keeps_head_and_tail():
    text = "a" * 50 + "b" * 50
    cut = abridge(text, 30)
    assert cut.startswith("a" * 20) and cut.endswith("b" * 10) and "70 characters cut" in cut
    assert abridge("short", 30) == "short"


def length_reward(completions, target, **kwargs):
    """A second reward that varies within the groups of even targets only: some kept, some dropped."""
    return [
        len(completion_text(c)) % 3 / 10 if int(t.rsplit(" ", 1)[1]) % 2 == 0 else 0.0
        for c, t in zip(completions, target)
    ]


@pytest.mark.slow
def test_training_writes_sampled_groups_with_rewards_and_keep_decisions(tiny_model_dir, tmp_path):
    reward = make_srl_step_reward()
    args = SRLGRPOConfig(
        str(tmp_path / "run"),
        use_cpu=True,
        bf16=False,
        per_device_train_batch_size=4 * G,
        num_generations=G,
        max_completion_length=6,
        max_steps=2,
        logging_steps=1,
        report_to=[],
        save_strategy="no",
        eval_strategy="steps",
        eval_steps=2,
        per_device_eval_batch_size=2 * G,
        disable_tqdm=True,
        seed=0,
        max_generation_rounds=2,
        rollout_log_groups=3,
    )
    trainer = SRLGRPOTrainer(
        model=str(tiny_model_dir),
        reward_funcs=[reward, length_reward],
        args=args,
        train_dataset=_dataset(16),
        eval_dataset=_dataset(8, offset=100),
    )
    trainer.train()
    records = read_jsonl(tmp_path / "run" / ROLLOUTS_FILE)
    train = [r for r in records if r["split"] == "train"]
    evals = [r for r in records if r["split"] == "eval"]
    assert {r["step"] for r in train} == {1, 2}
    assert all(sum(r["step"] == s for r in train) <= 3 for s in (1, 2))
    assert len(evals) == 3 and {r["step"] for r in evals} == {2}
    step_name, length_name = trainer.reward_func_names
    for rec in records:
        assert len(rec["rollouts"]) == G
        completions = [ro["completion"] for ro in rec["rollouts"]]
        expected = srl_step_reward(completions, target=[rec["target"]] * G)
        assert [ro["rewards"][step_name] for ro in rec["rollouts"]] == pytest.approx(expected)
        lengths = length_reward(completions, [rec["target"]] * G)
        assert [ro["rewards"][length_name] for ro in rec["rollouts"]] == pytest.approx(lengths)
        assert [ro["reward"] for ro in rec["rollouts"]] == pytest.approx(
            [a + b for a, b in zip(expected, lengths)]
        )
        std = float(ds.group_population_std([[ro["reward"] for ro in rec["rollouts"]]])[0])
        assert rec["reward_std"] == pytest.approx(std, abs=1e-6)
        if rec["split"] == "train":
            assert rec["kept"] == (std > args.dynamic_sampling_epsilon)
        else:
            assert rec["kept"] is None
        assert rec["prompt"].startswith("Problem ") and rec["matcher"]["autojunk"] is False
    assert {r["kept"] for r in train} == {True, False}  # both kinds sampled
    assert trainer._rollout_log.seconds > 0


def test_a_resumed_run_drops_the_groups_logged_after_its_checkpoint(tmp_path):
    from types import SimpleNamespace

    from srlkit.io import write_jsonl
    from srlkit.training.rollout_log import RolloutLog

    write_jsonl(
        tmp_path / ROLLOUTS_FILE,
        [{"split": "train", "step": s, "rollouts": []} for s in (1, 2, 3, 4)]
        + [
            {"split": "eval", "step": 2, "rollouts": []},
            {"split": "eval", "step": 4, "rollouts": []},
        ],
    )
    trainer = SimpleNamespace(
        args=SimpleNamespace(output_dir=str(tmp_path)),
        num_generations=G,
        reward_func_names=["srl_step_reward"],
        reward_funcs=[srl_step_reward],
        state=SimpleNamespace(global_step=2),
        accelerator=SimpleNamespace(is_main_process=True),
    )
    log = RolloutLog(trainer, groups=2, max_chars=100)
    kept = [(r["split"], r["step"]) for r in read_jsonl(tmp_path / ROLLOUTS_FILE)]
    assert kept == [("train", 1), ("train", 2), ("eval", 2)]
    assert log.match == MatchSettings()

"""verl's own classes on CPU, fed srlkit's export, rewards and keep rule (verl 0.9.1, .venv-verl).

1. verl's RLHFDataset reads the exported parquet, and verl's prompt builder (the agent loop's
   Continuous Token path) turns each row into exactly the token ids TRL's chat rendering gives
   for the same instance.
2. verl's reward managers (the reward loop's naive manager that training uses, and the legacy
   naive and batch managers), given a DataProto of real rollouts, return srlkit's scores.
3. verl's replay buffer decides which groups to evict: the built-in rule at epsilon 0, and
   srlkit's SRLReplayBuffer (the recipes' sampler) through verl's own sample/refill loop,
   equal srlkit's keep_mask, groups at exactly epsilon included.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest
from verl_helpers import build, rlvr_problems

from srlkit.cli.main import main
from srlkit.training.dynamic_sampling import keep_mask

pytestmark = [pytest.mark.verl, pytest.mark.usefixtures("verl_installed")]

REWARD_FILE = str(Path(__import__("srlkit").__file__).parent / "rewards" / "verl.py")


@pytest.fixture(scope="module")
def tokenizer(tiny_model_dir):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(tiny_model_dir)


def _export(source: Path, out: Path, *args: str) -> Path:
    assert main(["data", "export", str(source), "--format", "verl", "--out", str(out), *args]) == 0
    return out


# ---------------------------------------------------------------- 1. dataset and prompts


@pytest.mark.parametrize("kind", ["math", "agent"])
def test_rlhf_dataset_yields_the_prompts_trl_renders(shared_data, tmp_path, tokenizer, kind):
    from omegaconf import OmegaConf
    from trl.data_utils import maybe_apply_chat_template
    from verl.utils.dataset.rl_dataset import RLHFDataset
    from verl.utils.tokenizer.continuous_token_wiring import create_continuous_token_builder

    from srlkit.training.datasets import load_srl_instances, render_text_prompts

    data = build(shared_data, tmp_path / "build", kind)
    out = _export(data, tmp_path / "verl")
    config = OmegaConf.create(
        {"cache_dir": str(tmp_path / "cache"), "max_prompt_length": 1_000_000}
    )
    dataset = RLHFDataset([str(out / "train.parquet")], tokenizer, config)
    trl_rows, _ = load_srl_instances(data, "train")
    trl_rows = render_text_prompts(trl_rows, tokenizer)  # what `srl train srl` hands TRL
    builder = create_continuous_token_builder(tokenizer, hf_model_type="qwen2")
    assert len(dataset) == len(trl_rows) > 0
    for index, trl_row in enumerate(trl_rows):
        item = dataset[index]
        assert item["raw_prompt"] == trl_row["prompt"]
        assert (item["index"], item["extra_info"]["id"]) == (index, trl_row["id"])
        assert item["reward_model"]["ground_truth"] == trl_row["target"]
        trl_text = maybe_apply_chat_template({"prompt": trl_row["prompt"]}, tokenizer)["prompt"]
        trl_ids = tokenizer(trl_text, add_special_tokens=False)["input_ids"]
        assert builder.build_initial_tokens(item["raw_prompt"]) == trl_ids


def test_rlhf_dataset_reads_rlvr_rows(tmp_path, tokenizer):
    from omegaconf import OmegaConf
    from verl.utils.dataset.rl_dataset import RLHFDataset

    out = _export(rlvr_problems(tmp_path / "rlvr.jsonl"), tmp_path / "verl", "--task", "rlvr")
    config = OmegaConf.create({"cache_dir": str(tmp_path / "cache")})
    dataset = RLHFDataset([str(out / "train.parquet")], tokenizer, config)
    assert [dataset[i]["extra_info"]["id"] for i in range(len(dataset))] == ["p1", "p2", "p3"]


# ---------------------------------------------------------------- 2. reward managers


def _rollouts(tokenizer, prompts, responses, non_tensor):
    """A DataProto as verl's rollout hands it on: left-padded prompts, right-padded responses."""
    import numpy as np
    import torch
    from verl import DataProto

    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    p_ids = [tokenizer(p, add_special_tokens=False)["input_ids"] for p in prompts]
    r_ids = [tokenizer(r, add_special_tokens=False)["input_ids"] for r in responses]
    p_len, r_len = max(map(len, p_ids)), max(map(len, r_ids))
    prompts_t = torch.tensor([[pad] * (p_len - len(x)) + x for x in p_ids])
    responses_t = torch.tensor([x + [pad] * (r_len - len(x)) for x in r_ids])
    mask = torch.tensor(
        [
            [0] * (p_len - len(p)) + [1] * (len(p) + len(r)) + [0] * (r_len - len(r))
            for p, r in zip(p_ids, r_ids)
        ]
    )
    tensors = {
        "prompts": prompts_t,
        "responses": responses_t,
        "input_ids": torch.cat([prompts_t, responses_t], dim=1),
        "attention_mask": mask,
    }
    arrays = {k: np.array(v, dtype=object) for k, v in non_tensor.items()}
    return DataProto.from_dict(tensors=tensors, non_tensors=arrays), [len(r) for r in r_ids]


def _reward_fn(name: str):
    """srlkit's reward, loaded the way verl loads `reward.custom_reward_function`."""
    from omegaconf import OmegaConf
    from verl.trainer.ppo.reward import get_custom_reward_fn

    config = OmegaConf.create(
        {"reward": {"custom_reward_function": {"path": REWARD_FILE, "name": name}}}
    )
    return get_custom_reward_fn(config)


@pytest.fixture(scope="module")
def scored_batch(verl_installed, shared_data, tmp_path_factory, tokenizer):
    """Real rows (s1K steps, SWE-smith actions, RLVR problems) with real-looking rollouts, and
    the scores srlkit gives them directly."""
    import pyarrow.parquet as pq

    from srlkit.rewards.outcome import outcome_reward
    from srlkit.rewards.srl import srl_step_reward

    tmp = tmp_path_factory.mktemp("rewards")
    rows = []
    for kind in ("math", "agent"):
        out = _export(build(shared_data, tmp / f"b-{kind}", kind), tmp / f"v-{kind}")
        rows += pq.read_table(out / "train.parquet").to_pylist()[:3]
    out = _export(rlvr_problems(tmp / "rlvr.jsonl"), tmp / "v-rlvr", "--task", "rlvr")
    rows += pq.read_table(out / "train.parquet").to_pylist()
    responses = []
    for i, row in enumerate(rows):
        gold = row["reward_model"]["ground_truth"]
        if row["extra_info"]["reward"] == "outcome":
            responses.append(
                f"<think>easy</think> The answer is \\boxed{{{gold if i % 2 else 7}}}."
            )
        else:
            cut = gold[: max(1, len(gold) * (i % 3) // 3)]
            responses.append(
                ["<think>ok</think>\n" + gold, "<think>hm</think>\n" + cut, cut][i % 3]
            )
    decoded = [
        tokenizer.decode(tokenizer(r, add_special_tokens=False)["input_ids"]) for r in responses
    ]
    assert decoded == responses  # verl decodes what it scores: the strings must survive it
    expected = []
    for row, response in zip(rows, responses):
        gold, info = row["reward_model"]["ground_truth"], row["extra_info"]
        if info["reward"] == "outcome":
            expected.append(outcome_reward([response], answer=[gold])[0])
        else:
            expected.append(srl_step_reward([response], target=[gold], kind=[info["kind"]])[0])
    prompts = [
        tokenizer.apply_chat_template(r["prompt"], tokenize=False, add_generation_prompt=True)
        for r in rows
    ]
    non_tensor = {
        "data_source": [r["data_source"] for r in rows],
        "reward_model": [r["reward_model"] for r in rows],
        "extra_info": [dict(r["extra_info"]) for r in rows],
    }
    data, lengths = _rollouts(tokenizer, prompts, responses, non_tensor)
    assert len(set(expected)) > 3 and -1.0 in expected and 1.0 in expected  # a real spread
    return data, lengths, expected


def _token_scores(reward_tensor, lengths):
    return [float(reward_tensor[i, n - 1]) for i, n in enumerate(lengths)]


def test_legacy_batch_manager_returns_srlkit_scores(scored_batch, tokenizer):
    from verl.workers.reward_manager import BatchRewardManager

    data, lengths, expected = scored_batch
    manager = BatchRewardManager(tokenizer, 0, _reward_fn("compute_score_batch"))
    result = manager(data, return_dict=True)
    assert _token_scores(result["reward_tensor"], lengths) == pytest.approx(expected, abs=1e-6)
    assert result["reward_tensor"].sum(dim=1).tolist() == pytest.approx(expected, abs=1e-6)


def test_legacy_naive_manager_returns_srlkit_scores(scored_batch, tokenizer):
    from verl.workers.reward_manager import NaiveRewardManager

    data, lengths, expected = scored_batch
    manager = NaiveRewardManager(tokenizer, 0, _reward_fn("compute_score"))
    result = manager(data, return_dict=True)
    assert _token_scores(result["reward_tensor"], lengths) == pytest.approx(expected, abs=1e-6)


def test_reward_loop_manager_training_uses_returns_srlkit_scores(scored_batch, tokenizer):
    """verl 0.9's trainer scores every rollout alone through this manager's run_single."""
    from omegaconf import OmegaConf
    from verl.experimental.reward_loop.reward_manager.naive import NaiveRewardManager

    data, _, expected = scored_batch
    manager = NaiveRewardManager(OmegaConf.create({}), tokenizer, _reward_fn("compute_score"))
    scores = [
        manager.loop.run_until_complete(manager.run_single(data[i : i + 1]))
        for i in range(len(data))
    ]
    assert [s["reward_score"] for s in scores] == pytest.approx(expected, abs=1e-6)
    assert {frozenset(s["reward_extra_info"]) for s in scores} == {
        frozenset({"score", "gold_unparseable"})
    }


# ---------------------------------------------------------------- 3. the group filter

EPSILON = 0.01
# Named groups of 2-4 rollouts; std in the comment (population, as the paper's rule). Names
# have no "_": verl keys a rollout "{uid}_{i}" and splits at the first "_".
GROUPS = {
    "flat": [0.7, 0.7, 0.7, 0.7],  # 0
    "round-off": [0.1, 0.1, 0.1],  # 1.4e-17 in float64, 0 once stored as float32 as verl does
    "at-epsilon": [0.0, 0.02],  # exactly 0.01: dropped, the rule is strict
    "just-below": [0.1, 0.12],  # 0.0099999...
    "just-above": [0.49, 0.51],  # 0.0100000...09
    "one-char-apart": [0.5, 0.5, 0.52, 0.5],  # 0.0087
    "format-failure": [-1.0, 0.4, 0.4, 0.4],  # 0.61
    "binary-mixed": [0.0, 1.0, 0.0, 0.0],  # 0.43
    "binary-right": [1.0, 1.0, 1.0, 1.0],  # 0
}


class FakeTransferQueue:
    """The three TransferQueue calls verl's replay buffer makes, kept in memory: prompts under
    their uid, rollouts under ``{uid}_{i}`` with the summed reward as a 1-token rm_scores."""

    def __init__(self):
        self.store = defaultdict(dict)  # partition -> key -> tag
        self.scores = {}

    def add_group(self, uid, rewards, partition="train"):
        import torch

        self.store[partition][uid] = {"is_prompt": True, "status": "finished", "global_steps": 0}
        for i, reward in enumerate(rewards):
            key = f"{uid}_{i}"
            self.store[partition][key] = {"status": "finished"}
            self.scores[key] = torch.tensor([0.0, reward])

    def kv_list(self):
        return {p: dict(items) for p, items in self.store.items()}

    def kv_batch_get(self, keys, partition_id, select_fields):
        assert select_fields == ["rm_scores"]
        return {"rm_scores": [self.scores[k] for k in keys]}

    def kv_clear(self, partition_id, keys):
        for key in keys:
            self.store[partition_id].pop(key, None)


def _buffer(cls, monkeypatch, fake, refill=None, **kwargs):
    from omegaconf import OmegaConf
    from verl.trainer.ppo.v1 import replay_buffer

    monkeypatch.setattr(replay_buffer, "tq", fake)
    return cls(
        trainer_mode="sync",
        trainer_config=OmegaConf.create({}),
        max_off_policy_threshold=None,
        max_off_policy_strategy="drop",
        refill_fn=refill or (lambda n: None),
        poll_interval=0.0,
        **kwargs,
    )


def _evicted(buffer, fake):
    buffer._sync_metadata_from_transfer_queue()
    uids, _ = buffer._dapo_filtered_keys("train")
    return uids


def _srl_buffer(monkeypatch, fake, epsilon, rule="std", refill=None, batch=4):
    from srlkit.integrations.verl.sampler import SRLReplayBuffer

    sampler_kwargs = {
        "srl_rule": rule,
        "srl_epsilon": epsilon,
        "filter_groups_metric": "reward",
        "train_batch_size": batch,
        "max_inflight_gen_batches": 1,
    }
    return _buffer(SRLReplayBuffer, monkeypatch, fake, refill, sampler_kwargs=sampler_kwargs)


def _as_verl_holds(rewards):
    """verl keeps rewards as float32 token scores (rm_scores): the values its filter sees."""
    import torch

    return [float(torch.tensor(r, dtype=torch.float32)) for r in rewards]


def _flat_by_keep_mask(groups, **kwargs):
    """keep_mask on the same groups, as verl holds them."""
    return {
        name
        for name, rewards in groups.items()
        if not keep_mask([_as_verl_holds(rewards)], **kwargs)[0]
    }


@pytest.mark.parametrize("epsilon", [0.0, EPSILON])
def test_srl_sampler_evicts_exactly_what_keep_mask_drops(monkeypatch, epsilon):
    fake = FakeTransferQueue()
    for uid, rewards in GROUPS.items():
        fake.add_group(uid, rewards)
    buffer = _srl_buffer(monkeypatch, fake, epsilon)
    expected = _flat_by_keep_mask(GROUPS, epsilon=epsilon)
    assert _evicted(buffer, fake) == expected
    if epsilon == EPSILON:  # the named edges, written out; 0.49 and 0.51 as float32 are
        # 0.0099999905 apart from their mean, so "just-above" is below epsilon in verl's hands
        assert expected == {
            "flat",
            "round-off",
            "at-epsilon",
            "just-below",
            "just-above",
            "one-char-apart",
            "binary-right",
        }
    else:
        assert expected == {"flat", "round-off", "binary-right"}


def test_srl_sampler_outcome_rule_is_keep_masks(monkeypatch):
    fake = FakeTransferQueue()
    for uid, rewards in GROUPS.items():
        fake.add_group(uid, rewards)
    buffer = _srl_buffer(monkeypatch, fake, 0.0, rule="outcome")
    assert _evicted(buffer, fake) == _flat_by_keep_mask(GROUPS, rule="outcome")


def test_verl_builtin_rule_is_keep_mask_at_epsilon_zero(monkeypatch):
    """verl's own filter (metric std == 0) at the recipe's metric agrees with keep_mask(eps=0)
    on every named group, and keeps what the paper's epsilon drops: why the recipes replace it."""
    from verl.trainer.ppo.v1.replay_buffer import ReplayBuffer

    fake = FakeTransferQueue()
    for uid, rewards in GROUPS.items():
        fake.add_group(uid, rewards)
    buffer = _buffer(
        ReplayBuffer,
        monkeypatch,
        fake,
        sampler_kwargs={},
        filter_groups_metric="reward",
        train_batch_size=4,
        gen_batch_size=1,
    )
    builtin = _evicted(buffer, fake)
    assert (
        builtin == _flat_by_keep_mask(GROUPS, epsilon=0.0) == {"flat", "round-off", "binary-right"}
    )
    assert _flat_by_keep_mask(GROUPS, epsilon=EPSILON) - builtin == {
        "at-epsilon",
        "just-below",
        "just-above",
        "one-char-apart",
    }


def test_verl_sample_loop_refills_with_the_srl_rule(monkeypatch):
    """verl's own sample(): flat groups are evicted, 2 prompts refilled per eviction, and the
    batch holds only groups keep_mask keeps."""
    fake = FakeTransferQueue()
    first = ["flat", "at-epsilon", "binary-mixed", "format-failure"]
    for uid in first:
        fake.add_group(uid, GROUPS[uid])
    queue = iter(
        [("just-below", GROUPS["just-below"])]
        + [(f"fresh{i}", [0.0, 0.5 + i / 10]) for i in range(8)]
    )
    refills = []

    def refill(n):
        refills.append(n)
        for _ in range(n):
            uid, rewards = next(queue)
            fake.add_group(uid, rewards)

    buffer = _srl_buffer(monkeypatch, fake, EPSILON, refill=refill, batch=4)
    batch, metrics = buffer.sample(global_steps=1, partition_id="train", batch_size=4)
    chosen = {key.split("_")[0] for key in batch.keys}
    seen = set(first) | {uid for uid in fake.store["train"] if not uid.count("_")} | chosen
    assert len(chosen) == 4
    for uid in chosen:
        rewards = GROUPS.get(uid) or [0.0, 0.5 + int(uid[5:]) / 10]
        assert bool(keep_mask([_as_verl_holds(rewards)], epsilon=EPSILON)[0]), uid
    assert refills[0] == 4  # two evictions in the first poll -> 2 x 2 prompts
    assert metrics["training/filter_groups/evicted_samples"] >= 2
    assert not {"flat", "at-epsilon"} & seen - set(first)

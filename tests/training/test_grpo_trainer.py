"""SRLGRPOTrainer on the tiny local model: filtering, refill, loss normaliser, training runs."""

from __future__ import annotations

import math

import pytest
import torch

pytest.importorskip("trl")

from datasets import Dataset

from srlkit.training.grpo import LOSS_SCALE_KEY, SRLGRPOConfig, SRLGRPOTrainer

G = 4


def make_config(tmp_path, **overrides) -> SRLGRPOConfig:
    settings = {
        "use_cpu": True,
        "bf16": False,
        "per_device_train_batch_size": 16,
        "num_generations": G,
        "max_completion_length": 6,
        "max_steps": 2,
        "logging_steps": 1,
        "report_to": [],
        "learning_rate": 1e-2,
        "save_strategy": "no",
        "disable_tqdm": True,
        "seed": 0,
    }
    settings.update(overrides)
    return SRLGRPOConfig(str(tmp_path / "out"), **settings)


def prompt_dataset(n: int = 16) -> Dataset:
    """Even ids are 'informative' prompts (their rewards vary), odd ids are flat."""
    return Dataset.from_dict(
        {
            "prompt": [
                [{"role": "user", "content": f"Problem {i}: what is the next step?"}]
                for i in range(n)
            ],
            "pid": list(range(n)),
            "informative": [i % 2 == 0 for i in range(n)],
        }
    )


class RecordingReward:
    """Informative prompts get a reward that varies with the completion; the others a flat 0.5.

    Every call is recorded (prompt ids and rewards in row order) so tests can check what the
    trainer did with each generation round.
    """

    __name__ = "recording_reward"

    def __init__(self):
        self.calls: list[tuple[list[int], list[float]]] = []

    def __call__(self, completions, pid, informative, **kwargs):
        rewards = []
        for completion, inf in zip(completions, informative):
            text = completion[0]["content"]
            rewards.append((sum(map(ord, text)) % 97) / 96 if inf else 0.5)
        self.calls.append((list(pid), rewards))
        return rewards


def grouped_inputs(dataset: Dataset, pids: list[int]) -> list[dict]:
    """One generation batch as TRL's RepeatSampler lays it out: each prompt G times in a row."""
    return [dataset[p] for p in pids for _ in range(G)]


@pytest.fixture(scope="module")
def filtering_trainer(tiny_model_dir, tmp_path_factory):
    """A trainer that filters without refill (max_generation_rounds=1), ready to generate."""
    reward = RecordingReward()
    args = make_config(
        tmp_path_factory.mktemp("filtering"), max_generation_rounds=1, loss_type="grpo"
    )
    trainer = SRLGRPOTrainer(
        model=str(tiny_model_dir), reward_funcs=reward, args=args, train_dataset=prompt_dataset()
    )
    trainer.model.train()
    trainer.current_gradient_accumulation_steps = 1
    return trainer, reward


@pytest.fixture(scope="module")
def filtered_batch(filtering_trainer):
    """One generation batch of prompts 0-3 (0 and 2 informative): the batch and its reward call."""
    trainer, reward = filtering_trainer
    batch = trainer._generate_and_score_completions(grouped_inputs(prompt_dataset(), [0, 1, 2, 3]))
    return batch, reward.calls[-1], trainer.last_dynamic_sampling, trainer.last_keep_masks


@pytest.mark.slow
def test_batch_keeps_informative_groups_and_masks_padding(filtered_batch):
    batch, (pids, rewards), plan, keep_masks = filtered_batch
    assert keep_masks == [[True, False, True, False]]
    assert plan.selected == [(0, 0), (0, 2)] and plan.padding == [(0, 1), (0, 3)]

    # rows 0-7: groups of prompts 0 and 2 (real); rows 8-15: prompts 1 and 3 (padding)
    assert pids == [0] * G + [1] * G + [2] * G + [3] * G
    real_mask = batch["completion_mask"][: 2 * G]
    assert (real_mask.sum(dim=1) > 0).all()
    assert batch["completion_mask"][2 * G :].sum() == 0
    assert batch["advantages"][2 * G :].abs().sum() == 0
    assert batch["num_items_in_batch"].item() == real_mask.sum().item()
    assert batch[LOSS_SCALE_KEY].item() == pytest.approx(2.0)  # 16 rows, 8 real, loss_type "grpo"

    # advantages of the kept groups: TRL's formula over each group's recorded rewards
    for k, group in enumerate([0, 2]):
        r = torch.tensor(rewards[group * G : (group + 1) * G])
        expected = (r - r.mean()) / (r.std() + 1e-4)
        assert batch["advantages"][k * G : (k + 1) * G].tolist() == pytest.approx(
            expected.tolist(), abs=1e-5
        )


@pytest.mark.slow
@pytest.mark.parametrize("loss_type", ["grpo", "dr_grpo", "dapo", "bnpo"])
def test_padding_does_not_dilute_the_loss_normaliser(
    filtering_trainer, filtered_batch, loss_type, monkeypatch
):
    """[real groups + masked padding] gives the gradient TRL computes on the real groups alone.

    Gradients, not loss values, are compared: at the sampling policy the GRPO loss value is
    -mean(advantage) ~ 0 whatever the normaliser, while its gradient scales with 1 / normaliser.
    """
    trainer, _ = filtering_trainer
    batch = dict(filtered_batch[0])
    monkeypatch.setattr(trainer, "loss_type", loss_type)
    batch[LOSS_SCALE_KEY] = trainer._loss_scale(total_rows=4 * G, real_rows=2 * G)
    real_only = {
        k: (v[: 2 * G] if torch.is_tensor(v) and v.dim() > 0 else v) for k, v in batch.items()
    }
    del real_only[LOSS_SCALE_KEY]

    def gradient(loss_fn, inputs):
        trainer.model.zero_grad()
        loss_fn(trainer.model, inputs).backward()
        return torch.cat(
            [p.grad.flatten() for p in trainer.model.parameters() if p.grad is not None]
        )

    padded = gradient(trainer.compute_loss, batch)
    plain = gradient(super(SRLGRPOTrainer, trainer).compute_loss, real_only)
    assert plain.norm() > 0
    torch.testing.assert_close(padded, plain, rtol=1e-4, atol=1e-7)
    unscaled = gradient(super(SRLGRPOTrainer, trainer).compute_loss, batch)
    if loss_type in ("grpo", "dr_grpo"):  # without the rescaling, padding halves the gradient
        torch.testing.assert_close(unscaled, plain / 2, rtol=1e-4, atol=1e-7)


@pytest.mark.slow
def test_first_round_full_returns_trls_batch_unchanged(filtering_trainer):
    trainer, _ = filtering_trainer
    batch = trainer._generate_and_score_completions(grouped_inputs(prompt_dataset(), [0, 2, 4, 6]))
    assert trainer.last_dynamic_sampling.is_first_round_whole
    assert LOSS_SCALE_KEY not in batch
    assert batch["completion_ids"].shape[0] == 4 * G


@pytest.mark.slow
def test_train_refills_changes_parameters_and_logs(tiny_model_dir, tmp_path):
    reward = RecordingReward()
    args = make_config(tmp_path, max_generation_rounds=4, per_device_train_batch_size=8)
    trainer = SRLGRPOTrainer(
        model=str(tiny_model_dir), reward_funcs=reward, args=args, train_dataset=prompt_dataset()
    )
    before = {n: p.detach().clone() for n, p in trainer.model.named_parameters()}
    trainer.train()
    changed = [n for n, p in trainer.model.named_parameters() if not torch.equal(p, before[n])]
    assert changed, "no parameter changed after training"

    logs = [h for h in trainer.state.log_history if "dynamic_sampling/generation_rounds" in h]
    assert len(logs) == 2  # one per step
    for key in ("kept_fraction", "rollouts_per_kept_rollout", "batch_filled_fraction"):
        assert all(f"dynamic_sampling/{key}" in h for h in logs)
    for h in logs:  # verl-style phase timings: every phase logged, refill only when it ran
        phases = {k: h[f"timing_s/{k}"] for k in ("generate", "reward", "refill", "update")}
        assert phases["generate"] > 0 and phases["update"] > 0 and phases["reward"] >= 0
        assert (phases["refill"] > 0) == (h["dynamic_sampling/generation_rounds"] > 1)

    # the last step's rounds are the last reward calls; each keep decision matches its group's prompt
    masks = trainer.last_keep_masks
    calls = reward.calls[-len(masks) :]
    for mask, (pids, _) in zip(masks, calls):
        groups = [pids[j * G : (j + 1) * G] for j in range(len(mask))]
        assert all(len(set(g)) == 1 for g in groups), "a group mixes prompts"
        assert mask == [g[0] % 2 == 0 for g in groups]
    plan = trainer.last_dynamic_sampling
    assert len(plan.selected) == min(plan.groups_informative, plan.batch_groups)
    assert plan.rounds == len(masks) <= 4


def test_config_validation(tmp_path):
    with pytest.raises(ValueError, match="dynamic_sampling_rule"):
        make_config(tmp_path, dynamic_sampling_rule="dapo")
    with pytest.raises(ValueError, match="max_generation_rounds"):
        make_config(tmp_path, max_generation_rounds=0)
    with pytest.raises(ValueError, match="dynamic_sampling_epsilon"):
        make_config(tmp_path, dynamic_sampling_epsilon=-0.1)
    config = make_config(tmp_path)
    assert config.dynamic_sampling and config.dynamic_sampling_rule == "std"
    assert config.dynamic_sampling_epsilon == 0.01 and config.max_generation_rounds == 5


def test_constructor_is_trls():
    import inspect

    from trl import GRPOTrainer

    assert inspect.signature(SRLGRPOTrainer.__init__) == inspect.signature(GRPOTrainer.__init__)


@pytest.mark.slow
def test_refill_prompts_are_seeded_grouped_and_fresh_per_round(tiny_model_dir, tmp_path):
    args = make_config(tmp_path)
    trainer = SRLGRPOTrainer(
        model=str(tiny_model_dir),
        reward_funcs=RecordingReward(),
        args=args,
        train_dataset=prompt_dataset(),
    )
    first = [row["pid"] for row in trainer._refill_inputs(1, 4 * G)]
    again = [row["pid"] for row in trainer._refill_inputs(1, 4 * G)]
    other = [row["pid"] for row in trainer._refill_inputs(2, 4 * G)]
    assert (
        first == again
    )  # same (seed, step, micro-step, round): same prompts, on every process and after resume
    groups = [first[j * G : (j + 1) * G] for j in range(4)]
    assert all(len(set(g)) == 1 for g in groups)  # each prompt repeated G times in a row
    assert len({g[0] for g in groups}) == 4  # B distinct prompts in a round
    assert other != first


@pytest.mark.slow
def test_iterable_dataset_with_refill_is_refused_clearly(tiny_model_dir, tmp_path):
    iterable = prompt_dataset().to_iterable_dataset()
    args = make_config(tmp_path, max_generation_rounds=3)
    trainer = SRLGRPOTrainer(
        model=str(tiny_model_dir), reward_funcs=RecordingReward(), args=args, train_dataset=iterable
    )
    with pytest.raises(ValueError, match="IterableDataset"):
        trainer.get_train_dataloader()


@pytest.mark.slow
def test_accumulation_iterations_and_kl_work_with_assembled_batches(tiny_model_dir, tmp_path):
    """Assembled batches carry old/ref log-probs and survive TRL's split into accumulation steps."""
    args = make_config(
        tmp_path,
        per_device_train_batch_size=8,
        gradient_accumulation_steps=2,  # steps_per_generation = 2: the batch is split in two
        num_iterations=2,  # each generation batch is used twice: old log-probs are computed
        beta=0.1,  # a reference model: ref log-probs are computed
        max_generation_rounds=3,
        max_steps=1,
    )
    trainer = SRLGRPOTrainer(
        model=str(tiny_model_dir),
        reward_funcs=RecordingReward(),
        args=args,
        train_dataset=prompt_dataset(),
    )
    seen = []
    original = trainer._assemble

    def spy(plan, rounds):
        batch = original(plan, rounds)
        seen.append(batch)
        return batch

    trainer._assemble = spy
    before = {n: p.detach().clone() for n, p in trainer.model.named_parameters()}
    trainer.train()
    assert seen, "no step needed re-assembly (all groups informative in the first round)"
    for batch in seen:
        rows = batch["completion_ids"].shape[0]
        assert rows == 4 * G  # generation batch: 8 rows x 2 accumulation steps
        for key in ("old_per_token_logps", "ref_per_token_logps"):
            assert batch[key].shape == batch["completion_ids"].shape
    assert any(not torch.equal(p, before[n]) for n, p in trainer.model.named_parameters())
    assert all(math.isfinite(h["loss"]) for h in trainer.state.log_history if "loss" in h)


@pytest.mark.slow
def test_adaptive_refill_generates_smaller_rounds_with_fresh_prompts(
    filtering_trainer, monkeypatch
):
    """Round 0 keeps 3 of 4 groups (rate 3/4): 1 missing -> ceil(1 * 4 / 3) = 2 groups, i.e. a
    refill round of 2 * G rows where refill_size="full" would generate 4 * G."""
    trainer, reward = filtering_trainer
    monkeypatch.setattr(trainer.args, "max_generation_rounds", 4)
    monkeypatch.setattr(trainer.args, "refill_size", "adaptive")
    calls_before = len(reward.calls)
    trainer._generate_and_score_completions(grouped_inputs(prompt_dataset(), [0, 2, 4, 1]))
    calls = reward.calls[calls_before:]
    assert trainer.last_keep_masks[0] == [True, True, True, False]
    assert len(calls[1][0]) == 2 * G  # the refill round: 2 prompts, not 4
    assert [len(m) for m in trainer.last_keep_masks][:2] == [4, 2]
    plan = trainer.last_dynamic_sampling
    assert plan.groups_generated == sum(len(m) for m in trainer.last_keep_masks)


@pytest.mark.slow
def test_eval_greedy_decodes_greedily_and_restores_sampling(tiny_model_dir, tmp_path):
    """With eval_greedy, validation rollouts of one prompt are identical; training still samples."""
    reward = RecordingReward()
    args = make_config(
        tmp_path,
        eval_greedy=True,
        per_device_eval_batch_size=8,
        num_generations_eval=G,
        max_steps=1,
        temperature=1.0,
    )
    data = prompt_dataset(4)
    trainer = SRLGRPOTrainer(
        model=str(tiny_model_dir),
        reward_funcs=reward,
        args=args,
        train_dataset=data,
        eval_dataset=data,
    )
    sampling_config = trainer.generation_config
    trainer.evaluate()
    eval_calls = list(reward.calls)
    assert eval_calls
    for pids, rewards in eval_calls:
        groups = [rewards[j * G : (j + 1) * G] for j in range(len(pids) // G)]
        assert all(len(set(g)) == 1 for g in groups), "greedy rollouts of one prompt differ"
    assert trainer.generation_config is sampling_config and sampling_config.do_sample
    # the same validation sampled at temperature 1 gives differing rollouts somewhere
    trainer.args.eval_greedy = False
    reward.calls.clear()
    trainer.evaluate()
    assert any(
        len(set(r[j * G : (j + 1) * G])) > 1
        for pids, r in reward.calls
        for j in range(len(pids) // G)
    )


def test_greedy_validation_sets_vllm_temperature_zero_and_restores_it_after_errors():
    """The vLLM half of eval_greedy, without vLLM: TRL's VLLMGeneration reads its ``temperature``
    attribute at every generate call, so the trainer sets it to 0 (greedy) during validation."""
    from types import SimpleNamespace

    trainer = SRLGRPOTrainer.__new__(SRLGRPOTrainer)  # no model needed for the swap itself
    trainer.use_vllm = True
    trainer.vllm_generation = SimpleNamespace(temperature=0.7)
    trainer.generation_kwargs = None
    with trainer._greedy_generation():
        assert trainer.vllm_generation.temperature == 0.0
    assert trainer.vllm_generation.temperature == 0.7
    with pytest.raises(RuntimeError), trainer._greedy_generation():
        raise RuntimeError("validation failed")
    assert trainer.vllm_generation.temperature == 0.7

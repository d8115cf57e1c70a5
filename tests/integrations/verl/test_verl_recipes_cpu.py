"""The verl recipes compose with verl's own Hydra config and carry the paper's values."""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = [pytest.mark.verl, pytest.mark.usefixtures("verl_installed")]

RECIPES = Path(__file__).resolve().parents[3] / "recipes" / "verl"
CASES = {
    "srl": ("qwen2.5-7b-instruct/srl", "config", 512, "std", "Qwen/Qwen2.5-7B-Instruct"),
    "srl_rlvr-rlvr": (
        "qwen2.5-7b-instruct/srl_rlvr",
        "rlvr",
        128,
        "outcome",
        "runs/verl/qwen2.5-7b-instruct/srl_rlvr/srl_hf",
    ),
    "srl_swe": (
        "qwen2.5-coder-7b-instruct/srl_swe",
        "config",
        512,
        "std",
        "Qwen/Qwen2.5-Coder-7B-Instruct",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_recipe_composes_with_verl_and_builds_the_srl_sampler(case, monkeypatch):
    from hydra import compose, initialize_config_dir
    from omegaconf import OmegaConf

    folder, name, batch, rule, model = CASES[case]
    with initialize_config_dir(config_dir=str(RECIPES / folder), version_base=None):
        config = compose(config_name=name)
    OmegaConf.resolve(config)
    assert config.data.train_batch_size == batch
    assert config.actor_rollout_ref.model.path == model
    assert config.actor_rollout_ref.rollout.n == 8
    assert config.actor_rollout_ref.rollout.temperature == 1.0
    assert config.actor_rollout_ref.actor.optim.lr == 5.0e-7
    assert config.actor_rollout_ref.actor.use_kl_loss is False
    assert config.algorithm.adv_estimator == "grpo"
    assert config.algorithm.filter_groups.enable is False  # replaced by SRLReplayBuffer
    assert config.trainer.use_v1 is True and config.trainer.v1.trainer_mode == "sync"
    sampler = config.trainer.v1.sampler
    assert sampler.custom_sampler.name == "SRLReplayBuffer"
    assert sampler.sampler_kwargs.train_batch_size == batch  # the interpolation resolved

    from test_verl_engine_cpu import FakeTransferQueue, _buffer

    from srlkit.integrations.verl.sampler import SRLReplayBuffer

    buffer = _buffer(
        SRLReplayBuffer, monkeypatch, FakeTransferQueue(), sampler_kwargs=sampler.sampler_kwargs
    )
    assert (buffer.srl_rule, buffer.srl_epsilon) == (rule, 0.01)
    assert (buffer.train_batch_size, buffer.gen_batch_size) == (batch, 1)
    assert buffer.filter_groups_metric == "reward"

"""The TRL internals the dynamic-sampling trainer relies on: present now, named when they move."""

from __future__ import annotations

import pytest

from srlkit.training.trl_contract import (
    ATTRIBUTES,
    GENERATE_ATTRIBUTES,
    METHODS,
    attribute_problems,
    check_trainer,
    method_problems,
)


def test_installed_trl_has_every_internal_we_use():
    from trl import GRPOTrainer

    assert method_problems(GRPOTrainer) == []


def test_a_moved_method_is_named():
    from trl import GRPOTrainer

    class Moved(GRPOTrainer):
        _calculate_rewards = None  # as if TRL renamed it

        def _generate_and_score_completions(self, batch):  # as if TRL renamed the parameter
            return batch

    problems = method_problems(Moved)
    assert "GRPOTrainer._calculate_rewards is gone" in problems
    assert any("_generate_and_score_completions('batch',)" in p for p in problems)


def test_a_missing_attribute_is_named_with_the_tested_version():
    class Half:
        pass

    half = Half()
    for name in ATTRIBUTES + GENERATE_ATTRIBUTES:
        if name != "_metrics":
            setattr(half, name, None)
    half.use_vllm = False
    assert attribute_problems(half) == ["GRPOTrainer instance has no attribute '_metrics'"]
    with pytest.raises(RuntimeError, match=r"'_metrics'.*Install trl~=1\.16\.0"):
        check_trainer(half)


def test_the_contract_lists_what_the_trainer_overrides():
    """Every TRL method SRLGRPOTrainer overrides is in the contract (a new override must be
    added there, so the check keeps covering it)."""
    from trl import GRPOTrainer

    from srlkit.training.grpo import SRLGRPOTrainer

    overridden = {
        name
        for name, value in vars(SRLGRPOTrainer).items()
        if callable(value) and hasattr(GRPOTrainer, name) and name != "__init__"
    }
    assert overridden <= set(METHODS)


def test_the_generation_backend_decides_which_attributes_are_checked():
    class Trainer:
        pass

    trainer = Trainer()
    for name in ATTRIBUTES:
        setattr(trainer, name, None)
    trainer.use_vllm = True
    trainer.vllm_generation = object()  # no temperature to swap for greedy validation
    assert attribute_problems(trainer) == [
        "GRPOTrainer instance has no attribute 'vllm_generation.temperature'"
    ]
    trainer.use_vllm = False
    assert attribute_problems(trainer) == [
        "GRPOTrainer instance has no attribute 'generation_kwargs'",
        "GRPOTrainer instance has no attribute 'generation_config'",
    ]


SRLKIT_OWN = {"_step_seconds", "_times", "_refill_dataset_cache", "_rollout_log"}


@pytest.mark.parametrize("module", ["grpo", "rollout_log"])
def test_no_trainer_attribute_is_read_with_a_default(module):
    """A TRL attribute read as getattr(trainer, name, default) would turn a feature off silently
    when TRL renames it; those go through the contract. Only srlkit's own lazily set
    attributes may be read that way."""
    import ast
    from pathlib import Path

    import srlkit.training

    path = Path(srlkit.training.__file__).parent / f"{module}.py"
    read = {
        node.args[1].value
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Call)
        and getattr(node.func, "id", None) == "getattr"
        and isinstance(node.args[0], ast.Name)
        and node.args[0].id in ("self", "trainer")
        and isinstance(node.args[1], ast.Constant)
    }
    assert read <= SRLKIT_OWN

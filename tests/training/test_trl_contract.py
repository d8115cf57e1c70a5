"""The TRL internals the dynamic-sampling trainer relies on: present now, named when they move."""

from __future__ import annotations

import pytest

from srlkit.training.trl_contract import (
    ATTRIBUTES,
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
    for name in ATTRIBUTES:
        if name != "_metrics":
            setattr(half, name, None)
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

"""Which GRPO trainer srlkit drives: the one place that names it.

Why a factory: the SRL and RLVR runs need TRL's ``GRPOTrainer`` extended with dynamic sampling
(:mod:`srlkit.training.grpo`). Everything else in :mod:`srlkit.training` (configs, data,
callbacks, the CLI) asks this function for the classes instead of importing them, so the
trainer can be swapped in one line and tests exercise exactly what users run.
"""

from __future__ import annotations

from typing import Any


def grpo_classes() -> tuple[type[Any], type[Any]]:
    """Return ``(ConfigClass, TrainerClass)`` for GRPO-based methods (SRL and RLVR).

    The trainer's constructor is exactly TRL's ``GRPOTrainer(model, reward_funcs, args,
    train_dataset, eval_dataset, processing_class, ..., callbacks, peft_config)``.
    """
    from srlkit.training.grpo import SRLGRPOConfig, SRLGRPOTrainer

    return SRLGRPOConfig, SRLGRPOTrainer


def sft_classes() -> tuple[type[Any], type[Any]]:
    """Return ``(SFTConfig, SFTTrainer)`` from TRL (no srlkit extension is needed for SFT)."""
    from trl import SFTConfig, SFTTrainer

    return SFTConfig, SFTTrainer

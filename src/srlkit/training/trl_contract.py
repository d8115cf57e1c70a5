"""The TRL internals :class:`~srlkit.training.grpo.SRLGRPOTrainer` relies on, checked by name.

TRL has no public hook for dynamic sampling, so the trainer overrides private methods of
``GRPOTrainer`` and reads private attributes. They are listed here, once, and checked when a
trainer is built (and by the test suite): if a TRL release renames or re-signs one, the error
names it and the TRL version srlkit was tested with, instead of a wrong batch or an
``AttributeError`` hours into a run. srlkit pins TRL to the minor version CI runs
(``trl~=1.16.0`` in ``pyproject.toml``).
"""

from __future__ import annotations

import inspect
from typing import Any

TESTED_TRL = "1.16"

# GRPOTrainer methods we override or call, with the parameters we pass (after ``self``).
METHODS: dict[str, tuple[str, ...]] = {
    "_generate_and_score_completions": ("inputs",),
    "_calculate_rewards": ("inputs", "prompts", "completions", "completion_ids_list"),
    "_remove_unused_columns": ("dataset", "description"),
    "training_step": ("model", "inputs", "num_items_in_batch"),
    "compute_loss": ("model", "inputs", "return_outputs", "num_items_in_batch"),
    "get_train_dataloader": (),
    "evaluate": (),
}

# Attributes of a constructed GRPOTrainer we read (``current_gradient_accumulation_steps`` is
# read too, but only after TRL's own ``training_step`` has used it). ``_is_vlm`` refuses dynamic
# sampling on vision inputs; ``vllm_importance_sampling_mode`` decides which batch fields are
# per sequence; the rollout log reads ``reward_func_names`` and ``reward_funcs``.
ATTRIBUTES: tuple[str, ...] = (
    "_is_vlm",
    "_metrics",
    "_step",
    "_tokenizer",
    "accelerator",
    "loss_type",
    "multi_objective_aggregation",
    "num_generations",
    "pad_to_multiple_of",
    "reward_func_names",
    "reward_funcs",
    "reward_weights",
    "scale_rewards",
    "use_vllm",
    "vllm_importance_sampling_mode",
)

# What greedy validation swaps for sampling settings: with vLLM, ``vllm_generation.temperature``;
# with transformers' generate, ``generation_kwargs`` and ``generation_config``.
VLLM_ATTRIBUTES: tuple[str, ...] = ("vllm_generation", "vllm_generation.temperature")
GENERATE_ATTRIBUTES: tuple[str, ...] = ("generation_kwargs", "generation_config")


def method_problems(trainer_class: type) -> list[str]:
    """What is missing or re-signed among :data:`METHODS` on ``trainer_class`` ([] when fine)."""
    problems = []
    for name, params in METHODS.items():
        method = getattr(trainer_class, name, None)
        if method is None:
            problems.append(f"GRPOTrainer.{name} is gone")
            continue
        actual = tuple(inspect.signature(method).parameters)[1:]
        if actual[: len(params)] != params:
            problems.append(f"GRPOTrainer.{name}{actual} no longer takes {params}")
    return problems


def _has(obj: Any, dotted: str) -> bool:
    for name in dotted.split("."):
        if not hasattr(obj, name):
            return False
        obj = getattr(obj, name)
    return True


def attribute_problems(trainer: Any) -> list[str]:
    """Which of :data:`ATTRIBUTES` (and of the generation backend's) a constructed trainer
    lacks ([] when fine)."""
    names = ATTRIBUTES
    if hasattr(trainer, "use_vllm"):
        names += VLLM_ATTRIBUTES if trainer.use_vllm else GENERATE_ATTRIBUTES
    return [
        f"GRPOTrainer instance has no attribute {name!r}"
        for name in names
        if not _has(trainer, name)
    ]


def _raise(problems: list[str]) -> None:
    import trl

    raise RuntimeError(
        f"srlkit's dynamic-sampling trainer was written against TRL {TESTED_TRL}.x; the installed "
        f"TRL {trl.__version__} does not match: {'; '.join(problems)}. "
        f"Install trl~={TESTED_TRL}.0."
    )


def check_trainer(trainer: Any) -> None:
    """Raise one clear error if ``trainer``'s TRL base moved any internal srlkit relies on."""
    from trl import GRPOTrainer

    problems = method_problems(GRPOTrainer) + attribute_problems(trainer)
    if problems:
        _raise(problems)

"""GRPO group advantages as pure tensor functions, the same maths as TRL 1.16's GRPOTrainer.

Why own a copy: TRL computes advantages inline, over *every* group it generated in one call.
With dynamic sampling the batch that trains is assembled from several generation rounds after
the uninformative groups are dropped, so the advantages must be recomputed over exactly that
batch: with ``scale_rewards="batch"`` or ``multi_objective_aggregation="normalize_then_sum"``
the normalising statistics are batch-wide, and must not include dropped groups. Groups marked
as padding get advantage 0. The formulas below follow TRL line for line (NaN-aware means,
Bessel-corrected std, 1e-4 stabiliser); ``tests/training/test_dynamic_sampling.py`` checks them
on hand-computed cases.

Shapes: ``N`` rollouts (``N = num_groups * G``, group-contiguous), ``F`` reward functions.
"""

from __future__ import annotations

import torch

STD_STABILISER = 1e-4  # TRL adds this to the std before dividing


def nanstd(x: torch.Tensor, dim: int | None = None, keepdim: bool = False) -> torch.Tensor:
    """Bessel-corrected std ignoring NaNs (NaN when fewer than two values), as TRL's ``nanstd``."""
    if dim is None:
        x, dim = x.reshape(-1), 0
    mean = torch.nanmean(x, dim=dim, keepdim=True)
    variance = torch.nanmean((x - mean) ** 2, dim=dim, keepdim=True)
    count = (~torch.isnan(x)).sum(dim=dim, keepdim=True)
    correction = torch.where(
        count > 1, count / (count - 1), torch.full_like(variance, float("nan"))
    )
    std = torch.sqrt(variance * correction)
    return std if keepdim else std.squeeze(dim)


def combine_rewards(rewards_per_func_NF: torch.Tensor, weights_F: torch.Tensor) -> torch.Tensor:
    """Weighted sum over reward functions, NaN-skipping; NaN where every function returned None.

    Shapes: ``(N, F)``, ``(F,)`` -> ``(N,)``.
    """
    weights = weights_F.to(rewards_per_func_NF.device, rewards_per_func_NF.dtype)
    rewards = (rewards_per_func_NF * weights.unsqueeze(0)).nansum(dim=1)
    unscorable = torch.isnan(rewards_per_func_NF).all(dim=1)
    return rewards.masked_fill(unscorable, float("nan"))


def grpo_advantages(
    rewards_per_func_NF: torch.Tensor,
    weights_F: torch.Tensor,
    num_generations: int,
    scale_rewards: str = "group",
    aggregation: str = "sum_then_normalize",
    padding_N: torch.Tensor | None = None,
) -> torch.Tensor:
    """GRPO advantages of group-contiguous rollouts; padding rows are ignored and get 0.

    Shapes: ``rewards_per_func_NF`` (N, F), ``weights_F`` (F,), ``padding_N`` (N,) bool ->
    advantages (N,). ``scale_rewards`` and ``aggregation`` take TRL's ``GRPOConfig`` values
    (``scale_rewards``: "group" | "batch" | "none"; ``multi_objective_aggregation``:
    "sum_then_normalize" | "normalize_then_sum"). Unscorable rollouts get 0, as in TRL.

    >>> r = torch.tensor([[0.0], [1.0], [0.5], [0.5]])
    >>> [round(a, 3) for a in grpo_advantages(r, torch.ones(1), num_generations=2).tolist()]
    [-0.707, 0.707, 0.0, 0.0]
    """
    n_rows, n_funcs = rewards_per_func_NF.shape
    if n_rows % num_generations:
        raise ValueError(f"{n_rows} rollouts do not form whole groups of {num_generations}")
    padding = (
        torch.zeros(n_rows, dtype=torch.bool)
        if padding_N is None
        else padding_N.to(torch.bool).cpu()
    )
    advantages = torch.zeros(
        n_rows, dtype=rewards_per_func_NF.dtype, device=rewards_per_func_NF.device
    )
    real = (~padding).nonzero(as_tuple=True)[0].to(rewards_per_func_NF.device)
    if real.numel() % num_generations:
        raise ValueError("padding must cover whole groups of rollouts")
    if real.numel() == 0:
        return advantages
    rewards_per_func = rewards_per_func_NF[real]
    unscorable = torch.isnan(rewards_per_func).all(dim=1)
    weights = weights_F.to(rewards_per_func.device, rewards_per_func.dtype)
    if aggregation == "sum_then_normalize":
        rewards = combine_rewards(rewards_per_func, weights)
        grouped = rewards.view(-1, num_generations)
        mean = torch.nanmean(grouped, dim=1).repeat_interleave(num_generations)
        if scale_rewards in ("group", "none"):
            std = nanstd(grouped, dim=1).repeat_interleave(num_generations)
        elif scale_rewards == "batch":
            std = nanstd(rewards).expand_as(rewards)
        else:
            raise ValueError(
                f"scale_rewards must be 'group', 'batch' or 'none', got {scale_rewards!r}"
            )
        real_advantages = rewards - mean
        if scale_rewards != "none":
            real_advantages = real_advantages / (std + STD_STABILISER)
    elif aggregation == "normalize_then_sum":
        grouped = rewards_per_func.view(-1, num_generations, n_funcs)
        mean_k = torch.nanmean(grouped, dim=1, keepdim=True)
        std_k = nanstd(grouped, dim=1, keepdim=True)
        normalised = ((grouped - mean_k) / (std_k + STD_STABILISER)).view(-1, n_funcs)
        rewards = (
            (normalised * weights.unsqueeze(0)).nansum(dim=1).masked_fill(unscorable, float("nan"))
        )
        real_advantages = (rewards - torch.nanmean(rewards)) / (nanstd(rewards) + STD_STABILISER)
    else:
        raise ValueError(f"unknown multi_objective_aggregation {aggregation!r}")
    advantages[real] = torch.nan_to_num(real_advantages, nan=0.0)
    return advantages

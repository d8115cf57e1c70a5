"""Dynamic sampling for GRPO: which prompt groups carry a learning signal, and the refill loop.

Why: GRPO normalises each reward by its group's mean and std. A group whose G rollouts all
earn (nearly) the same reward has (nearly) zero advantage everywhere: it costs a forward and
backward pass and teaches nothing, yet it still counts in the loss normaliser and so shrinks the
gradient of the groups that do teach. Worse, a group whose spread is tiny but non-zero (one
rollout one character closer to the expert step) is *amplified* to full-size advantages by the
division by its std. SRL (Deng et al., 2025) therefore keeps a prompt only if the population std
of its G rewards exceeds a threshold epsilon, and keeps sampling new prompts until the batch
holds B informative groups; the RLVR baseline keeps a prompt iff 0 < #correct < G (DAPO).

Everything here is a pure function over plain numbers or a ``(num_groups, G)`` tensor, so the
maths is testable by hand without a trainer; :mod:`srlkit.training.grpo` only wires it in.

Conventions
-----------
* ``rewards_NG``: rewards of ``N`` groups of ``G`` rollouts, row ``n`` = the G rollouts of one
  prompt, in the order GRPO's sampler lays them out. A nested list (``None`` allowed) or a
  tensor.
* Unscorable rollouts (reward ``None``/NaN, e.g. an outcome reward whose gold answer cannot be
  parsed; also +-inf, which only a broken reward function produces) are *left out* of the
  decision: the std and the correct-count are taken over the scorable rollouts only, exactly as
  TRL's advantage (a NaN-aware group mean) leaves them out. A group needs at least two scorable
  rollouts to have a spread; with fewer it is dropped.

>>> keep_mask([[0.2, 0.2, 0.2, 0.2], [0.0, 1.0, 0.5, -1.0]]).tolist()
[False, True]
>>> keep_mask([[1, 0, 0, 0], [1, 1, 1, 1]], rule="outcome").tolist()
[True, False]
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # torch is imported where a function needs it: the option names and defaults
    import torch  # below are read by `srl train --help`, which must not wait for torch

logger = logging.getLogger(__name__)

RULE_STD = "std"
RULE_OUTCOME = "outcome"
RULES = (RULE_STD, RULE_OUTCOME)

# Default threshold on the population std of a group's rewards (rule "std"). Why 0.01:
# * far above float round-off (the std of G identical float rewards can come out as ~1e-17, not 0)
#   and above TRL's 1e-4 std stabiliser, so groups that are "all the same" never slip through;
# * below every spread that carries a real signal: SRL rewards live in [0, 1] plus {-1}; a group of
#   G = 8 where a single rollout differs by 0.03 (a few characters of a 100-character step) has std
#   0.03 * sqrt(7) / 8 = 0.0099 and is dropped, one differing by 0.05 (std 0.017) is kept, and any
#   format failure (-1) beside a well-formed rollout (>= 0) gives std >= 0.33 and is kept;
# * for binary {0, 1} rewards every mixed group has std >= sqrt(G - 1) / G (0.33 for G = 8, still
#   0.1 for G = 99), so with this epsilon rule "std" agrees with DAPO's 0 < #correct < G rule.
DEFAULT_STD_EPSILON = 0.01
# Rule "outcome": a rollout counts as correct when its (weighted, summed) reward reaches this.
# 0.5 separates the outcome reward's 1.0 / 0.0 even when a small format bonus is added to it.
DEFAULT_CORRECT_THRESHOLD = 0.5


def _as_float_tensor(rewards_NG: Any) -> torch.Tensor:
    """Nested lists (``None`` = unscorable) or a tensor -> float64 ``(N, G)`` tensor with NaNs."""
    import torch

    if isinstance(rewards_NG, torch.Tensor):
        tensor = rewards_NG.detach().to(device="cpu", dtype=torch.float64)
    else:
        if any(not isinstance(row, Sequence) for row in rewards_NG):
            raise ValueError(
                "rewards must have shape (num_groups, G): a list of per-group reward lists"
            )
        rows = [[math.nan if r is None else float(r) for r in row] for row in rewards_NG]
        tensor = (
            torch.tensor(rows, dtype=torch.float64)
            if rows
            else torch.zeros(0, 0, dtype=torch.float64)
        )
    if tensor.dim() != 2:
        raise ValueError(
            f"rewards must have shape (num_groups, G); got shape {tuple(tensor.shape)}"
        )
    return tensor.masked_fill(~torch.isfinite(tensor), math.nan)


def group_population_std(rewards_NG: Any) -> torch.Tensor:
    """Population std (divide by n, not n - 1) of each group's scorable rewards.

    Shapes: ``rewards_NG`` (N, G) -> (N,) float64. Groups with fewer than two scorable rewards
    get std 0 (no spread can be observed).

    >>> group_population_std([[0.0, 1.0], [0.5, None]]).tolist()
    [0.5, 0.0]
    """
    import torch

    rewards = _as_float_tensor(rewards_NG)
    valid = ~torch.isnan(rewards)
    count = valid.sum(dim=1)
    filled = torch.where(valid, rewards, torch.zeros_like(rewards))
    mean = filled.sum(dim=1) / count.clamp(min=1)
    squared = torch.where(valid, (rewards - mean.unsqueeze(1)) ** 2, torch.zeros_like(rewards))
    std = (squared.sum(dim=1) / count.clamp(min=1)).sqrt()
    return torch.where(count >= 2, std, torch.zeros_like(std))


def keep_mask(
    rewards_NG: Any,
    rule: str = RULE_STD,
    epsilon: float = DEFAULT_STD_EPSILON,
    correct_threshold: float = DEFAULT_CORRECT_THRESHOLD,
) -> torch.Tensor:
    """Which groups carry a learning signal: ``(N, G)`` rewards -> ``(N,)`` bool keep mask.

    * ``rule="std"`` (SRL): keep iff the population std of the group's scorable rewards is
      strictly greater than ``epsilon``.
    * ``rule="outcome"`` (RLVR): keep iff 0 < #correct < #scorable, a rollout being correct when
      its reward is >= ``correct_threshold``. ``epsilon`` is not used.

    >>> keep_mask([[0.5, 0.5, 0.52, 0.5]], epsilon=0.01).tolist()  # std 0.0087: too flat
    [False]
    """
    import torch

    if rule not in RULES:
        raise ValueError(f"unknown dynamic sampling rule {rule!r}; expected one of {RULES}")
    rewards = _as_float_tensor(rewards_NG)
    if rule == RULE_STD:
        if epsilon < 0:
            raise ValueError(f"epsilon must be >= 0, got {epsilon}")
        return group_population_std(rewards) > epsilon
    valid = ~torch.isnan(rewards)
    correct = (valid & (torch.nan_to_num(rewards, nan=-math.inf) >= correct_threshold)).sum(dim=1)
    return (correct > 0) & (correct < valid.sum(dim=1))


@dataclass
class FillPlan:
    """Outcome of the refill loop for one generation batch.

    ``selected`` lists ``(round, group)`` of the informative groups that form the batch, in
    generation order (at most ``batch_groups``). When the rounds ran out first, ``padding`` lists
    ``(round, group)`` of dropped groups that fill the remaining slots only so that tensor shapes
    stay fixed; the trainer masks them out of the loss and its normaliser.
    """

    batch_groups: int
    selected: list[tuple[int, int]] = field(default_factory=list)
    padding: list[tuple[int, int]] = field(default_factory=list)
    rounds: int = 0
    groups_generated: int = 0
    groups_informative: int = 0  # informative groups generated, including any beyond batch_groups

    @property
    def exhausted(self) -> bool:
        """True when the rounds ran out before ``batch_groups`` informative groups were found."""
        return len(self.selected) < self.batch_groups

    @property
    def is_first_round_whole(self) -> bool:
        """True when the batch is exactly the first round, every group kept, in order."""
        return self.selected == [(0, g) for g in range(self.batch_groups)]

    def metrics(self, num_generations: int) -> dict[str, float]:
        """The per-step numbers a user watches (logged under ``dynamic_sampling/``).

        ``rollouts_per_kept_rollout`` is NaN when nothing was kept (TRL's logger skips NaNs).
        """
        used = len(self.selected)
        return {
            "kept_fraction": self.groups_informative / max(self.groups_generated, 1),
            "generation_rounds": float(self.rounds),
            "rollouts_per_kept_rollout": (self.groups_generated / used) if used else math.nan,
            "batch_filled_fraction": used / self.batch_groups,
            "rollouts_generated": float(self.groups_generated * num_generations),
        }


# How big a refill round is. "full": every round has the batch's B prompts (verl DAPO's rule).
# "adaptive": a refill round is sized from the keep rate seen so far in the step, to end the step
# with about B kept groups and no more: with 62% of groups kept, full rounds generate ~2 groups per
# kept group (round 0 keeps 0.62 B, a second full round brings 1.24 B) where 1 / 0.62 = 1.61 would
# do. The last allowed round is always full-size, so a step is never left short more often than
# with "full" for want of one more try.
REFILL_FULL = "full"
REFILL_ADAPTIVE = "adaptive"
REFILL_SIZES = (REFILL_ADAPTIVE, REFILL_FULL)


def refill_groups(
    missing: int,
    groups_generated: int,
    groups_informative: int,
    batch_groups: int,
    mode: str = REFILL_FULL,
    granularity: int = 1,
    last_round: bool = False,
) -> int:
    """How many prompt groups the next refill round generates.

    * ``mode="full"``, the last allowed round (``last_round``), or no group kept yet (no keep
      rate to go by): ``batch_groups``.
    * ``mode="adaptive"``: ``ceil(missing / keep_rate)`` with ``keep_rate = groups_informative /
      groups_generated`` over the step's rounds so far, i.e. the round whose expected yield is
      exactly the ``missing`` groups; never more than ``batch_groups``.

    The result is rounded up to a multiple of ``granularity`` (the group count whose rollouts
    split evenly over the processes: ``P / gcd(G, P)`` for P processes and G rollouts per
    prompt). ``batch_groups`` is itself such a multiple in TRL's layout, so the cap keeps it.

    >>> refill_groups(missing=3, groups_generated=8, groups_informative=5, batch_groups=8, mode="adaptive")
    5
    >>> refill_groups(3, 8, 5, 8, mode="full")
    8
    """
    if mode not in REFILL_SIZES:
        raise ValueError(f"unknown refill size {mode!r}; expected one of {REFILL_SIZES}")
    if missing < 1 or batch_groups < 1 or granularity < 1:
        raise ValueError(
            f"missing, batch_groups and granularity must be >= 1; got {missing}, {batch_groups}, {granularity}"
        )
    if mode == REFILL_FULL or last_round or groups_informative <= 0:
        return batch_groups
    wanted = -(-missing * groups_generated // groups_informative)  # exact integer ceil
    wanted = -(-wanted // granularity) * granularity
    return min(wanted, batch_groups)


def fill_batch(
    generate_round: Callable[[int, int], Sequence[bool]],
    batch_groups: int,
    max_rounds: int,
    refill_size: str = REFILL_FULL,
    granularity: int = 1,
) -> FillPlan:
    """Run generation rounds until ``batch_groups`` informative groups are found or rounds run out.

    ``generate_round(r, n)`` generates and scores round ``r`` (0-based) of ``n`` prompt groups
    and returns its keep mask (one bool per group). Round 0 always has ``batch_groups`` groups
    (the batch TRL's sampler drew); refill rounds are sized by :func:`refill_groups` with
    ``refill_size`` and ``granularity``. Informative groups are taken in generation order;
    those beyond ``batch_groups`` are discarded, as in verl's DAPO (keeping them for the next step would
    train on stale, off-policy rollouts). Must be called identically on every process: the
    trainer feeds it keep masks computed from rewards gathered across processes, so every
    process runs the same number of rounds and picks the same groups.

    >>> masks = iter([[True, False, False], [False, True, True]])
    >>> plan = fill_batch(lambda r, n: next(masks), batch_groups=3, max_rounds=4)
    >>> plan.selected, plan.rounds, plan.padding
    ([(0, 0), (1, 1), (1, 2)], 2, [])
    """
    if batch_groups < 1:
        raise ValueError(f"batch_groups must be >= 1, got {batch_groups}")
    if max_rounds < 1:
        raise ValueError(f"max_rounds must be >= 1, got {max_rounds}")
    plan = FillPlan(batch_groups=batch_groups)
    dropped: list[tuple[int, int]] = []
    while plan.rounds < max_rounds and len(plan.selected) < batch_groups:
        round_index = plan.rounds
        size = batch_groups
        if round_index > 0:
            size = refill_groups(
                batch_groups - len(plan.selected),
                plan.groups_generated,
                plan.groups_informative,
                batch_groups,
                refill_size,
                granularity,
                last_round=round_index == max_rounds - 1,
            )
        mask = [bool(k) for k in generate_round(round_index, size)]
        if len(mask) != size:
            raise ValueError(
                f"round {round_index} returned {len(mask)} keep flags for {size} groups"
            )
        plan.rounds += 1
        plan.groups_generated += len(mask)
        plan.groups_informative += sum(mask)
        for group, keep in enumerate(mask):
            if keep and len(plan.selected) < batch_groups:
                plan.selected.append((round_index, group))
            elif not keep:
                dropped.append((round_index, group))
    # Round 0 alone has batch_groups groups, so whatever is not selected was dropped:
    # there are always enough dropped groups to pad the batch to its size.
    plan.padding = dropped[: batch_groups - len(plan.selected)]
    return plan

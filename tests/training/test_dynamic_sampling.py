"""Keep mask, refill loop, group advantages and batch assembly: hand-computed cases, no trainer."""

from __future__ import annotations

import math

import pytest
import torch

from srlkit.training.dynamic_sampling import (
    DEFAULT_STD_EPSILON,
    fill_batch,
    group_population_std,
    keep_mask,
    refill_groups,
)
from srlkit.training.grpo_advantages import combine_rewards, grpo_advantages, nanstd
from srlkit.training.grpo_batch import check_supported, pad_to_width, take_rows

# ---- keep mask, rule "std" -------------------------------------------------------------------

STD_CASES = {
    # name: (rewards of one group, expected population std, kept with the default epsilon 0.01)
    "all_equal": ([0.3, 0.3, 0.3, 0.3], 0.0, False),
    "all_format_failures": ([-1.0, -1.0, -1.0, -1.0], 0.0, False),
    "two_levels": ([0.0, 1.0, 0.0, 1.0], 0.5, True),  # mean .5, every deviation .5
    "one_format_failure": (
        [-1.0, 0.0, 0.0, 0.0],
        math.sqrt(3) / 4,
        True,
    ),  # mean -.25: (.5625+3*.0625)/4
    "tiny_spread_dropped": (
        [0.5, 0.5, 0.52, 0.5],
        0.02 * math.sqrt(3) / 4,
        False,
    ),  # 0.00866 < 0.01
    "small_spread_kept": ([0.5, 0.5, 0.53, 0.5], 0.03 * math.sqrt(3) / 4, True),  # 0.01299 > 0.01
    "ints_accepted": ([0, 1], 0.5, True),
}


@pytest.mark.parametrize("name", sorted(STD_CASES))
def test_std_rule_hand_computed(name):
    rewards, expected_std, kept = STD_CASES[name]
    assert group_population_std([rewards]).item() == pytest.approx(expected_std, abs=1e-12)
    assert keep_mask([rewards]).tolist() == [kept]


def test_std_is_population_not_sample():
    # sample std of [0, 1] is 0.707; the paper's rule uses the population std 0.5
    assert group_population_std([[0.0, 1.0]]).item() == pytest.approx(0.5)
    assert keep_mask([[0.0, 1.0]], epsilon=0.6).tolist() == [False]


def test_std_threshold_is_strict():
    rewards = [[0.0, 1.0]]  # std exactly 0.5
    assert keep_mask(rewards, epsilon=0.5).tolist() == [False]
    assert keep_mask(rewards, epsilon=0.4999).tolist() == [True]


def test_identical_floats_never_kept_at_epsilon_zero_default_guard():
    # the float std of identical values may be ~1e-17, never above the default epsilon
    group = [[0.1] * 7]
    assert group_population_std(group).item() < 1e-15
    assert keep_mask(group).tolist() == [False]
    assert DEFAULT_STD_EPSILON > 1e-4


NAN_CASES = {
    # unscorable rollouts are left out of the statistics
    "none_left_out": ([None, 0.0, 1.0, None], 0.5, True),
    "nan_left_out": ([math.nan, 0.4, 0.4, 0.4], 0.0, False),
    "single_scorable": ([None, None, None, 0.7], 0.0, False),
    "all_unscorable": ([None, None, None, None], 0.0, False),
    "inf_is_unscorable": ([math.inf, 0.0, 1.0, 0.0], math.sqrt(2) / 3, True),
}


@pytest.mark.parametrize("name", sorted(NAN_CASES))
def test_std_rule_with_unscorable_rollouts(name):
    rewards, expected_std, kept = NAN_CASES[name]
    assert group_population_std([rewards]).item() == pytest.approx(expected_std, abs=1e-12)
    assert keep_mask([rewards]).tolist() == [kept]


def test_keep_mask_several_groups_and_tensor_input():
    rewards = torch.tensor([[0.2, 0.2, 0.2], [0.0, 0.5, 1.0], [-1.0, -1.0, -1.0], [1.0, 1.0, 0.0]])
    assert keep_mask(rewards).tolist() == [False, True, False, True]
    assert keep_mask(rewards).shape == (4,)


# ---- keep mask, rule "outcome" ---------------------------------------------------------------

OUTCOME_CASES = {
    "none_correct": ([0.0, 0.0, 0.0, 0.0], False),
    "all_correct": ([1.0, 1.0, 1.0, 1.0], False),
    "one_correct": ([0.0, 1.0, 0.0, 0.0], True),
    "all_but_one_correct": ([1.0, 1.0, 0.0, 1.0], True),
    "with_format_bonus": ([1.1, 0.1, 0.1, 0.0], True),  # outcome 1 + 0.1 format bonus weights
    "unscorable_left_out_all_correct": ([1.0, None, 1.0, None], False),
    "unscorable_left_out_mixed": ([1.0, None, 0.0, None], True),
}


@pytest.mark.parametrize("name", sorted(OUTCOME_CASES))
def test_outcome_rule(name):
    rewards, kept = OUTCOME_CASES[name]
    assert keep_mask([rewards], rule="outcome").tolist() == [kept]


def test_outcome_rule_ignores_epsilon_and_honours_threshold():
    assert keep_mask([[0.0, 1.0]], rule="outcome", epsilon=10.0).tolist() == [True]
    assert keep_mask([[0.6, 0.7]], rule="outcome").tolist() == [False]  # both >= 0.5: all correct
    assert keep_mask([[0.6, 0.7]], rule="outcome", correct_threshold=0.65).tolist() == [True]


@pytest.mark.parametrize("g", [2, 3, 8, 16, 64])
def test_binary_rewards_std_rule_agrees_with_outcome_rule(g):
    groups = [[1.0] * k + [0.0] * (g - k) for k in range(g + 1)]
    assert keep_mask(groups).tolist() == keep_mask(groups, rule="outcome").tolist()


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="unknown dynamic sampling rule"):
        keep_mask([[0.0, 1.0]], rule="dapo")
    with pytest.raises(ValueError, match="epsilon"):
        keep_mask([[0.0, 1.0]], epsilon=-1.0)
    with pytest.raises(ValueError, match="num_groups, G"):
        keep_mask([0.0, 1.0])


# ---- refill loop ------------------------------------------------------------------------------


def stream(*masks):
    """A fake generator: round r returns masks[r] and records that it was asked."""
    asked = []

    def generate_round(r, n):
        assert n == len(masks[r]), (
            f"round {r}: asked for {n} groups, the script has {len(masks[r])}"
        )
        asked.append(r)
        return masks[r]

    return generate_round, asked


def test_first_round_full_needs_no_refill():
    gen, asked = stream([True, True, True])
    plan = fill_batch(gen, batch_groups=3, max_rounds=5)
    assert asked == [0]
    assert plan.is_first_round_whole and not plan.exhausted
    assert plan.metrics(num_generations=4) == {
        "kept_fraction": 1.0,
        "generation_rounds": 1.0,
        "rollouts_per_kept_rollout": 1.0,
        "batch_filled_fraction": 1.0,
        "rollouts_generated": 12.0,
    }


def test_refill_takes_informative_groups_in_generation_order_and_drops_overflow():
    gen, asked = stream([False, True, False, False], [True, False, True, True], [True] * 4)
    plan = fill_batch(gen, batch_groups=4, max_rounds=5)
    assert asked == [0, 1]
    assert plan.selected == [(0, 1), (1, 0), (1, 2), (1, 3)]
    assert plan.padding == [] and not plan.is_first_round_whole
    m = plan.metrics(num_generations=8)
    assert m["kept_fraction"] == 4 / 8 and m["generation_rounds"] == 2.0
    assert m["rollouts_per_kept_rollout"] == 8 / 4


def test_overflow_informative_groups_are_counted_but_not_used():
    gen, _ = stream([False, False, True], [True, True, True])
    plan = fill_batch(gen, batch_groups=3, max_rounds=3)
    assert plan.selected == [(0, 2), (1, 0), (1, 1)]
    assert plan.groups_informative == 4  # (1, 2) was informative, but the batch was full


def test_rounds_exhausted_pads_with_dropped_groups():
    gen, asked = stream([False, True, False], [False, False, True], [True] * 3)
    plan = fill_batch(gen, batch_groups=3, max_rounds=2)
    assert asked == [0, 1]
    assert plan.exhausted
    assert plan.selected == [(0, 1), (1, 2)]
    assert plan.padding == [(0, 0)]
    m = plan.metrics(num_generations=2)
    assert m["batch_filled_fraction"] == pytest.approx(2 / 3)
    assert m["rollouts_per_kept_rollout"] == 6 / 2


def test_nothing_informative_at_all():
    gen, _ = stream([False, False], [False, False])
    plan = fill_batch(gen, batch_groups=2, max_rounds=2)
    assert plan.selected == [] and plan.padding == [(0, 0), (0, 1)]
    assert math.isnan(plan.metrics(num_generations=4)["rollouts_per_kept_rollout"])


def test_max_rounds_one_filters_without_refill():
    gen, asked = stream([True, False, True, False], [True] * 4)
    plan = fill_batch(gen, batch_groups=4, max_rounds=1)
    assert asked == [0] and plan.selected == [(0, 0), (0, 2)] and plan.padding == [(0, 1), (0, 3)]


def test_fill_batch_argument_checks():
    with pytest.raises(ValueError):
        fill_batch(lambda r, n: [True], batch_groups=0, max_rounds=1)
    with pytest.raises(ValueError):
        fill_batch(lambda r, n: [True], batch_groups=1, max_rounds=0)
    with pytest.raises(ValueError, match="returned 1 keep flags for 2 groups"):
        fill_batch(lambda r, n: [True], batch_groups=2, max_rounds=1)
    with pytest.raises(ValueError, match="unknown refill size"):
        fill_batch(lambda r, n: [False] * n, batch_groups=2, max_rounds=2, refill_size="half")


# ---- refill size -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "missing, generated, informative, batch, mode, granularity, last, expected",
    [
        pytest.param(3, 8, 5, 8, "adaptive", 1, False, 5, id="ceil_3_over_5_of_8_is_4.8_to_5"),
        pytest.param(3, 8, 5, 8, "full", 1, False, 8, id="full_is_always_B"),
        pytest.param(
            1, 8, 7, 8, "adaptive", 1, False, 2, id="one_missing_at_7_of_8_needs_8_over_7"
        ),
        pytest.param(4, 8, 4, 8, "adaptive", 1, False, 8, id="half_kept_needs_twice_missing"),
        pytest.param(6, 8, 2, 8, "adaptive", 1, False, 8, id="capped_at_B_24_wanted"),
        pytest.param(3, 8, 0, 8, "adaptive", 1, False, 8, id="nothing_kept_yet_full"),
        pytest.param(3, 8, 5, 8, "adaptive", 1, True, 8, id="last_round_full"),
        pytest.param(3, 8, 5, 8, "adaptive", 4, False, 8, id="5_rounded_up_to_multiple_of_4"),
        pytest.param(1, 8, 7, 8, "adaptive", 2, False, 2, id="2_already_a_multiple_of_2"),
        pytest.param(3, 8, 6, 8, "adaptive", 1, False, 4, id="exactly_4_no_float_ceil_error"),
        pytest.param(
            38, 100, 62, 100, "adaptive", 1, False, 62, id="keep_rate_0.62_38_missing_ceil_61.3"
        ),
    ],
)
def test_refill_groups_hand_computed(
    missing, generated, informative, batch, mode, granularity, last, expected
):
    got = refill_groups(missing, generated, informative, batch, mode, granularity, last)
    assert got == expected


def test_refill_groups_argument_checks():
    with pytest.raises(ValueError, match="unknown refill size"):
        refill_groups(1, 8, 4, 8, mode="half")
    with pytest.raises(ValueError, match=">= 1"):
        refill_groups(0, 8, 4, 8, mode="adaptive")


def sized_stream(keep_per_round):
    """A fake generator whose round r keeps its first keep_per_round[r] groups; records sizes."""
    sizes = []

    def generate_round(r, n):
        sizes.append(n)
        return [g < keep_per_round[r] for g in range(n)]

    return generate_round, sizes


def test_adaptive_refill_asks_only_for_what_the_keep_rate_says():
    # B = 8. Round 0 keeps 5 of 8 (rate 5/8): 3 missing -> ceil(3 * 8 / 5) = 5 groups.
    # Round 1 keeps 2 of those 5 (rate so far 7/13): 1 missing -> ceil(1 * 13 / 7) = 2 groups.
    gen, sizes = sized_stream([5, 2, 2])
    plan = fill_batch(gen, batch_groups=8, max_rounds=5, refill_size="adaptive")
    assert sizes == [8, 5, 2]
    assert len(plan.selected) == 8 and plan.padding == []
    assert plan.groups_generated == 15
    assert plan.metrics(num_generations=4)["rollouts_per_kept_rollout"] == 15 / 8
    # full-size rounds: the refill is 8 groups whatever is missing (3 of them kept here)
    gen, sizes = sized_stream([5, 3])
    full = fill_batch(gen, batch_groups=8, max_rounds=5, refill_size="full")
    assert sizes == [8, 8] and full.groups_generated == 16


def test_adaptive_last_allowed_round_is_full_size():
    gen, sizes = sized_stream([5, 0, 1])
    plan = fill_batch(gen, batch_groups=8, max_rounds=3, refill_size="adaptive")
    # round 1: ceil(3 * 8 / 5) = 5 groups, none kept; round 2 is the last allowed: full 8
    assert sizes == [8, 5, 8]
    assert plan.exhausted and len(plan.selected) == 6
    assert len(plan.padding) == 2  # dropped groups always suffice to pad


def test_adaptive_granularity_keeps_rounds_divisible_over_processes():
    gen, sizes = sized_stream([5, 5])
    fill_batch(gen, batch_groups=8, max_rounds=5, refill_size="adaptive", granularity=4)
    assert sizes == [8, 8]  # 5 rounded up to 8
    gen, sizes = sized_stream([6, 5])
    fill_batch(gen, batch_groups=8, max_rounds=5, refill_size="adaptive", granularity=2)
    assert sizes == [8, 4]  # ceil(2 * 8 / 6) = 3 -> 4


# ---- group advantages (TRL's formulas) -----------------------------------------------------


def test_nanstd_is_bessel_corrected_and_skips_nan():
    assert nanstd(torch.tensor([0.0, 1.0])).item() == pytest.approx(math.sqrt(0.5))
    assert nanstd(torch.tensor([0.0, math.nan, 2.0])).item() == pytest.approx(math.sqrt(2.0))
    assert math.isnan(nanstd(torch.tensor([1.0, math.nan])).item())


def test_combine_rewards_weighted_nansum():
    r = torch.tensor([[1.0, 0.5], [math.nan, 0.5], [math.nan, math.nan]])
    out = combine_rewards(r, torch.tensor([1.0, 0.2]))
    assert out[:2].tolist() == pytest.approx([1.1, 0.1])
    assert math.isnan(out[2].item())


def test_group_advantages_hand_computed():
    # group A: [0, 1, 2] mean 1, sample std 1 -> [-1, 0, 1] / (1 + 1e-4)
    # group B: [5, 5, 5] -> all zero
    r = torch.tensor([[0.0], [1.0], [2.0], [5.0], [5.0], [5.0]])
    adv = grpo_advantages(r, torch.ones(1), num_generations=3)
    assert adv.tolist() == pytest.approx([-1 / 1.0001, 0.0, 1 / 1.0001, 0.0, 0.0, 0.0], abs=1e-6)
    unscaled = grpo_advantages(r, torch.ones(1), num_generations=3, scale_rewards="none")
    assert unscaled.tolist() == pytest.approx([-1.0, 0.0, 1.0, 0.0, 0.0, 0.0])


def test_batch_scaling_ignores_padding_groups():
    # real groups [0, 2] and [1, 3]: deviations -1, 1, -1, 1; batch std over {0, 2, 1, 3} = 1.291
    r = torch.tensor([[0.0], [2.0], [1.0], [3.0], [100.0], [-100.0]])
    padding = torch.tensor([False, False, False, False, True, True])
    adv = grpo_advantages(r, torch.ones(1), 2, scale_rewards="batch", padding_N=padding)
    std = torch.tensor([0.0, 2.0, 1.0, 3.0]).std().item()
    expected = [-1 / (std + 1e-4), 1 / (std + 1e-4), -1 / (std + 1e-4), 1 / (std + 1e-4), 0.0, 0.0]
    assert adv.tolist() == pytest.approx(expected, abs=1e-6)


def test_unscorable_rollouts_get_zero_advantage():
    r = torch.tensor([[math.nan], [0.0], [1.0], [0.5]])
    adv = grpo_advantages(r, torch.ones(1), num_generations=4)
    assert adv[0].item() == 0.0
    # mean of the scorable three is 0.5, their sample std 0.5
    assert adv[1:].tolist() == pytest.approx([-0.5 / 0.5001, 0.5 / 0.5001, 0.0], abs=1e-6)


def test_normalize_then_sum_hand_computed():
    # two funcs, one group of 2: each func normalised within the group to -+0.7071, then summed
    # with weights 1 and 1 -> [-1.414, 1.414], then batch-normalised -> [-0.7071, 0.7071]
    r = torch.tensor([[0.0, 10.0], [1.0, 20.0]])
    adv = grpo_advantages(r, torch.ones(2), 2, aggregation="normalize_then_sum")
    assert adv.tolist() == pytest.approx([-0.7071, 0.7071], abs=1e-3)


def test_padding_must_cover_whole_groups():
    with pytest.raises(ValueError, match="whole groups"):
        grpo_advantages(
            torch.zeros(4, 1), torch.ones(1), 2, padding_N=torch.tensor([True, False, False, False])
        )


# ---- batch assembly ----------------------------------------------------------------------------


def _round(prompt_rows, completion_rows, advantages):
    def pad(rows, left):
        width = max(len(r) for r in rows)
        ids = [([0] * (width - len(r)) + r) if left else (r + [0] * (width - len(r))) for r in rows]
        mask = [
            ([0] * (width - len(r)) + [1] * len(r))
            if left
            else ([1] * len(r) + [0] * (width - len(r)))
            for r in rows
        ]
        return torch.tensor(ids), torch.tensor(mask)

    p_ids, p_mask = pad(prompt_rows, left=True)
    c_ids, c_mask = pad(completion_rows, left=False)
    return {
        "prompt_ids": p_ids,
        "prompt_mask": p_mask,
        "completion_ids": c_ids,
        "completion_mask": c_mask,
        "advantages": torch.tensor(advantages),
        "num_items_in_batch": c_mask.sum(),
    }


def test_take_rows_repads_prompts_left_and_completions_right():
    a = _round([[11], [12, 13]], [[21, 22, 23], [24]], [0.1, 0.2])
    b = _round([[31, 32, 33], [34]], [[41], [42, 43]], [0.3, 0.4])
    out = take_rows([a, b], [(0, 0), (1, 0), (1, 1)], pad_token_id=0)
    assert out["prompt_ids"].tolist() == [[0, 0, 11], [31, 32, 33], [0, 0, 34]]
    assert out["prompt_mask"].tolist() == [[0, 0, 1], [1, 1, 1], [0, 0, 1]]
    assert out["completion_ids"].tolist() == [[21, 22, 23], [41, 0, 0], [42, 43, 0]]
    assert out["completion_mask"].tolist() == [[1, 1, 1], [1, 0, 0], [1, 1, 0]]
    assert out["advantages"].tolist() == pytest.approx([0.1, 0.3, 0.4])
    assert "num_items_in_batch" not in out


def test_take_rows_keeps_requested_order_across_batches_and_pads_to_multiple():
    a = _round([[1], [2]], [[5], [6]], [1.0, 2.0])
    b = _round([[3], [4]], [[7], [8]], [3.0, 4.0])
    out = take_rows([a, b], [(1, 1), (0, 0), (1, 0), (0, 1)], pad_token_id=9, pad_to_multiple_of=4)
    assert out["advantages"].tolist() == [4.0, 1.0, 3.0, 2.0]
    assert out["completion_ids"].tolist() == [
        [8, 9, 9, 9],
        [5, 9, 9, 9],
        [7, 9, 9, 9],
        [6, 9, 9, 9],
    ]
    assert out["prompt_ids"][:, -1].tolist() == [4, 1, 3, 2]


def test_take_rows_fixed_width_keys_are_not_padded():
    a = _round([[1]], [[5, 6]], [1.0])
    b = _round([[2]], [[7]], [2.0])
    a["importance_sampling_ratio"] = torch.tensor([[0.9]])
    b["importance_sampling_ratio"] = torch.tensor([[1.1]])
    out = take_rows([a, b], [(0, 0), (1, 0)], 0, fixed_width_keys=("importance_sampling_ratio",))
    assert out["importance_sampling_ratio"].shape == (2, 1)
    assert out["importance_sampling_ratio"].flatten().tolist() == pytest.approx([0.9, 1.1])


def test_unknown_batch_keys_are_refused():
    with pytest.raises(ValueError, match="pixel_values"):
        check_supported({"prompt_ids": torch.zeros(1, 1), "pixel_values": torch.zeros(1, 3)})


def test_pad_to_width():
    t = torch.tensor([[1, 2]])
    assert pad_to_width(t, 4, 0, left=True).tolist() == [[0, 0, 1, 2]]
    assert pad_to_width(t, 4, 7, left=False).tolist() == [[1, 2, 7, 7]]
    assert pad_to_width(t, 1, 7, left=False).tolist() == [[1, 2]]

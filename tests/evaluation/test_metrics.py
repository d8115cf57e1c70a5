"""Metric golden cases: pass@k against brute force, avg@k, usage, the paper table."""

from __future__ import annotations

import itertools
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from srlkit.evaluation.metrics import (
    accuracy,
    avg_at_k,
    default_pass_ks,
    mean_pass_at_k,
    paper_table,
    pass_at_k,
    usage_stats,
)


def brute_force_pass_at_k(n: int, c: int, k: int) -> float:
    """Fraction of all k-subsets of n samples (c correct) that hold at least one correct sample."""
    samples = [True] * c + [False] * (n - c)
    subsets = list(itertools.combinations(range(n), k))
    return sum(any(samples[i] for i in s) for s in subsets) / len(subsets)


@pytest.mark.parametrize("n", range(1, 9))
def test_pass_at_k_equals_brute_force_for_every_small_case(n):
    for c in range(n + 1):
        for k in range(1, n + 1):
            assert pass_at_k(n, c, k) == pytest.approx(brute_force_pass_at_k(n, c, k), abs=1e-12), (
                n,
                c,
                k,
            )


@given(n=st.integers(1, 400), data=st.data())
def test_pass_at_k_matches_the_closed_form(n, data):
    c = data.draw(st.integers(0, n))
    k = data.draw(st.integers(1, n))
    expected = 1.0 - math.comb(n - c, k) / math.comb(n, k)
    assert pass_at_k(n, c, k) == pytest.approx(expected, abs=1e-9)


@pytest.mark.parametrize(
    "n, c, k, expected",
    [
        pytest.param(32, 0, 1, 0.0, id="none_correct"),
        pytest.param(32, 32, 32, 1.0, id="all_correct"),
        pytest.param(32, 8, 1, 0.25, id="pass_at_1_is_accuracy"),
        pytest.param(4, 1, 2, 0.5, id="one_of_four_two_draws"),
        pytest.param(10, 8, 3, 1.0, id="too_few_wrong_to_fill_k"),
    ],
)
def test_pass_at_k_golden_cases(n, c, k, expected):
    assert pass_at_k(n, c, k) == pytest.approx(expected)


def test_pass_at_k_is_stable_where_binomials_overflow_floats():
    value = pass_at_k(5000, 1, 1000)
    assert value == pytest.approx(0.2)
    assert 0.0 <= pass_at_k(5000, 2500, 2000) <= 1.0


@pytest.mark.parametrize("n, c, k", [(4, 5, 1), (4, -1, 1), (4, 1, 0), (4, 1, 5)])
def test_pass_at_k_rejects_impossible_arguments(n, c, k):
    with pytest.raises(ValueError):
        pass_at_k(n, c, k)


def test_pass_at_k_monotone_in_k():
    values = [pass_at_k(32, 3, k) for k in range(1, 33)]
    assert all(a <= b + 1e-15 for a, b in itertools.pairwise(values))


def test_default_pass_ks():
    assert default_pass_ks(32) == [1, 2, 4, 8, 16, 32]
    assert default_pass_ks(10) == [1, 2, 4, 8, 10]
    assert default_pass_ks(1) == [1]


def test_mean_pass_at_k_skips_problems_with_too_few_samples():
    assert mean_pass_at_k([(4, 1), (4, 0), (1, 1)], 2) == pytest.approx(0.25)
    assert mean_pass_at_k([(1, 1)], 2) is None


def test_accuracy_counts_ungradable_as_wrong():
    assert accuracy([True, False, None, True]) == 0.5
    assert accuracy([]) is None


def test_avg_at_k_weighs_problems_equally():
    # problem 1: 1/2 right, problem 2: 4/4 right -> (0.5 + 1.0) / 2, not 5/6
    assert avg_at_k([[True, False], [True] * 4]) == pytest.approx(0.75)


def test_usage_stats_mean_and_median():
    stats = usage_stats([10, 20, 90], [1, 2, 3])
    assert stats == {
        "mean_tokens": 40.0,
        "median_tokens": 20.0,
        "mean_words": 2.0,
        "median_words": 2.0,
    }
    assert usage_stats([], [])["mean_tokens"] is None


def test_paper_table_reproduces_the_papers_srl_row_average():
    # SRL -> RLVR row of the paper: 52.1 57.5 13.3 20.0 8.6 10.0 36.4 -> 28.3
    def s(greedy, avg):
        return {"greedy": {"accuracy": greedy}, "sampled": {"avg": avg, "k": 32}}

    table = paper_table(
        {
            "amc23": s(0.575, 0.521),
            "aime24": s(0.200, 0.133),
            "aime25": s(0.100, 0.086),
            "minerva": {"greedy": {"accuracy": 0.364}},
        }
    )
    assert table["complete"] is True
    assert list(table["columns"]) == [
        "AMC23 avg@32", "AMC23 greedy", "AIME24 avg@32", "AIME24 greedy",
        "AIME25 avg@32", "AIME25 greedy", "Minerva greedy",
    ]  # fmt: skip
    assert round(table["average"], 1) == 28.3


def test_paper_table_marks_an_incomplete_row():
    table = paper_table({"minerva": {"greedy": {"accuracy": 0.5}}})
    assert table["complete"] is False
    assert table["average"] == pytest.approx(50.0)
    assert table["columns"]["AMC23 greedy"] is None

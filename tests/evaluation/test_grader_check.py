"""The grader check on the real benchmarks: references grade as right, known-wrong answers as wrong.

Numbers and the reasons for every failure are in docs/evaluation.md ("Grader check").
"""

from __future__ import annotations

import pytest

from srlkit.evaluation.benchmarks import BENCHMARKS, Problem, load_benchmark
from srlkit.evaluation.grader_check import (
    check_references,
    check_wrong_answers,
    grader_check,
    wrong_answers,
)


@pytest.fixture(scope="module")
def loaded(shared_data):
    return {
        name: load_benchmark(BENCHMARKS[name], shared_data)
        for name in ("gsm8k", "math500", "aime24", "minerva")
    }


@pytest.mark.parametrize("name", ["gsm8k", "math500", "aime24", "minerva"])
def test_reference_solutions_score_at_least_99_percent(loaded, name):
    result = check_references(loaded[name].problems)
    assert result.checked == len(loaded[name].problems)
    assert result.rate >= 0.99, result.failures[:5]


@pytest.mark.parametrize("name", ["gsm8k", "math500", "aime24", "minerva"])
def test_known_wrong_answers_score_zero(loaded, name):
    results = check_wrong_answers(loaded[name].problems[: 40 if name == "minerva" else 80])
    assert results["gold_plus_one"].checked > 0

    def scored_right(
        kind,
    ):  # a score of None means the gold itself is ungradable (Minerva has some)
        return [f for f in results[kind].failures if f["score"] is not None]

    assert scored_right("gold_plus_one") == []
    assert scored_right("no_answer") == []
    # another problem's gold may equal this one's in value ("x=5" vs "5" in MATH-500)
    assert len(scored_right("other_gold")) <= 0.02 * results["other_gold"].checked
    ungradable = sum(1 for r in results.values() for f in r.failures if f["score"] is None)
    assert ungradable == 0 or name == "minerva"


def test_wrong_answer_cases_are_really_different_from_the_gold():
    problems = [
        Problem("t", "1", "p", "41"),
        Problem("t", "2", "q", "41"),
        Problem("t", "3", "r", "\\frac{1}{2}"),
    ]
    cases = wrong_answers(problems)
    assert ("gold_plus_one", problems[0], "The answer is \\boxed{42}.") in cases
    others = [text for kind, p, text in cases if kind == "other_gold" and p.id == "1"]
    assert others == ["So the answer is \\boxed{\\frac{1}{2}}."]  # skips problem 2, same gold
    assert not any(kind == "gold_plus_one" and p.id == "3" for kind, p, _ in cases)


def test_grader_check_report_shape(loaded):
    report = grader_check(loaded["aime24"], limit=5)
    assert report["n_problems"] == 5
    assert report["references"]["checked"] == 5
    assert set(report["wrong"]) == {"gold_plus_one", "no_answer", "other_gold"}

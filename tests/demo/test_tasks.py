"""The built-in chain task family: correct answers, paper-format steps, splits, determinism."""

from __future__ import annotations

import re

import pytest

from srlkit.data.segment import segment_solution
from srlkit.demo.tasks import (
    ANSWER_TITLE,
    BENCHMARK_SIZE,
    EASY,
    HARD,
    ChainProblem,
    Difficulty,
    Operation,
    benchmark_rows,
    generate_problems,
    held_out_problems,
)
from srlkit.rewards.outcome import extract_answer

STEP_RE = re.compile(r"^(\d+)\. \*\*([^*]+)\*\* (.+)$")


def test_hand_computed_problem():
    problem = ChainProblem(
        "p",
        start=7,
        operations=(Operation("double"), Operation("subtract", 4), Operation("add", 5)),
    )
    assert problem.question == (
        "Start with 7. Operations: (1) double, (2) subtract 4, (3) add 5. What is the value "
        "after each operation?"
    )
    assert problem.answer == "(14, 10, 15)"
    assert problem.solution_text() == (
        "1. **Double** 7 * 2 = 14\n"
        "2. **Subtract 4** 14 - 4 = 10\n"
        "3. **Add 5** 10 + 5 = 15\n"
        "4. **Give the answer** \\boxed{(14, 10, 15)}"
    )


@pytest.mark.parametrize("difficulty", ["easy", "hard"])
def test_solutions_are_numbered_paper_steps_with_checked_arithmetic(difficulty):
    for problem in generate_problems(difficulty, 200, seed=3):
        lines = problem.solution_text().split("\n")
        assert len(lines) == len(problem.operations) + 1
        value, values = problem.start, []
        for number, line in enumerate(lines[:-1], start=1):
            match = STEP_RE.match(line)
            assert match and int(match.group(1)) == number, line
            left, result = match.group(3).split(" = ")
            a, op, b = left.split(" ")
            assert int(a) == value  # each step starts from the previous result
            value = {"+": int(a) + int(b), "-": int(a) - int(b), "*": int(a) * int(b)}[op]
            assert int(result) == value and 0 <= value <= 20
            values.append(value)
        assert STEP_RE.match(lines[-1]).group(2) == ANSWER_TITLE
        expected = "(" + ", ".join(map(str, values)) + ")"
        assert extract_answer(problem.solution_text()) == problem.answer == expected


def test_the_answer_is_graded_as_an_ordered_tuple():
    """Every value in order: a permutation, a missing value or the last value alone is wrong,
    so a wrong chain cannot end on a right answer by chance."""
    from srlkit.rewards.outcome import score_answer

    problem = generate_problems("hard", 1, seed=5)[0]
    values = problem.values()[1:]
    right = "\\boxed{(" + ", ".join(map(str, values)) + ")}"
    assert score_answer(right, problem.answer).score == 1.0
    swapped = values[:-2] + [values[-1], values[-2]]
    assert swapped != values
    for wrong in (swapped, values[:-1], values[-1:]):
        text = "\\boxed{(" + ", ".join(map(str, wrong)) + ")}"
        assert score_answer(text, problem.answer).score == 0.0, wrong


def test_ladder_runs_from_mild_to_severe_within_the_easy_lengths():
    from srlkit.demo.tasks import LADDER

    assert HARD in LADDER
    assert all(d.max_ops <= EASY.max_ops for d in LADDER)
    doubles = [d.min_doubles for d in LADDER]
    assert doubles == sorted(doubles)
    assert [d.min_ops for d in LADDER] == sorted(d.min_ops for d in LADDER)
    assert HARD.describe() == "7-8 operations, >= 2 doublings (rate 0.3)"


def test_hard_levels_need_several_doubling_facts_not_one_prefix():
    """Every level asks for its distinct two-digit doublings, and no chain opening dominates a
    draw: before ``min_two_digit_doubles`` the two hardest levels reached their doublings by
    starting at 1, and 1, 2, 4, 8, 16 opened 46% of the hardest one's problems."""
    from collections import Counter

    from srlkit.demo.tasks import LADDER

    for level in LADDER:
        problems = generate_problems(level, 256, seed=0)
        assert all(len(p.two_digit_doubles) >= level.min_two_digit_doubles for p in problems)
        openings = Counter(tuple(p.values()[:5]) for p in problems)
        assert openings.most_common(1)[0][1] / len(problems) < 0.1, level.describe()
    assert LADDER[-1].min_two_digit_doubles == 3
    assert "3 distinct two-digit doublings" in LADDER[-1].describe()
    twice = (Operation("double"), Operation("double"))
    assert ChainProblem("p", 5, twice).two_digit_doubles == {5, 10}  # 5 -> 10 -> 20
    assert ChainProblem("p", 2, twice).two_digit_doubles == set()  # 2 -> 4 -> 8


def test_splits_differ_in_length_and_in_doublings():
    easy = generate_problems(EASY, 400, seed=0)
    hard = generate_problems(HARD, 400, seed=0)
    assert {len(p.operations) for p in easy} == set(range(1, 9))
    assert {len(p.operations) for p in hard} == {7, 8}
    assert all(p.num_doubles >= 2 for p in hard)
    easy_rate = sum(p.num_doubles for p in easy) / sum(len(p.operations) for p in easy)
    assert easy_rate < 0.05  # doubling is the rare skill of the warm-start split


def test_deterministic_by_seed_and_distinct():
    a = generate_problems("hard", 50, seed=7)
    b = generate_problems("hard", 50, seed=7)
    c = generate_problems("hard", 50, seed=8)
    assert [p.question for p in a] == [p.question for p in b]
    assert [p.question for p in a] != [p.question for p in c]
    assert len({p.question for p in a}) == 50


def test_exclude_keeps_held_out_sets_disjoint():
    test = held_out_problems(100)
    train = generate_problems("hard", 300, seed=0, exclude={p.question for p in test})
    assert not {p.question for p in train} & {p.question for p in test}


def test_benchmark_rows_are_the_held_out_problems():
    rows = benchmark_rows()
    assert len(rows) == BENCHMARK_SIZE
    assert [r["problem"] for r in rows[:5]] == [p.question for p in held_out_problems(5)]
    assert {"id", "problem", "solution", "answer"} <= set(rows[0])


def test_trajectory_and_record_round_trip_through_the_data_pipeline():
    problem = generate_problems("hard", 1, seed=1)[0]
    traj = problem.trajectory()
    assert traj.final_answer == problem.answer
    assert traj.metadata["num_doubles"] == problem.num_doubles
    # The record form is what `srl data build` reads: its segmenter finds the same steps.
    segmented = segment_solution(problem.to_record()["solution"])
    assert segmented.method == "numbered"
    assert [(s.title, s.body) for s in segmented.steps] == [(s.title, s.body) for s in traj.steps]


def test_bad_difficulty_is_a_clear_error():
    with pytest.raises(ValueError, match="min_ops"):
        Difficulty(min_ops=4, max_ops=2)
    with pytest.raises(ValueError, match="double_rate"):
        Difficulty(double_rate=1.5)
    with pytest.raises(ValueError, match="min_doubles"):
        Difficulty(min_ops=1, max_ops=2, min_doubles=2)
    with pytest.raises(ValueError, match="min_two_digit_doubles"):
        Difficulty(min_ops=8, max_ops=8, min_two_digit_doubles=4)  # a draw that would not end
    assert "min_two_digit" not in repr(HARD)  # levels without the knob draw as they drew
    with pytest.raises(ValueError, match="unknown difficulty 'extreme'"):
        generate_problems("extreme", 1)
    with pytest.raises(ValueError, match="distinct problems"):
        generate_problems(Difficulty(min_ops=1, max_ops=1), 400)


def test_terse_expert_steps_state_results_without_the_working():
    """The terse style (the issue-22 SFT experiment): the same chain and answer, each step
    only its result, so the student cannot copy the working it would need."""
    problem = ChainProblem("p", start=7, operations=(Operation("double"), Operation("subtract", 4)))
    assert problem.solution_text("terse") == (
        "1. **Double** 14\n2. **Subtract 4** 10\n3. **Give the answer** \\boxed{(14, 10)}"
    )
    assert problem.trajectory("terse").final_answer == problem.answer
    with pytest.raises(ValueError, match="unknown expert style 'short'"):
        problem.steps("short")

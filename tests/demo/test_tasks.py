"""The built-in chain-arithmetic task family: correct answers, paper-format steps, determinism."""

from __future__ import annotations

import re

import pytest

from srlkit.data.segment import segment_solution
from srlkit.demo.tasks import (
    ANSWER_TITLE,
    EASY,
    HARD,
    ChainProblem,
    Difficulty,
    Operation,
    generate_problems,
)
from srlkit.rewards.outcome import extract_answer

STEP_RE = re.compile(r"^(\d+)\. \*\*([^*]+)\*\* (.+)$")


def test_hand_computed_problem():
    problem = ChainProblem(
        "p",
        start=8,
        operations=(Operation("add", 5), Operation("multiply", 3), Operation("subtract", 9)),
    )
    assert problem.question == (
        "Start with 8. Operations: (1) add 5, (2) multiply by 3, (3) subtract 9. What is the result?"
    )
    assert problem.answer == "30"
    assert problem.solution_text() == (
        "1. **Add 5** 8 + 5 = 13\n"
        "2. **Multiply by 3** 13 * 3 = 39\n"
        "3. **Subtract 9** 39 - 9 = 30\n"
        "4. **Give the answer** \\boxed{30}"
    )


@pytest.mark.parametrize("difficulty", ["easy", "medium", "hard"])
def test_solutions_are_numbered_paper_steps_with_checked_arithmetic(difficulty):
    for problem in generate_problems(difficulty, 200, seed=3):
        lines = problem.solution_text().split("\n")
        assert len(lines) == len(problem.operations) + 1
        for number, line in enumerate(lines, start=1):
            match = STEP_RE.match(line)
            assert match, line
            assert int(match.group(1)) == number
        for line in lines[:-1]:
            left, result = STEP_RE.match(line).group(3).split(" = ")
            a, op, b = left.split(" ")
            assert (
                int(result)
                == {"+": int(a) + int(b), "-": int(a) - int(b), "*": int(a) * int(b)}[op]
            )
            assert 0 <= int(result) <= 20
        assert STEP_RE.match(lines[-1]).group(2) == ANSWER_TITLE
        assert extract_answer(problem.solution_text()) == problem.answer


def test_difficulty_sets_the_number_of_operations():
    easy = generate_problems(EASY, 300, seed=0)
    hard = generate_problems(HARD, 300, seed=0)
    assert {len(p.operations) for p in easy} == {2, 3}
    assert {len(p.operations) for p in hard} == {5, 6}


def test_deterministic_by_seed_and_distinct():
    a = generate_problems("hard", 50, seed=7)
    b = generate_problems("hard", 50, seed=7)
    c = generate_problems("hard", 50, seed=8)
    assert [p.question for p in a] == [p.question for p in b]
    assert [p.question for p in a] != [p.question for p in c]
    assert len({p.question for p in a}) == 50


def test_exclude_keeps_held_out_sets_disjoint():
    train = generate_problems("easy", 100, seed=0)
    test = generate_problems("easy", 100, seed=0, exclude={p.question for p in train})
    assert not {p.question for p in train} & {p.question for p in test}


def test_trajectory_and_record_round_trip_through_the_data_pipeline():
    problem = generate_problems("hard", 1, seed=1)[0]
    traj = problem.trajectory()
    assert traj.final_answer == problem.answer
    assert [s.math_text(i) for i, s in enumerate(traj.steps, 1)] == problem.solution_text().split(
        "\n"
    )
    # The record form is what `srl data build` reads: its segmenter finds the same steps.
    record = problem.to_record()
    segmented = segment_solution(record["solution"])
    assert segmented.method == "numbered"
    assert [(s.title, s.body) for s in segmented.steps] == [(s.title, s.body) for s in traj.steps]


def test_bad_difficulty_is_a_clear_error():
    with pytest.raises(ValueError, match="min_ops"):
        Difficulty(min_ops=4, max_ops=2)
    with pytest.raises(ValueError, match="unknown difficulty 'extreme'"):
        generate_problems("extreme", 1)
    with pytest.raises(ValueError, match="distinct problems"):
        generate_problems(Difficulty(min_ops=1, max_ops=1, max_operand=2, max_value=4), 500)

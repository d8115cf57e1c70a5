"""The built-in lock task family: correct answers, paper-format steps, splits, determinism."""

from __future__ import annotations

import re

import pytest

from srlkit.data.segment import segment_solution
from srlkit.demo.tasks import (
    ANSWER_TITLE,
    BENCHMARK_SIZE,
    EASY,
    HARD,
    Difficulty,
    LockProblem,
    Move,
    benchmark_rows,
    generate_problems,
    held_out_problems,
)
from srlkit.rewards.outcome import extract_answer, score_answer

STEP_RE = re.compile(r"^(\d+)\. \*\*([^*]+)\*\* (.+)$")
LOCK_RE = re.compile(r"^A(\d) B(\d) C(\d)$")


def test_hand_computed_problem():
    problem = LockProblem(
        "p", start=(6, 6, 0), moves=(Move("down", 2, 6), Move("swap", 1, 2), Move("up", 3, 3))
    )
    assert problem.question == (
        "A lock shows A6 B6 C0. Moves: (1) wheel B down 6, (2) swap A and B, (3) wheel C up 3. "
        "What does it show?"
    )
    assert problem.answer == "063"
    assert problem.solution_text() == (
        "1. **Wheel B down 6** A6 B0 C0\n"
        "2. **Swap A and B** A0 B6 C0\n"
        "3. **Wheel C up 3** A0 B6 C3\n"
        "4. **Give the answer** \\boxed{063}"
    )


def test_turns_wrap_around_modulo_ten():
    assert Move("up", 1, 7).apply((5, 0, 0)) == (2, 0, 0)
    assert Move("down", 3, 4).apply((0, 0, 1)) == (0, 0, 7)
    assert Move("swap", 1, 3).apply((1, 2, 3)) == (3, 2, 1)


@pytest.mark.parametrize("difficulty", ["easy", "hard"])
def test_solutions_are_numbered_paper_steps_that_replay_the_moves(difficulty):
    for problem in generate_problems(difficulty, 200, seed=3):
        lines = problem.solution_text().split("\n")
        assert len(lines) == len(problem.moves) + 1
        lock = list(problem.start)
        for number, (line, move) in enumerate(zip(lines, problem.moves, strict=False), start=1):
            match = STEP_RE.match(line)
            assert match and int(match.group(1)) == number, line
            if move.kind == "swap":
                i, j = move.wheel - 1, move.amount - 1
                lock[i], lock[j] = lock[j], lock[i]
            else:
                sign = 1 if move.kind == "up" else -1
                lock[move.wheel - 1] = (lock[move.wheel - 1] + sign * move.amount) % 10
            assert LOCK_RE.match(match.group(3)).groups() == tuple(str(d) for d in lock)
        assert STEP_RE.match(lines[-1]).group(2) == ANSWER_TITLE
        assert extract_answer(problem.solution_text()) == problem.answer
        assert problem.answer == "".join(map(str, lock))


def test_splits_differ_in_length_and_in_swaps():
    easy = generate_problems(EASY, 400, seed=0)
    hard = generate_problems(HARD, 400, seed=0)
    assert {len(p.moves) for p in easy} == set(range(1, 9))
    assert {len(p.moves) for p in hard} == {6, 7}
    assert all(p.num_swaps >= 2 for p in hard)
    easy_rate = sum(p.num_swaps for p in easy) / sum(len(p.moves) for p in easy)
    assert easy_rate < 0.06  # swaps are the rare skill of the warm-start split


def test_answers_are_spread_so_guessing_is_hopeless():
    answers = [p.answer for p in held_out_problems()]
    most_common = max(answers.count(a) for a in set(answers))
    assert len(set(answers)) > 200 and most_common <= 3


def test_leading_zero_answer_is_graded_right():
    problem = LockProblem("z", start=(0, 4, 2), moves=(Move("up", 3, 1),))
    assert problem.answer == "043"
    assert score_answer(problem.solution_text(), problem.answer).score == 1.0
    assert score_answer("\\boxed{430}", problem.answer).score == 0.0


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
    assert traj.metadata["num_swaps"] == problem.num_swaps
    # The record form is what `srl data build` reads: its segmenter finds the same steps.
    segmented = segment_solution(problem.to_record()["solution"])
    assert segmented.method == "numbered"
    assert [(s.title, s.body) for s in segmented.steps] == [(s.title, s.body) for s in traj.steps]


def test_bad_difficulty_is_a_clear_error():
    with pytest.raises(ValueError, match="min_moves"):
        Difficulty(min_moves=4, max_moves=2)
    with pytest.raises(ValueError, match="swap_rate"):
        Difficulty(swap_rate=1.5)
    with pytest.raises(ValueError, match="min_swaps"):
        Difficulty(min_moves=1, max_moves=2, min_swaps=2)
    with pytest.raises(ValueError, match="unknown difficulty 'extreme'"):
        generate_problems("extreme", 1)
    with pytest.raises(ValueError, match="distinct problems"):
        generate_problems(Difficulty(min_moves=1, max_moves=1, swap_rate=1.0), 3500)

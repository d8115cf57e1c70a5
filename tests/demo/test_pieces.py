"""Fast checks of the demo's pieces: prompts and completions, the ablation reward, the report."""

from __future__ import annotations

import pytest

from srlkit.demo import prompts
from srlkit.demo.evaluate import is_correct_chain, standard_error, step_kind
from srlkit.demo.report import (
    comparison_rows,
    comparison_table,
    method_rows,
    reading,
    write_report,
)
from srlkit.demo.student import StudentConfig, warmstart_examples
from srlkit.demo.tasks import ChainProblem, Operation, generate_problems
from srlkit.demo.train import whole_solution_reward
from srlkit.rewards.format import parse_step
from srlkit.rewards.outcome import score_answer
from srlkit.rewards.srl import srl_step_reward

PROBLEM = ChainProblem("p", start=3, operations=(Operation("add", 4), Operation("double")))


def test_step_instances_continue_the_students_own_solution():
    """A step instance is the solve prompt with the answer opened by the expert's first steps:
    the rest of the expert's solution, continued from there, earns the full step reward."""
    instances = prompts.step_instances([PROBLEM.trajectory()])
    assert [i.target for i in instances] == PROBLEM.solution_text().split("\n")
    assert all(i.continues_answer for i in instances)
    assert instances[1].prompt[:-1] == prompts.solve_messages(PROBLEM.question)
    whole = prompts.solve_completion(PROBLEM.steps())
    for inst in instances:
        opened = inst.prompt[-1]["content"]
        assert whole.startswith(opened)  # a literal prefix of the student's own answer
        rest = whole[len(opened) :]
        assert parse_step(rest, continuation=True).action == inst.target
    rests = [whole[len(i.prompt[-1]["content"]) :] for i in instances]
    assert srl_step_reward(rests, [i.target for i in instances], continuation=True) == [1.0] * 3
    assert [step_kind(i.target) for i in instances] == ["add_subtract", "double", "answer"]


def test_solve_completion_scores_as_correct_and_is_a_correct_chain():
    text = prompts.solve_completion(PROBLEM.steps())
    assert text.startswith(prompts.THINK_OPEN) and text.count("<think>") == 1
    assert score_answer(text, PROBLEM.answer).score == 1.0
    assert score_answer(text, "15").score == 0.0
    assert is_correct_chain(PROBLEM, text)
    # Right answer, wrong route: not a correct chain.
    assert not is_correct_chain(PROBLEM, text.replace("3 + 4 = 7", "3 + 4 = 8"))
    # A solution that repeats a correct step is not a correct chain either.
    assert not is_correct_chain(PROBLEM, text + "\n3. **Give the answer** \\boxed{14}")


def test_warmstart_examples_mix_whole_solutions_and_step_exercises():
    problems = generate_problems("easy", 200, seed=0)
    examples = warmstart_examples(problems, solve_fraction=0.5, seed=0)
    assert len(examples) == len(problems)  # one example per (fresh) problem
    solve = [
        e
        for e in examples
        if list(e.messages) in [prompts.solve_messages(p.question) for p in problems]
    ]
    assert 60 < len(solve) < 140
    exercises = [e for e in examples if e not in solve]
    assert all(e.messages[0]["content"] == prompts.STEP_SYSTEM_PROMPT for e in exercises)
    assert all(e.messages[-1]["content"].endswith(" only.") for e in exercises)
    assert all(e.completion.startswith(prompts.THINK_OPEN) for e in examples)
    assert all(parse_step(e.completion).ok for e in exercises)


def test_student_cache_key_changes_with_the_config():
    assert StudentConfig().key() == StudentConfig().key()
    assert StudentConfig().key() != StudentConfig(sft_steps=7).key()


def test_standard_error():
    assert standard_error(0.5, 100) == pytest.approx(0.05)
    assert standard_error(0.0, 0) == 0.0


@pytest.mark.parametrize(
    ("completion", "expected"),
    [
        pytest.param(
            "<think>(1) add 4</think>\n1. **Add 4** 3 + 4 = 7", None, id="partial_solution"
        ),
        pytest.param("<think>only thinking</think>", -1.0, id="nothing_outside_thoughts"),
        pytest.param("", -1.0, id="empty"),
    ],
)
def test_whole_solution_reward(completion, expected):
    reward = whole_solution_reward([completion], [PROBLEM.solution_text()])[0]
    if expected is not None:
        assert reward == expected
    else:
        assert 0.0 < reward < 1.0


def test_whole_solution_reward_is_one_for_the_expert_solution():
    full = prompts.solve_completion(PROBLEM.steps())
    assert whole_solution_reward([full], [PROBLEM.solution_text()]) == [1.0]


def _method(accuracy: float, chains: int) -> dict:
    return {
        "accuracy": accuracy,
        "accuracy_se": standard_error(accuracy, 4),
        "n": 4,
        "correct_chains": chains,
        "exact_step": 0.5,
        "exact_step_by_kind": {"double": 0.25},
        "step_reward": 0.7,
        "mean_tokens": 60.0,
        "rollouts": 32,
    }


def test_report_writes_the_summary_and_shares_its_rows(tmp_path):
    history = [
        {"step": s, "reward": 0.1 * s, "dynamic_sampling/kept_fraction": 1 - 0.1 * s}
        for s in range(1, 6)
    ]
    srl = _method(0.5, 2)
    srl["greedy"] = {
        "examples": [{"completion": "1. **Add 4** 3 + 4 = 7", "answer": "14", "extracted": "7"}]
    }
    results = {
        "config": {"srl": {"steps": 5, "prompts_per_step": 2, "num_generations": 4}},
        "student": {"parameters": 1000, "accuracy": {"easy": 0.9, "hard": 0.0}},
        "data": {"train": 10, "train_instances": 60, "test": 4, "test_instances": 24},
        "base": _method(0.0, 0),
        "rlvr": _method(0.25, 0),
        "srl": srl,
        "srl_rlvr": _method(0.75, 3),
        "histories": {"srl": history},
        "timings_s": {"student": 1.0},
        "total_s": 3.0,
    }
    page = write_report(tmp_path, results)
    text = page.read_text()
    assert "| SRL | 0.500 ± 0.250 | 2/4 | 0.500 | 0.250 | 0.700 | 60 | 32 |" in text
    assert "[report.html](report.html)" in text
    assert method_rows(results)["SRL->RLVR"]["correct_chains_rate"] == 0.75
    rows = dict(comparison_rows(results))  # what srl report's demo table and bars show
    assert rows["fully correct solutions"] == {
        "base": 0.0,
        "RLVR": 0.0,
        "SRL": 0.5,
        "SRL->RLVR": 0.75,
    }
    assert len(comparison_table(results)) == 2 + 4


def _scored(accuracy: float, n: int = 256, wrong_chain: int = 0) -> dict:
    return {
        "accuracy": accuracy,
        "accuracy_se": standard_error(accuracy, n),
        "correct": round(accuracy * n),
        "right_answer_wrong_chain": wrong_chain,
    }


def test_reading_calls_a_difference_only_beyond_two_standard_errors():
    results = {
        "base": _scored(0.098, wrong_chain=17),
        "rlvr": _scored(0.043, wrong_chain=11),
        "srl": _scored(0.199, wrong_chain=26),
        "srl_rlvr": _scored(0.21, wrong_chain=31),
    }
    lines = reading(results)
    assert lines[0].startswith("SRL is above the base by 10.1 points")
    assert "(3.2 standard errors of the difference): a measured difference." in lines[0]
    assert lines[1].startswith("SRL is above RLVR by 15.6 points")
    assert lines[2].startswith("SRL->RLVR - SRL = +1.1 points (+0.3 standard errors")
    assert "within noise" in lines[2]
    assert "base 17 of 25, RLVR 11 of 11, SRL 26 of 51" in lines[3]
    lower = reading({**results, "srl": _scored(0.02)})
    assert lower[0].startswith("SRL is below the base by 7.8 points")
    only_base = reading({"base": _scored(0.1)})
    expected = (
        "Right answers reached through a wrong chain (the answer is one of 21 numbers, so a "
        "wrong solution can end on it): base 0 of 26."
    )
    assert only_base == [expected]

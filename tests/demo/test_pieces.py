"""Fast checks of the demo's pieces: prompts and completions, the ablation reward, the report."""

from __future__ import annotations

import pytest

from srlkit.demo import prompts
from srlkit.demo.report import comparison_rows, write_report
from srlkit.demo.student import StudentConfig, warmstart_examples
from srlkit.demo.tasks import ChainProblem, Operation, generate_problems
from srlkit.demo.train import whole_solution_reward
from srlkit.rewards.format import parse_completion
from srlkit.rewards.outcome import score_answer
from srlkit.rewards.srl import srl_step_reward

PROBLEM = ChainProblem("p", start=3, operations=(Operation("add", 4), Operation("multiply", 2)))


def test_expert_step_completion_earns_full_step_reward():
    instances = prompts.step_instances([PROBLEM.trajectory()])
    assert [i.target for i in instances] == PROBLEM.solution_text().split("\n")
    assert instances[1].prompt[0]["content"] == prompts.STEP_SYSTEM_PROMPT
    assert "1. **Add 4** 3 + 4 = 7" in instances[1].prompt[1]["content"]
    completions = [
        prompts.step_completion(PROBLEM.steps()[i.step_index - 1], i.step_index) for i in instances
    ]
    assert completions[1] == "<think>(2) multiply by 2</think>\n2. **Multiply by 2** 7 * 2 = 14"
    assert all(parse_completion(c).ok for c in completions)
    assert srl_step_reward(completions, [i.target for i in instances]) == [1.0, 1.0, 1.0]


def test_solve_completion_scores_as_correct_with_the_shared_scorer():
    text = prompts.solve_completion(PROBLEM.steps())
    assert text.count("<think>") == 3
    assert score_answer(text, PROBLEM.answer).score == 1.0
    assert score_answer(text, "15").score == 0.0


def test_warmstart_examples_cover_every_step_and_the_whole_solution():
    problems = generate_problems("easy", 5, seed=0)
    examples = warmstart_examples(problems)
    assert len(examples) == sum(len(p.steps()) + 1 for p in problems)
    solve = [
        e for e in examples if e.messages == tuple(prompts.solve_messages(problems[0].question))
    ]
    assert len(solve) == 1 and solve[0].completion.endswith(f"\\boxed{{{problems[0].answer}}}")


def test_student_cache_key_changes_with_the_config():
    assert StudentConfig().key() == StudentConfig().key()
    assert StudentConfig().key() != StudentConfig(num_easy_problems=7).key()


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


def test_report_writes_the_markdown_summary(tmp_path):
    history = [
        {"step": s, "reward": 0.1 * s, "dynamic_sampling/kept_fraction": 1 - 0.1 * s}
        for s in range(1, 6)
    ]
    base = {"accuracy_greedy": 0.0, "step_reward": 0.4, "exact_match_rate": 0.1}
    srl = {
        "accuracy_greedy": 0.25,
        "step_reward": 0.7,
        "exact_match_rate": 0.3,
        "greedy": {
            "examples": [{"completion": "1. **Add 4** 3 + 4 = 7", "answer": "14", "extracted": "7"}]
        },
    }
    results = {
        "config": {"srl": {"steps": 5}},
        "student": {"parameters": 1000, "accuracy": {"easy": 0.9, "hard": 0.0}},
        "data": {"train": 10, "train_instances": 60, "test": 4, "test_instances": 24},
        "base": base,
        "srl": srl,
        "srl_history": history,
        "timings_s": {"student": 1.0},
        "total_s": 3.0,
    }
    page = write_report(tmp_path, results)
    text = page.read_text()
    assert "| accuracy (greedy) | 0.000 | 0.250 |" in text
    assert "[report.html](report.html)" in text
    assert comparison_rows(results)[1] == ("step reward", 0.4, 0.7)


def test_structure_scores_separate_plan_from_arithmetic():
    from srlkit.demo.evaluate import structure_scores

    full = prompts.solve_completion(PROBLEM.steps())
    wrong_sum = full.replace("3 + 4 = 7", "3 + 4 = 8")
    stops_early = prompts.solve_completion([PROBLEM.steps()[0], PROBLEM.steps()[-1]])
    wrong_op = full.replace("**Multiply by 2**", "**Add 2**")
    scores = structure_scores([PROBLEM] * 4, [full, wrong_sum, stops_early, wrong_op])
    assert scores == {"right_step_count_rate": 3 / 4, "right_plan_rate": 2 / 4}

"""Fast checks of the demo's pieces: prompts, completions, methods, the ablation reward, the
numbers over seeds and their reading, the report."""

from __future__ import annotations

import pytest

from srlkit.demo import prompts
from srlkit.demo.compare import aggregate, contrast, paired, reading
from srlkit.demo.methods import DEFAULT_METHODS, METHODS, resolve_methods
from srlkit.demo.report import comparison_table, write_report
from srlkit.demo.rewards import whole_solution_reward
from srlkit.demo.stages import expert_lines, solution_lines, solution_metrics, step_kind
from srlkit.demo.student import StudentConfig, warmstart_records
from srlkit.demo.tasks import ChainProblem, Operation, generate_problems
from srlkit.report.comparison import comparison_rows, method_rows
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


def is_correct_chain(problem: ChainProblem, text: str) -> bool:
    return solution_lines(text) == expert_lines(problem.solution_text())


def test_solve_completion_scores_as_correct_and_is_a_correct_chain():
    text = prompts.solve_completion(PROBLEM.steps())
    assert text.startswith(prompts.THINK_OPEN) and text.count("<think>") == 1
    assert score_answer(text, PROBLEM.answer).score == 1.0
    assert score_answer(text, "(7, 15)").score == 0.0
    assert is_correct_chain(PROBLEM, text)
    # Right answer, wrong route: not a correct chain.
    assert not is_correct_chain(PROBLEM, text.replace("3 + 4 = 7", "3 + 4 = 8"))
    # A solution that repeats a correct step is not a correct chain either.
    assert not is_correct_chain(PROBLEM, text + "\n3. **Give the answer** \\boxed{(7, 14)}")


def test_two_digit_results_count_cut_values_against_the_solutions_own_operands():
    """``8 * 2 = 1`` is a cut value (the character reward's favourite error); the next step is
    judged on its own left side (1 + 3 = 4 is right), and a think block is not a step."""
    problem = ChainProblem(
        "p", start=8, operations=(Operation("double"), Operation("add", 3), Operation("double"))
    )
    text = (
        "<think>8 * 2 = 3</think>\n1. **Double** 8 * 2 = 1\n2. **Add 3** 1 + 3 = 4\n"
        "3. **Double** 4 * 2 = 8\n4. **Give the answer** \\boxed{(1, 4, 8)}"
    )
    samples = [{"problem_id": "0", "mode": "greedy", "completion": text, "correct": False}]
    record = {"id": "p", "problem": problem.question, "solution": problem.solution_text()}
    metrics = solution_metrics([record], samples, {"greedy": {"accuracy": 0.0}}, 0)
    assert metrics["two_digit_results"] == {"steps": 1, "right": 0, "cut": 1}
    expert = solution_metrics(
        [record],
        [{**samples[0], "completion": prompts.solve_completion(problem.steps()), "correct": True}],
        {"greedy": {"accuracy": 1.0}},
        0,
    )
    assert expert["two_digit_results"] == {"steps": 3, "right": 3, "cut": 0}  # 16, 19, 38


def test_warmstart_records_mix_whole_solutions_and_step_exercises():
    problems = generate_problems("easy", 200, seed=0)
    records = warmstart_records(problems, solve_fraction=0.5, seed=0)
    assert len(records) == len(problems)  # one example per (fresh) problem
    solve_prompts = [prompts.solve_messages(p.question) for p in problems]
    solve = [r for r in records if r["prompt"] in solve_prompts]
    assert 60 < len(solve) < 140
    exercises = [r for r in records if r not in solve]
    assert all(r["prompt"][0]["content"] == prompts.STEP_SYSTEM_PROMPT for r in exercises)
    assert all(r["prompt"][-1]["content"].endswith(" only.") for r in exercises)
    completions = [r["completion"][0]["content"] for r in records]
    assert all(c.startswith(prompts.THINK_OPEN) for c in completions)
    assert all(r["completion"][0]["role"] == "assistant" for r in records)
    assert all(parse_step(r["completion"][0]["content"]).ok for r in exercises)


def test_student_cache_key_changes_with_the_config_and_the_environment(monkeypatch):
    from srlkit.demo import student

    assert StudentConfig().key() == StudentConfig().key()
    assert StudentConfig().key() != StudentConfig(sft_steps=7).key()
    here = student.cache_key(StudentConfig())
    monkeypatch.setattr(
        student, "build_environment", lambda: {"torch": "x", "cpu_capability": "AVX2"}
    )
    assert student.cache_key(StudentConfig()) != here  # another kernel path, another student


def test_methods_resolve_with_the_starts_they_need():
    assert resolve_methods("default") == DEFAULT_METHODS
    assert resolve_methods("srl_rlvr") == ("base", "srl", "srl_rlvr")
    assert resolve_methods("sft_rlvr,rlvr") == ("base", "sft", "rlvr", "sft_rlvr")
    assert resolve_methods("table") == tuple(METHODS)
    with pytest.raises(ValueError, match="unknown method 'ppo'"):
        resolve_methods("srl,ppo")


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


def test_paired_difference_by_hand():
    # differences 1, 0, 0, -1, 1: mean 0.2, sample sd 0.8367, se 0.8367 / sqrt(5)
    diff, se = paired([1, 1, 0, 0, 1], [0, 1, 0, 1, 0])
    assert diff == pytest.approx(0.2)
    assert se == pytest.approx(0.83666 / 5**0.5, rel=1e-4)


def _seed(outcomes: dict[str, list[int]], wrong: int = 0) -> dict:
    out = {}
    for method, right in outcomes.items():
        n, acc = len(right), sum(right) / len(right)
        out[method] = {
            "accuracy": acc,
            "accuracy_se": (acc * (1 - acc) / n) ** 0.5,
            "n": n,
            "correct": sum(right),
            "correct_chains": sum(right) - wrong,
            "right_answer_wrong_chain": wrong,
            "correct_by_problem": right,
            "exact_step": 0.5,
            "exact_step_by_kind": {"double": 0.25},
            "step_reward": 0.7,
            "format_failure_rate": 0.0,
            "mean_tokens": 60.0,
            "rollouts": 0 if method == "base" else 32,
            "rollouts_generated": 0,
            "examples": [],
        }
    return out


def test_contrast_over_seeds_takes_the_larger_of_test_and_seed_errors():
    # Seed 0: SRL right on 3 more of 4 problems; seed 1: on 1 more. Seed-to-seed spread
    # (stdev of 0.75 and 0.25 over sqrt 2 = 0.25) exceeds the problems' error here.
    per_seed = {
        0: _seed({"base": [0, 0, 0, 1], "srl": [1, 1, 1, 1]}),
        1: _seed({"base": [0, 0, 1, 1], "srl": [0, 1, 1, 1]}),
    }
    c = contrast(per_seed, "srl", "base")
    assert c["difference"] == pytest.approx(0.5)
    assert c["se_seeds"] == pytest.approx(0.25)
    se0 = paired([1, 1, 1, 1], [0, 0, 0, 1])[1]
    se1 = paired([0, 1, 1, 1], [0, 0, 1, 1])[1]
    assert c["se_problems"] == pytest.approx((se0**2 + se1**2) ** 0.5 / 2)
    assert c["se"] == max(c["se_problems"], c["se_seeds"])
    assert c["ratio"] == pytest.approx(0.5 / c["se"])
    assert c["by_seed"] == {"0": 0.75, "1": 0.25}


def _results(per_seed: dict, methods: tuple[str, ...]) -> dict:
    results = {
        "seeds": {str(s): r for s, r in per_seed.items()},
        "methods": [{"name": m, "label": METHODS[m].label} for m in methods],
        "regime": {
            "difficulty": "7-8 operations, >= 2 doublings (rate 0.3)",
            "threshold": 0.125,
            "base_pass_at_8": 0.1,
            "regime_met": True,
            "rlvr_groups_with_signal": 0.05,
        },
        **aggregate(per_seed, methods),
    }
    results["reading"] = reading(results)
    return results


def test_reading_calls_a_difference_only_beyond_two_standard_errors():
    n = 100
    base = [1] * 10 + [0] * 90
    rlvr = [1] * 5 + [0] * 95
    srl = [1] * 30 + [0] * 70
    per_seed = {0: _seed({"base": base, "rlvr": rlvr, "srl": srl, "srl_rlvr": srl}, wrong=1)}
    lines = _results(per_seed, DEFAULT_METHODS)["reading"]
    assert lines[0].startswith("Regime: hard split 7-8 operations") and lines[0].endswith("built.")
    assert lines[1] == "RLVR's groups with a correct rollout (kept by dynamic sampling): 5.0%."
    se = paired(srl, base)[1]
    assert lines[2].startswith("SRL is above base by 20.0 points of accuracy")
    assert f"({0.2 / se:.1f} standard errors of the paired difference; one seed" in lines[2]
    assert lines[3].startswith("SRL is above RLVR by 25.0 points")
    assert lines[4].startswith("SRL->RLVR - SRL = +0.0 points") and "within noise" in lines[4]
    assert lines[5].startswith("SRL->RLVR is above RLVR by 25.0 points")
    assert lines[6] == (
        "Right answers reached through a wrong chain: base 1 of 10, RLVR 1 of 5, SRL 1 of 30, "
        "SRL->RLVR 1 of 30."
    )
    assert "--seeds 0,1,2" in lines[7]
    assert len(base) == n


def test_report_writes_the_summary_and_the_report_reads_the_same_rows(tmp_path):
    per_seed = {
        0: _seed({"base": [0, 0, 0, 0], "rlvr": [1, 0, 0, 0], "srl": [1, 1, 0, 0]}),
        1: _seed({"base": [0, 0, 0, 1], "rlvr": [0, 0, 0, 0], "srl": [1, 1, 1, 0]}),
    }
    for seed in per_seed.values():
        for method in seed.values():
            method["commands"] = []
    results = _results(per_seed, ("base", "rlvr", "srl"))
    results.update(
        config={
            "train_problems": 8,
            "test_problems": 4,
            "grpo": {"steps": 5, "prompts_per_step": 2, "num_generations": 4},
        },
        student={"parameters": 1000, "accuracy": {"easy": 0.9, "hard": 0.0}},
        calibration={
            "metric": "pass@8",
            "chosen": 1,
            "levels": [
                {"level": 0, "describe": "mild", "pass@8": 0.5},
                {"level": 1, "describe": "hard", "pass@8": 0.1},
            ],
        },
        machine={
            "cpu": "a CPU",
            "cores": 2,
            "torch_cpu_capability": "AVX2",
            "versions": {"torch": "2.13.0"},
            "date": "2026-12-07",
        },
        timings_s={"student": 1.0},
        total_s=3.0,
    )
    page = write_report(tmp_path, results)
    text = page.read_text()
    assert "| SRL | 0.625 ± 0.165 | 0.500 / 0.750 | 5/8 | 0.500 | 0.250 | 0.700 | 60 | 32 |" in text
    assert "| 1 | hard | 0.100 | yes |" in text
    assert "[report.html](report.html)" in text and "Machine: a CPU" in text
    assert method_rows(results)["SRL"]["correct_chains_rate"] == 5 / 8
    rows = dict(comparison_rows(results))  # what srl report's demo table and bars show
    assert rows["hard accuracy (greedy)"] == {"base": 0.125, "RLVR": 0.125, "SRL": 0.625}
    assert len(comparison_table(results)) == 2 + 3


def test_the_shipped_student_is_the_default_configs():
    """The package ships the student of the default config; a change to anything in its key
    (config, prompts, chat template, task format) must come with a rebuilt student
    (`python -m srlkit.demo.student --out src/srlkit/demo/student`), or the demo would
    silently build another one on each machine."""
    from srlkit.demo.student import PACKAGED_STUDENT, packaged_student, read_student_meta

    assert packaged_student(StudentConfig()) == PACKAGED_STUDENT
    meta = read_student_meta(PACKAGED_STUDENT)
    assert meta["accuracy"]["easy"] > meta["accuracy"]["hard"]
    assert {"torch", "cpu_capability", "threads"} <= set(meta["built_on"])

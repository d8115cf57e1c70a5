"""`srl demo --quick` end to end on CPU, on the shipped student: the regime calibration, every
method as an `srl train` run, every evaluation as `srl eval` / `srl eval-steps`, results over
seeds, resume, and the printed commands reproducing the demo's runs exactly."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest

from srlkit.cli.main import main
from srlkit.io import iter_jsonl
from srlkit.rewards.similarity import step_similarity


def test_demo_help_documents_the_options(capsys):
    with pytest.raises(SystemExit) as info:
        main(["demo", "--help"])
    text = capsys.readouterr().out
    assert info.value.code == 0
    for option in (
        "--config",
        "--out",
        "--seed",
        "--seeds",
        "--methods",
        "--quick",
        "--steps",
        "--train_problems",
        "--rebuild_student",
    ):
        assert option in text


def test_demo_options_are_a_recipe_too(tmp_path):
    """One option style: the demo's flags are keys of a --config recipe, kebab spellings work."""
    from srlkit.cli.demo import COMMANDS, DemoArguments, build_config
    from srlkit.cli.options import parse_options

    recipe = tmp_path / "demo.yaml"
    recipe.write_text(
        "quick: true\nsteps: 3\ntrain_problems: 12\nseeds: 0,2\nmethods: srl_rlvr\n"
        "step_metric: sequence_matcher\n"
    )
    command = COMMANDS["demo"]
    args = parse_options(
        DemoArguments, ["--config", str(recipe), "--test-problems", "8"], prog=command.prog
    )
    config = build_config(args)
    assert config.grpo.steps == 3
    assert config.grpo.step_metric == "sequence_matcher"  # the paper's, when asked for
    assert (config.train_problems, config.test_problems) == (12, 8)
    assert config.seeds == (0, 2)
    assert config.methods == ("base", "srl", "srl_rlvr")


def _metrics(run_dir: Path, key: str) -> list:
    return [rec[key] for _, rec in iter_jsonl(run_dir / "metrics.jsonl") if key in rec]


@pytest.mark.slow
def test_quick_demo_runs_on_the_product_and_resumes(tmp_path, caplog):
    out = tmp_path / "demo"
    argv = ["demo", "--quick", "--out", str(out), "--workers", "1"]
    assert main(argv) == 0

    results = json.loads((out / "results.json").read_text())
    assert results["student"]["path"].endswith("demo/student")  # the shipped student
    assert (out / "report.md").is_file()
    page = (out / "report.html").read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "SRL-&gt;RLVR" in page or "SRL->RLVR" in page
    calibration = results["calibration"]
    assert calibration["levels"] and calibration["metric"] == "pass@8"
    assert results["regime"]["difficulty"] == calibration["describe"]
    assert {"cpu", "versions", "torch_cpu_capability"} <= set(results["machine"])
    seed = results["seeds"]["0"]
    assert seed["data"]["test_problems"] == results["config"]["test_problems"]
    for method in ("base", "rlvr", "srl", "srl_rlvr"):
        r = results[method]
        for key in ("accuracy", "correct_chains", "exact_step", "step_reward", "mean_tokens"):
            assert key in r, (method, key)
        assert 0 <= r["correct_chains"] <= r["n"] == results["config"]["test_problems"]
    assert results["base"]["rollouts"] == 0
    # SRL at the paper's batch ratio (4x RLVR's prompts); the curriculum adds RLVR's budget.
    assert results["srl"]["rollouts"] == 4 * results["rlvr"]["rollouts"]
    assert (
        results["srl_rlvr"]["rollouts"] == results["srl"]["rollouts"] + results["rlvr"]["rollouts"]
    )
    assert set(seed["srl_rlvr"]["kept_fraction"]) == {"srl", "srl_rlvr"}
    assert len(seed["srl_rlvr"]["commands"]) == 2

    # Every training is an `srl train` run folder; every evaluation an `srl eval` folder.
    srl_run = out / "seed-0" / "runs" / "srl"
    for name in ("config.yaml", "resolved_config.json", "metrics.jsonl", "run_summary.json"):
        assert (srl_run / name).is_file(), name
    assert (out / "seed-0" / "evals" / "srl" / "solve" / "summary.json").is_file()
    assert (out / "seed-0" / "evals" / "srl" / "steps" / "steps.jsonl").is_file()

    # The printed command reruns the stage exactly: same code path, same numbers.
    command = shlex.split(seed["srl"]["commands"][0])
    assert command[:3] == ["srl", "train", "srl"]
    # SRL's reward is edit distance (the demo's setting), RLVR's the outcome, as printed.
    reward = json.loads(command[command.index("--reward_funcs") + 1])
    assert reward == {"srl_step": {"metric": "levenshtein"}}
    assert "--reward_funcs" not in shlex.split(seed["rlvr"]["commands"][0])
    logged = [r for _, group in iter_jsonl(srl_run / "rollouts.jsonl") for r in group["rollouts"]]
    compared = [r for r in logged if "compared" in r]
    assert compared
    for r in compared:
        pair = r["compared"]
        assert r["reward"] == pytest.approx(
            step_similarity(pair["prediction"], pair["reference"], "levenshtein"), abs=1e-6
        )
    rerun = tmp_path / "rerun"
    options = command[3:]
    options[options.index("--output_dir") + 1] = str(rerun)
    assert main(["train", "srl", *options]) == 0
    for key in ("reward", "dynamic_sampling/kept_fraction", "loss"):
        assert _metrics(rerun, key) == _metrics(srl_run, key), key

    # The printed evaluation commands are srl eval / srl eval-steps on the same folders: run
    # again, they find every sample there and generate nothing.
    samples = out / "seed-0" / "evals" / "srl" / "solve" / "samples" / "chain.jsonl"
    steps = out / "seed-0" / "evals" / "srl" / "steps" / "steps.jsonl"
    before, before_steps = samples.read_text(), steps.read_text()
    solve_cmd, steps_cmd = (shlex.split(c) for c in seed["srl"]["eval_commands"])
    assert solve_cmd[:2] == ["srl", "eval"] and steps_cmd[:2] == ["srl", "eval-steps"]
    assert main(solve_cmd[1:]) == 0 and main(steps_cmd[1:]) == 0
    assert samples.read_text() == before and steps.read_text() == before_steps

    # A second run trains nothing and generates nothing: the runner's and srl eval's resume.
    caplog.clear()
    with caplog.at_level("INFO"):
        assert main(argv) == 0
    messages = " ".join(r.getMessage() for r in caplog.records)
    assert messages.count("already holds a finished run") == 3
    assert samples.read_text() == before
    rerun_results = json.loads((out / "results.json").read_text())
    assert rerun_results["srl"] == results["srl"]
    # The time of the run that did the work survives the resume.
    assert [i["total_s"] for i in rerun_results["invocations"]] == [
        results["total_s"],
        rerun_results["total_s"],
    ]

    # A moved demo folder resumes: its trainings are finished runs, its evaluations (made for
    # the old model paths) are evaluated again for the new ones, with the same numbers.
    moved = tmp_path / "moved"
    out.rename(moved)
    assert main(["demo", "--quick", "--out", str(moved), "--workers", "2"]) == 0
    again = json.loads((moved / "results.json").read_text())
    for method in ("base", "rlvr", "srl", "srl_rlvr"):
        assert again[method]["accuracy"] == results[method]["accuracy"], method


@pytest.mark.slow
def test_parallel_stages_and_seeds_give_the_numbers_of_one_by_one(tmp_path):
    """--workers 2 runs trainings and evaluations side by side; every number is unchanged, and
    a second seed adds its runs without redoing the first's."""
    outs = {}
    for workers, seeds in ((1, "0"), (2, "0,1")):
        out = tmp_path / f"workers{workers}"
        argv = ["demo", "--quick", "--out", str(out), "--seeds", seeds]
        assert main([*argv, "--workers", str(workers)]) == 0
        outs[workers] = json.loads((out / "results.json").read_text())
    one, two = outs[1]["seeds"]["0"], outs[2]["seeds"]["0"]
    for method in ("base", "rlvr", "srl", "srl_rlvr"):
        for key in ("accuracy", "correct_chains", "exact_step", "step_reward", "mean_tokens"):
            assert one[method][key] == two[method][key], (method, key)
    for run in ("rlvr", "srl", "srl_rlvr"):
        rewards = [
            [h.get("reward") for h in o["seeds"]["0"][run]["history"]] for o in outs.values()
        ]
        assert rewards[0] == rewards[1], run
    both = outs[2]
    assert set(both["seeds"]) == {"0", "1"}
    assert both["srl"]["accuracy"] == pytest.approx(
        (both["seeds"]["0"]["srl"]["accuracy"] + both["seeds"]["1"]["srl"]["accuracy"]) / 2
    )
    assert all(c["se_seeds"] is not None for c in both["contrasts"])


@pytest.mark.slow
def test_the_table_methods_all_run(tmp_path):
    """`--methods table` (the miniature paper table): SFT, R3, the curricula and the ablations
    go through the same commands; each made a model that was evaluated."""
    out = tmp_path / "table"
    assert main(["demo", "--quick", "--out", str(out), "--methods", "table"]) == 0
    results = json.loads((out / "results.json").read_text())
    names = [m["name"] for m in results["methods"]]
    assert names == [
        "base",
        "sft",
        "rlvr",
        "r3",
        "sft_rlvr",
        "srl",
        "srl_rlvr",
        "srl_no_ds",
        "srl_whole",
    ]
    seed = results["seeds"]["0"]
    for name in names[1:]:
        assert (out / "seed-0" / "runs" / name / "run_summary.json").is_file(), name
        assert seed[name]["n"] == results["config"]["test_problems"]
    no_ds = _metrics(out / "seed-0" / "runs" / "srl_no_ds", "dynamic_sampling/kept_fraction")
    assert no_ds == []  # dynamic sampling off: no keep rule logged
    assert "--dynamic_sampling false" in seed["srl_no_ds"]["commands"][0]
    assert "whole_solution_reward" in seed["srl_whole"]["commands"][0]

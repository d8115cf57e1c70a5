"""`srl demo --quick` end to end on CPU: student build and cache, RLVR, SRL, SRL->RLVR, results, resume."""

from __future__ import annotations

import json

import pytest

from srlkit.cli.main import main


def test_demo_help_documents_the_options(capsys):
    with pytest.raises(SystemExit) as info:
        main(["demo", "--help"])
    text = capsys.readouterr().out
    assert info.value.code == 0
    for option in ("--config", "--out", "--seed", "--quick", "--steps", "--train_problems"):
        assert option in text


def test_demo_options_are_a_recipe_too(tmp_path):
    """One option style: the demo's flags are keys of a --config recipe, kebab spellings work."""
    from srlkit.cli.demo import COMMANDS, DemoArguments, build_config
    from srlkit.cli.options import parse_options

    recipe = tmp_path / "demo.yaml"
    recipe.write_text("quick: true\nsteps: 3\ntrain_problems: 12\n")
    command = COMMANDS["demo"]
    args = parse_options(
        DemoArguments, ["--config", str(recipe), "--test-problems", "8"], prog=command.prog
    )
    config = build_config(args)
    assert (config.srl.steps, config.rlvr.steps) == (3, 3)
    assert (config.train_problems, config.test_problems) == (12, 8)


@pytest.mark.slow
def test_quick_demo_runs_resumes_and_reports(tmp_path, caplog):
    out, cache = tmp_path / "demo", tmp_path / "cache"
    argv = ["demo", "--quick", "--out", str(out), "--cache-dir", str(cache)]
    assert main(argv) == 0

    results = json.loads((out / "results.json").read_text())
    student_dir = results["student"]["path"]
    assert student_dir.startswith(str(cache / "students"))
    assert (out / "report.md").is_file()
    page = (out / "report.html").read_text(encoding="utf-8")  # srl report's page (tests/report)
    assert page.startswith("<!DOCTYPE html>") and "SRL->RLVR" in page
    history = results["histories"]["srl"]
    steps = [h for h in history if "reward" in h]
    assert len(steps) == results["config"]["srl"]["steps"]
    assert all("dynamic_sampling/kept_fraction" in h for h in steps)
    n = results["data"]["test"]
    for method in ("base", "rlvr", "srl", "srl_rlvr"):
        r = results[method]
        for key in ("accuracy", "correct_chains", "exact_step", "step_reward", "mean_tokens"):
            assert key in r, (method, key)
        assert r["n"] == n and 0 <= r["correct_chains"] <= n
    assert results["base"]["rollouts"] == 0
    assert (
        results["srl_rlvr"]["rollouts"] == results["srl"]["rollouts"] + results["rlvr"]["rollouts"]
    )
    assert set(results["srl_rlvr"]["kept_fraction"]) == {"srl", "srl_rlvr"}
    # Instances on disk are the data pipeline's format, one per expert step.
    lines = (out / "data" / "train_instances.jsonl").read_text().splitlines()
    assert len(lines) == results["data"]["train_instances"]
    assert {"prompt", "target", "step_index", "num_steps"} <= set(json.loads(lines[0]))
    # Every trained model is saved, loadable, and changed by its training.
    from safetensors.torch import load_file
    from transformers import AutoModelForCausalLM

    def changed(path: str) -> bool:
        before = load_file(f"{student_dir}/model.safetensors")
        after = load_file(f"{path}/model.safetensors")
        return any(not before[k].equal(after[k]) for k in before)

    for method in ("rlvr", "srl", "srl_rlvr"):
        AutoModelForCausalLM.from_pretrained(results[method]["model"])
    assert changed(results["srl"]["model"]), "SRL's dense step reward always moves the weights"
    # RLVR learns only from groups with a right and a wrong answer; when dynamic sampling kept
    # none (the quick student solves nothing), the model must come out unchanged.
    rlvr_kept = results["rlvr"]["kept_fraction"]["rlvr"]
    assert changed(results["rlvr"]["model"]) == (rlvr_kept > 0)

    # A second run reuses the cached student and every finished stage.
    caplog.clear()
    with caplog.at_level("INFO"):
        assert main(argv) == 0
    messages = " ".join(r.getMessage() for r in caplog.records)
    assert "reusing cached base student" in messages
    for stage in ("train_rlvr", "train_srl", "train_srl_rlvr", "eval_base", "eval_srl_rlvr"):
        assert f"stage {stage}: done earlier" in messages


@pytest.mark.slow
def test_parallel_stages_give_the_numbers_of_one_by_one(tmp_path):
    """--workers 2 runs trainings and evaluations side by side; every number is unchanged."""
    cache = tmp_path / "cache"
    outs = {}
    for workers in (1, 2):
        out = tmp_path / f"workers{workers}"
        argv = ["demo", "--quick", "--out", str(out), "--cache-dir", str(cache)]
        assert main([*argv, "--workers", str(workers)]) == 0
        outs[workers] = json.loads((out / "results.json").read_text())
    for method in ("base", "rlvr", "srl", "srl_rlvr"):
        one, two = outs[1][method], outs[2][method]
        for key in ("accuracy", "correct_chains", "exact_step", "step_reward", "mean_tokens"):
            assert one[key] == two[key], (method, key)
    for run in ("rlvr", "srl", "srl_rlvr"):
        rewards = [[h.get("reward") for h in outs[w]["histories"][run]] for w in (1, 2)]
        assert rewards[0] == rewards[1], run

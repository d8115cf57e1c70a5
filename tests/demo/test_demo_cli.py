"""`srl demo --quick` end to end on CPU: student build and cache, SRL, evaluation, report, resume."""

from __future__ import annotations

import json

import pytest

from srlkit.cli.main import build_parser, main


def test_demo_help_documents_the_options(capsys):
    with pytest.raises(SystemExit):
        build_parser().parse_args(["demo", "--help"])
    text = capsys.readouterr().out
    for option in ("--out", "--seed", "--quick", "--steps", "--train-problems", "--cache-dir"):
        assert option in text


@pytest.mark.slow
def test_quick_demo_runs_resumes_and_reports(tmp_path, caplog):
    out, cache = tmp_path / "demo", tmp_path / "cache"
    argv = ["demo", "--quick", "--out", str(out), "--cache-dir", str(cache)]
    assert main(argv) == 0

    results = json.loads((out / "results.json").read_text())
    student_dir = results["student"]["path"]
    assert student_dir.startswith(str(cache / "students"))
    assert (out / "report.md").is_file()
    page = (out / "report.html").read_text()
    assert "accuracy (greedy)" in page and "Plotly" in page
    logged = [
        json.loads(line) for line in (out / "srl_run" / "rollouts.jsonl").read_text().splitlines()
    ]
    assert {rec["step"] for rec in logged} == set(range(1, results["config"]["srl"]["steps"] + 1))
    history = results["srl_history"]
    steps = [h for h in history if "reward" in h]
    assert len(steps) == results["config"]["srl"]["steps"]
    assert all("dynamic_sampling/kept_fraction" in h for h in steps)
    for key in ("accuracy_greedy", "step_reward", "format_failure_rate"):
        assert key in results["base"] and key in results["srl"]
    # Instances on disk are the data pipeline's format, one per expert step.
    lines = (out / "data" / "train_instances.jsonl").read_text().splitlines()
    assert len(lines) == results["data"]["train_instances"]
    assert {"prompt", "target", "step_index", "num_steps"} <= set(json.loads(lines[0]))
    # SRL changed the model (it is not the cached student re-saved).
    from safetensors.torch import load_file

    before = load_file(f"{student_dir}/model.safetensors")
    after = load_file(f"{results['srl_model_dir']}/model.safetensors")
    assert any(not before[k].equal(after[k]) for k in before)

    # A second run reuses the cached student and every finished stage.
    caplog.clear()
    with caplog.at_level("INFO"):
        assert main(argv) == 0
    messages = " ".join(r.getMessage() for r in caplog.records)
    assert "reusing cached base student" in messages
    for stage in ("eval_base", "train_srl", "eval_srl"):
        assert f"stage {stage}: done earlier" in messages

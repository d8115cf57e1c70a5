"""``srl eval`` and ``srl eval-steps`` through the real entry point."""

from __future__ import annotations

import json

import pytest

from srlkit.cli.main import main


def test_eval_options_defaults_and_spellings():
    from srlkit.cli.options import parse_options
    from srlkit.evaluation.runner import EvalConfig
    from srlkit.evaluation.steps import StepEvalConfig

    config = parse_options(
        EvalConfig, ["Qwen/Qwen2.5-7B-Instruct"], prog="srl eval", positionals=("model",)
    )
    assert config.benchmarks == ["amc23", "aime24", "aime25", "minerva"]
    assert (config.k, config.temperature, config.top_p, config.top_k, config.backend) == (
        None,
        1.0,
        1.0,
        0,
        "hf",
    )
    spelled = parse_options(
        EvalConfig,
        ["m", "--benchmarks", "aime24,amc23", "gsm8k", "--no-chat-template", "--out", "o"],
        prog="srl eval",
        positionals=("model",),
    )
    assert spelled.benchmarks == ["aime24", "amc23", "gsm8k"]
    assert (spelled.chat_template, spelled.out_dir) == (False, "o")
    steps = parse_options(
        StepEvalConfig, ["m", "build_dir"], prog="srl eval-steps", positionals=("model", "data")
    )
    assert (steps.temperature, steps.split, steps.format_penalty, steps.data) == (
        0.0,
        "validation",
        -1.0,
        "build_dir",
    )


def test_default_output_folders_differ_for_models_with_the_same_name(tmp_path):
    from srlkit.cli.eval import default_out

    a, b = tmp_path / "srl" / "model", tmp_path / "rlvr" / "model"
    a.mkdir(parents=True), b.mkdir(parents=True)
    assert default_out(str(a), "math") != default_out(str(b), "math")
    assert default_out(str(a), "math") == default_out(str(a) + "/", "math")
    assert default_out(str(a), "math").startswith("eval_results/model-")


def test_eval_reads_a_recipe(tmp_path, capsys):
    recipe = tmp_path / "eval.yaml"
    recipe.write_text("model: /nonexistent/model\nbenchmarks: [aime24, aime99]\n")
    assert main(["eval", "--config", str(recipe)]) == 2
    assert "unknown benchmark 'aime99'" in capsys.readouterr().err


def test_unknown_benchmark_fails_before_loading_a_model(capsys):
    assert main(["eval", "/nonexistent/model", "--benchmarks", "aime24,aime99"]) == 2
    assert "unknown benchmark 'aime99'" in capsys.readouterr().err


def test_missing_data_dir_is_a_clear_error(tmp_path, capsys):
    assert (
        main(["eval", "/nonexistent/model", "--benchmarks", "aime24", "--data-dir", str(tmp_path)])
        == 2
    )
    assert "benchmark file not found" in capsys.readouterr().err


@pytest.mark.slow
def test_srl_eval_on_the_tiny_model(tiny_model_dir, shared_data, tmp_path, capsys):
    out = tmp_path / "eval"
    argv = [
        "eval", str(tiny_model_dir), "--benchmarks", "amc23,minerva", "--data-dir", str(shared_data),
        "--limit", "2", "--k", "2", "--max-new-tokens", "6", "--batch-size", "4", "--device", "cpu", "--out", str(out),
    ]  # fmt: skip
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "| amc23 | 2 |" in printed and "AMC23 avg@2" in printed
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["benchmarks"]["minerva"]["sampled"]["n_samples"] == 4
    assert json.loads((out / "config.json").read_text(encoding="utf-8"))["max_new_tokens"] == 6
    assert main(argv) == 0  # rerun: resumes, nothing left to generate
    assert len((out / "samples" / "amc23.jsonl").read_text(encoding="utf-8").splitlines()) == 2 + 4


@pytest.mark.slow
def test_srl_eval_steps_on_a_real_build(tiny_model_dir, shared_data, tmp_path, capsys):
    source = tmp_path / "gsm.jsonl"
    with open(shared_data / "gsm8k" / "test_socratic.jsonl", encoding="utf-8") as f:
        source.write_text("".join(next(f) for _ in range(10)), encoding="utf-8")
    build = tmp_path / "build"
    assert main(["data", "build", str(source), "--out", str(build), "--validation-size", "2"]) == 0
    out = tmp_path / "steps"
    argv = [
        "eval-steps",
        str(tiny_model_dir),
        str(build),
        "--max-new-tokens",
        "6",
        "--device",
        "cpu",
        "--out",
        str(out),
    ]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "mean step reward" in printed and "format-failure rate" in printed
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    n = len((build / "validation.jsonl").read_text(encoding="utf-8").splitlines())
    assert summary["n_instances"] == n > 0
    records = [
        json.loads(line) for line in (out / "steps.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    assert len(records) == n
    assert summary["mean_reward"] == pytest.approx(sum(r["reward"] for r in records) / n)
    assert summary["format_failure_rate"] == sum(not r["format_ok"] for r in records) / n
    assert all(r["reward"] == -1.0 for r in records if not r["format_ok"])


def _summary(acc: float, tokens: float) -> dict:
    bench = {"greedy": {"accuracy": acc, "mean_tokens": tokens, "n_samples": 10}}
    sampled = {"sampled": {"avg": acc / 2, "k": 32}}
    return {
        "benchmarks": {n: {**bench, **sampled} for n in ("amc23", "aime24", "aime25")}
        | {"minerva": bench}
    }


def test_eval_table_compares_runs(tmp_path, capsys):
    for name, acc, tokens in (("base", 0.2, 300.0), ("srl", 0.4, 310.0)):
        (tmp_path / name).mkdir()
        (tmp_path / name / "summary.json").write_text(
            json.dumps(_summary(acc, tokens)), encoding="utf-8"
        )
    assert main(["eval-table", f"Base model={tmp_path / 'base'}", str(tmp_path / "srl")]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("| run | AMC23 avg@32 | AMC23 greedy |") and lines[0].endswith(
        "mean tokens (greedy) |"
    )
    # three avg@32 cells at acc/2 and four greedy cells at acc: (3 * 10 + 4 * 20) / 7 = 15.7
    assert (
        lines[2] == "| Base model | 10.0 | 20.0 | 10.0 | 20.0 | 10.0 | 20.0 | 20.0 | 15.7 | 300.0 |"
    )
    assert lines[3].startswith("| srl | 20.0 | 40.0 |") and lines[3].endswith("| 31.4 | 310.0 |")


def test_eval_table_names_a_missing_summary(tmp_path, capsys):
    assert main(["eval-table", str(tmp_path)]) == 2
    assert "no summary.json" in capsys.readouterr().err


def test_eval_table_refuses_an_eval_steps_folder_in_one_line(tmp_path, capsys):
    """Before: an `srl eval-steps` summary became a row of dashes."""
    steps = tmp_path / "steps"
    steps.mkdir()
    (steps / "summary.json").write_text(json.dumps({"n_instances": 4, "mean_reward": 0.5}))
    assert main(["eval-table", str(steps)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "eval-steps" in err and "srl report" in err
    (steps / "summary.json").write_text("[1, 2]")
    assert main(["eval-table", str(steps)]) == 2
    assert "expected an `srl eval` summary" in capsys.readouterr().err

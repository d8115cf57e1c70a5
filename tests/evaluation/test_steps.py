"""Step-level validation: scores with the SRL reward, rates, resume, a real `srl data build` set."""

from __future__ import annotations

import json

import pytest

from srlkit.cli.main import main
from srlkit.data.schema import KIND_AGENT, KIND_MATH, StepInstance
from srlkit.evaluation.steps import (
    StepEvalConfig,
    load_step_instances,
    run_step_evaluation,
    summarize_steps,
)
from srlkit.io import DataError


def _instances(tmp_path, rows):
    path = tmp_path / "validation.jsonl"
    path.write_text("".join(json.dumps(r.to_dict()) + "\n" for r in rows), encoding="utf-8")
    return path


def _inst(i, target, kind=KIND_MATH):
    prompt = [{"role": "user", "content": f"problem {i}: next step?"}]
    return StepInstance(
        id=f"t{i}/step-1",
        prompt=prompt,
        target=target,
        step_index=1,
        num_steps=3,
        trajectory_id=f"t{i}",
        kind=kind,
    )


ROWS = [
    _inst(0, "1. **Add** 2 + 3 = 5"),
    _inst(1, "2. **Double** 5 * 2 = 10"),
    _inst(2, "3. **Halve** 10 / 2 = 5"),
    _inst(3, "<function=execute_bash>\n<parameter=command>ls</parameter>\n</function>", KIND_AGENT),
]


def _answers(prompt, call, settings):
    if "problem 0" in prompt:
        return "<think>add</think> 1. **Add** 2 + 3 = 5"  # exact
    if "problem 1" in prompt:
        return "<think>x</think> 2. **Double** 5 * 2 = 11"  # close, not exact
    if "problem 2" in prompt:
        return "3. **Halve** 10 / 2 = 5"  # no think block: format failure
    return (
        "<think>look</think><function=execute_bash>\n<parameter=command>ls</parameter>\n</function>"
    )


def test_rates_and_rewards_from_scripted_steps(tmp_path, scripted):
    data = _instances(tmp_path, ROWS)
    config = StepEvalConfig(model="m", data=str(data), out_dir=str(tmp_path / "out"))
    summary = run_step_evaluation(config, scripted(_answers, chunk_size=3))
    records = {
        r["id"]: r
        for r in map(json.loads, (tmp_path / "out" / "steps.jsonl").read_text().splitlines())
    }
    close = records["t1/step-1"]["reward"]
    assert 0.9 < close < 1.0
    assert summary["n_instances"] == 4
    assert summary["mean_reward"] == pytest.approx((1.0 + close - 1.0 + 1.0) / 4)
    assert summary["format_failure_rate"] == 0.25
    assert summary["exact_match_rate"] == 0.5
    assert summary["mean_similarity_formatted"] == pytest.approx((2.0 + close) / 3)
    assert summary["format_failures"] == {"missing <think> block": 1}
    assert set(summary["by_kind"]) == {KIND_MATH, KIND_AGENT}
    assert summary["by_kind"][KIND_AGENT]["exact_match_rate"] == 1.0


def test_step_evaluation_resumes(tmp_path, scripted):
    data = _instances(tmp_path, ROWS)
    config = StepEvalConfig(model="m", data=str(data), out_dir=str(tmp_path / "out"))
    with pytest.raises(KeyboardInterrupt):
        run_step_evaluation(config, scripted(_answers, chunk_size=2, fail_after=1))
    backend = scripted(_answers, chunk_size=2)
    summary = run_step_evaluation(config, backend)
    assert backend.generated == 2
    assert summary["n_instances"] == 4 and summary["exact_match_rate"] == 0.5


def test_summary_of_nothing():
    assert summarize_steps([])["mean_reward"] is None


def test_bad_instance_file_is_a_located_error(tmp_path):
    path = tmp_path / "v.jsonl"
    path.write_text(
        json.dumps(ROWS[0].to_dict()) + '\n{"id": "x", "prompt": []}\n', encoding="utf-8"
    )
    with pytest.raises(DataError, match=r"v\.jsonl:2: not a step instance: 'prompt' is not"):
        load_step_instances(path)
    with pytest.raises(DataError, match="no validation.jsonl or validation.parquet"):
        load_step_instances(tmp_path)


def test_loads_a_real_build_directory_and_its_parquet(shared_data, tmp_path):
    source = tmp_path / "gsm.jsonl"
    with open(shared_data / "gsm8k" / "test_socratic.jsonl", encoding="utf-8") as f:
        source.write_text("".join(next(f) for _ in range(12)), encoding="utf-8")
    assert (
        main(
            [
                "data",
                "build",
                str(source),
                "--out",
                str(tmp_path / "build"),
                "--validation-size",
                "3",
                "--max-validation-fraction",
                "0.5",
            ]
        )
        == 0
    )
    from_dir = load_step_instances(tmp_path / "build")
    from_parquet = load_step_instances(tmp_path / "build" / "validation.parquet")
    assert len(from_dir) > 3 and [i.to_dict() for i in from_dir] == [
        i.to_dict() for i in from_parquet
    ]
    assert len({i.trajectory_id for i in from_dir}) == 3


def test_continuation_instances_score_the_first_step_written(tmp_path, scripted):
    """An instance whose prompt opened the answer: the model's prompt ends with the opened
    answer, and only the step it writes first is compared (the rest of its answer is not)."""
    opened = _inst(0, "2. **Double** 5 * 2 = 10")
    opened.prompt = opened.prompt + [{"role": "assistant", "content": "1. **Add** 2 + 3 = 5\n"}]
    seen = []

    def answers(prompt, call, settings):
        seen.append(prompt)
        return "2. **Double** 5 * 2 = 10\n3. **Give the answer** \\boxed{10}"

    data = _instances(tmp_path, [opened])
    config = StepEvalConfig(model="m", data=str(data), out_dir=str(tmp_path / "out"))
    summary = run_step_evaluation(config, scripted(answers))
    assert seen[0].endswith("1. **Add** 2 + 3 = 5\n")
    assert summary["exact_match_rate"] == 1.0 and summary["format_failure_rate"] == 0.0
    record = json.loads((tmp_path / "out" / "steps.jsonl").read_text().splitlines()[0])
    assert record["action"] == "2. **Double** 5 * 2 = 10"


def test_options_that_differ_from_the_training_run_are_named(tmp_path, scripted, caplog):
    """Before: on the tiny run eval-steps said -1.0 (all format failures) where training's
    validation said -0.56, with nothing saying that training was lenient and biased its
    sampling."""
    run = tmp_path / "tiny-srl"
    (run / "checkpoint-4").mkdir(parents=True)
    (run / "config.yaml").write_text(
        "method: srl\nreward_funcs:\n  srl_step: {lenient: true}\n"
        "generation_kwargs:\n  sequence_bias: [[[4], 5.0]]\n"
    )
    data = _instances(tmp_path, ROWS)
    config = StepEvalConfig(model=str(run / "checkpoint-4"), data=str(data),
                            out_dir=str(tmp_path / "out"))  # fmt: skip
    with caplog.at_level("WARNING"):
        summary = run_step_evaluation(config, scripted(_answers))
    notes = summary["differs_from_training"]
    assert notes == [
        "training scored with srl_step lenient: true (pass --lenient true)",
        "training sampled with sequence_bias, which eval-steps does not apply",
    ]
    assert "eval-steps scores differently from training" in caplog.text
    config = StepEvalConfig(model=str(run / "checkpoint-4"), data=str(data), lenient=True,
                            out_dir=str(tmp_path / "out2"))  # fmt: skip
    assert len(run_step_evaluation(config, scripted(_answers))["differs_from_training"]) == 1

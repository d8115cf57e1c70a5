"""The evaluation runner: metrics end to end, resume after a kill, settings guard, tiny model."""

from __future__ import annotations

import json

import pytest

from srlkit.evaluation.backends import HFBackend, SamplingSettings
from srlkit.evaluation.benchmarks import BENCHMARKS, load_benchmark
from srlkit.evaluation.runner import EvalConfig, run_evaluation
from srlkit.io import DataError


def _golds(shared_data, name, n):
    return [(p.problem, p.gold) for p in load_benchmark(BENCHMARKS[name], shared_data).problems[:n]]


def _script_from(golds, right_samples):
    """Problem i: greedy right when i is even; its first ``right_samples[i]`` samples right."""

    def script(prompt, call, settings):
        i = next(j for j, (problem, _) in enumerate(golds) if prompt.startswith(problem))
        right = (i % 2 == 0) if settings.greedy else call < right_samples[i]
        return f"<think>work</think> so \\boxed{{{golds[i][1] if right else 'nothing'}}}"

    return script


def _read(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_metrics_from_scripted_answers(shared_data, tmp_path, scripted):
    golds = _golds(shared_data, "aime24", 4)
    backend = scripted(_script_from(golds, [4, 2, 0, 1]))
    config = EvalConfig(
        model="scripted",
        out_dir=str(tmp_path),
        benchmarks=["aime24"],
        data_dir=str(shared_data),
        k=4,
        limit=4,
    )
    summary = run_evaluation(config, backend)
    s = summary["benchmarks"]["aime24"]
    assert s["n_problems"] == 4
    assert s["greedy"]["accuracy"] == 0.5
    assert s["sampled"]["avg"] == pytest.approx((1 + 0.5 + 0 + 0.25) / 4)
    assert s["sampled"]["pass@k"]["1"] == pytest.approx(s["sampled"]["avg"])
    assert s["sampled"]["pass@k"]["2"] == pytest.approx((1 + 5 / 6 + 0 + 0.5) / 4)
    assert s["sampled"]["pass@k"]["4"] == pytest.approx(0.75)
    assert s["sampled"]["complete"] is True
    assert s["greedy"]["mean_words"] == pytest.approx(
        3.0
    )  # "<think>work</think>", "so", "\\boxed{..}"
    records = _read(tmp_path / "samples" / "aime24.jsonl")
    assert len(records) == 4 + 16
    first = records[0]
    assert set(first) >= {
        "prompt",
        "completion",
        "extracted",
        "correct",
        "gold",
        "num_tokens",
        "num_words",
    }
    assert summary["paper_table"]["columns"]["AIME24 greedy"] == 50.0
    md = (tmp_path / "results.md").read_text(encoding="utf-8")
    assert "| aime24 | 4 | 50.0 | 43.8 (k=4) |" in md
    assert (
        json.loads((tmp_path / "summary.json").read_text())["benchmarks"]["aime24"]["greedy"][
            "n_samples"
        ]
        == 4
    )


def test_killed_run_resumes_and_skips_finished_samples(shared_data, tmp_path, scripted):
    golds = _golds(shared_data, "amc23", 5)
    script = _script_from(golds, [3, 1, 0, 2, 3])
    config = EvalConfig(
        model="m",
        out_dir=str(tmp_path / "a"),
        benchmarks=["amc23"],
        data_dir=str(shared_data),
        k=3,
        limit=5,
    )
    killed = scripted(script, chunk_size=4, fail_after=3)
    with pytest.raises(KeyboardInterrupt):
        run_evaluation(config, killed)
    samples = tmp_path / "a" / "samples" / "amc23.jsonl"
    assert len(_read(samples)) == 9  # greedy chunks of 4 + 1, then one sampled chunk of 4
    with open(samples, "a", encoding="utf-8") as f:
        f.write('{"benchmark": "amc23", "problem_')  # and a torn last line
    resumed = scripted(script, chunk_size=4)
    resumed.calls = killed.calls  # the scripted "model" keeps its sample counter
    summary = run_evaluation(config, resumed)
    assert resumed.generated == 5 + 15 - 9
    records = _read(samples)
    assert len(records) == 20
    assert len({(r["problem_id"], r["mode"], r["sample_index"]) for r in records}) == 20

    fresh = EvalConfig(**{**config.__dict__, "out_dir": str(tmp_path / "b")})
    straight = run_evaluation(fresh, scripted(script, chunk_size=4))
    assert summary["benchmarks"]["amc23"]["sampled"] == straight["benchmarks"]["amc23"]["sampled"]
    assert summary["benchmarks"]["amc23"]["greedy"] == straight["benchmarks"]["amc23"]["greedy"]

    again = scripted(script)
    run_evaluation(config, again)
    assert again.generated == 0  # everything finished: nothing is generated twice


def test_raising_k_or_limit_adds_only_the_new_samples(shared_data, tmp_path, scripted):
    golds = _golds(shared_data, "aime25", 3)
    script = _script_from(golds, [1, 1, 1])
    base = {
        "model": "m",
        "out_dir": str(tmp_path),
        "benchmarks": ["aime25"],
        "data_dir": str(shared_data),
    }
    run_evaluation(EvalConfig(**base, k=2, limit=2), scripted(script))
    more = scripted(script)
    summary = run_evaluation(EvalConfig(**base, k=3, limit=3), more)
    assert more.generated == (1 + 3) + 2 * 1  # problem 3 entirely, one more sample for problems 1-2
    assert summary["benchmarks"]["aime25"]["sampled"]["k"] == 3


def test_resume_with_other_generation_settings_is_refused(shared_data, tmp_path, scripted):
    golds = _golds(shared_data, "aime24", 1)
    base = {
        "model": "m",
        "out_dir": str(tmp_path),
        "benchmarks": ["aime24"],
        "data_dir": str(shared_data),
        "k": 1,
        "limit": 1,
    }
    run_evaluation(EvalConfig(**base), scripted(_script_from(golds, [1])))
    with pytest.raises(DataError, match="temperature: 1.0 -> 0.7"):
        run_evaluation(EvalConfig(**base, temperature=0.7), scripted(_script_from(golds, [1])))


def test_model_output_that_is_garbage_never_crashes(shared_data, tmp_path, scripted):
    def script(prompt, call, settings):
        return ["", "\\boxed{", "}}}{{{\\boxed{\\frac{", "\x00\ufffd", "<think>" * 50][call % 5]

    config = EvalConfig(
        model="m",
        out_dir=str(tmp_path),
        benchmarks=["gsm8k"],
        data_dir=str(shared_data),
        k=5,
        limit=2,
    )
    summary = run_evaluation(config, scripted(script))
    assert summary["benchmarks"]["gsm8k"]["sampled"]["avg"] == 0.0


@pytest.mark.slow
def test_left_padded_batches_decode_like_single_prompts(tiny_model_dir):
    backend = HFBackend.from_pretrained(str(tiny_model_dir), batch_size=8, device="cpu")
    prompts = ["1 + 1 =", "Natalia sold clips to 48 of her friends in April, and then", "How many"]
    settings = SamplingSettings(temperature=0.0, max_new_tokens=12)
    batched = backend.generate(prompts, settings)
    single = [backend.generate([p], settings)[0] for p in prompts]
    assert [g.text for g in batched] == [g.text for g in single]
    assert all(1 <= g.num_tokens <= 12 for g in batched)


@pytest.mark.slow
def test_tiny_model_end_to_end_with_resume(tiny_model_dir, shared_data, tmp_path):
    backend = HFBackend.from_pretrained(str(tiny_model_dir), batch_size=3, device="cpu")
    config = EvalConfig(
        model=str(tiny_model_dir), out_dir=str(tmp_path), benchmarks=["aime25", "gsm8k"],
        data_dir=str(shared_data), k=2, limit=3, max_new_tokens=8,
    )  # fmt: skip
    summary = run_evaluation(config, backend)
    for name in ("aime25", "gsm8k"):
        records = _read(tmp_path / "samples" / f"{name}.jsonl")
        assert len(records) == 3 + 6
        assert all(
            r["prompt"].startswith("<|im_start|>user\n")
            and r["prompt"].endswith("<|im_start|>assistant\n")
            for r in records
        )
        assert all(1 <= r["num_tokens"] <= 8 for r in records)
        assert summary["benchmarks"][name]["greedy"]["n_samples"] == 3
    samples = tmp_path / "samples" / "gsm8k.jsonl"
    lines = samples.read_text(encoding="utf-8").splitlines(keepends=True)
    samples.write_text(
        "".join(lines[:-2]) + lines[-2][: len(lines[-2]) // 2], encoding="utf-8"
    )  # killed mid-line

    calls = []
    original = backend.generate
    backend.generate = lambda prompts, settings: (
        calls.append(len(prompts)) or original(prompts, settings)
    )
    resumed = run_evaluation(config, backend)
    assert sum(calls) == 2  # the torn record and the one after it
    assert len(_read(samples)) == 9
    assert resumed["benchmarks"]["aime25"] == summary["benchmarks"]["aime25"]

"""`srl loop` end to end on CPU: on a real-format dataset with the tiny model (the generic path:
a recipe, benchmark files, an expert pool), and on the built-in task (`--quick`), including
resume after kills at several points with nothing lost and nothing asked twice."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from srlkit.cli.main import main
from srlkit.io import iter_jsonl

REPO = Path(__file__).resolve().parents[2]
TINY_RECIPE = REPO / "recipes" / "tiny" / "srl" / "config.yaml"


def _head(src: Path, dest: Path, n: int) -> Path:
    with open(src, encoding="utf-8") as f:
        lines = [next(f) for _ in range(n)]
    dest.write_text("".join(lines), encoding="utf-8")
    return dest


def test_loop_help_lists_its_options(capsys):
    with pytest.raises(SystemExit) as info:
        main(["loop", "--help"])
    text = capsys.readouterr().out
    assert info.value.code == 0
    for option in ("--rounds", "--num_samples", "--verifier", "--process_check", "--expert_pool",
                   "--expert_weight", "--teacher", "--train_config", "--eval_benchmarks", "--quick"):  # fmt: skip
        assert option in text


def test_loop_without_what_it_needs_is_one_line(capsys, tmp_path):
    assert main(["loop", "--out", str(tmp_path / "o")]) == 2
    assert capsys.readouterr().err.strip() == "srl: error: invalid option: give --model"


@pytest.mark.slow
def test_loop_on_gsm8k_with_the_tiny_model(tmp_path, tiny_model_dir, shared_data):
    """Real problems and real expert solutions (GSM8K): the untrained tiny model solves none, so
    the pool is the expert pool (weight 0.5), and SRL trains on it every round, in a process of
    its own (``--train_launcher``, as ``accelerate launch`` would start it)."""
    problems = _head(shared_data / "gsm8k" / "test.jsonl", tmp_path / "problems.jsonl", 4)
    experts = _head(shared_data / "gsm8k" / "train.jsonl", tmp_path / "experts.jsonl", 12)
    held_out = tmp_path / "held_out.jsonl"
    rows = [json.loads(line) for line in (shared_data / "gsm8k" / "test.jsonl").open()][100:104]
    held_out.write_text("".join(json.dumps({"problem": r["question"], "answer": r["answer"].split("####")[-1].strip()}) + "\n" for r in rows))  # fmt: skip
    out = tmp_path / "loop"
    argv = [
        "loop", "--model", str(tiny_model_dir), "--problems", str(problems),
        "--out", str(out), "--rounds", "2", "--num_samples", "2", "--max_tokens", "24",
        "--batch_size", "8", "--device", "cpu", "--dtype", "float32",
        "--expert_pool", str(experts), "--expert_weight", "0.5",
        "--train_config", str(TINY_RECIPE), "--eval_benchmarks", f"heldout={held_out}",
        "--eval_max_new_tokens", "16", "--train_launcher", sys.executable,
        "--progress", "false",
    ]  # fmt: skip
    assert main(argv) == 0
    summary = json.loads((out / "loop.json").read_text())
    assert [p["round"] for p in summary["curve"]] == [0, 1, 2]
    start = summary["rounds"][0]
    assert start["expert_pool"]["read"] == 12
    assert start["expert_pool"]["kept"] + sum(start["expert_pool"]["dropped"].values()) == 12
    for record in summary["rounds"][1:]:
        # every unsolved problem was asked num_samples times; each sample kept or dropped
        assert record["samples"]["in"] == record["unsolved_before"] * 2
        assert (
            record["samples"]["kept"] + record["samples"]["dropped_total"]
            == record["samples"]["in"]
        )
        assert record["trained"] is True
        assert record["pool"]["expert"] == start["expert_pool"]["kept"]
        assert Path(record["model_after"], "config.json").is_file()
        pool = [rec for _, rec in iter_jsonl(out / f"round-{record['round']}" / "pool.jsonl")]
        assert {p["source"] for p in pool} <= {"expert", "self"}
        assert all(p["weight"] == 0.5 for p in pool if p["source"] == "expert")
    # weight 0.5: about half the expert trajectories are trained on, the same ones every round
    trained = [
        sum(1 for _ in iter_jsonl(out / f"round-{r}" / "train_trajectories.jsonl")) for r in (1, 2)
    ]
    assert trained[0] == trained[1] and 0 < trained[0] < start["expert_pool"]["kept"]
    # round 2 starts from round 1's model
    assert summary["rounds"][2]["model_before"] == summary["rounds"][1]["model_after"]
    # a finished loop re-run does nothing: no round, no file rewritten
    stamps = {p: p.stat().st_mtime_ns for p in out.rglob("round.json")}
    assert main(argv) == 0
    assert {p: p.stat().st_mtime_ns for p in out.rglob("round.json")} == stamps
    # other settings in the same folder are refused, naming what differs
    assert main([*argv[:-2], "--num_samples", "3", "--progress", "false"]) == 2


def _quick(out: Path) -> subprocess.Popen:
    """``srl loop --quick --compare false`` in a child process."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    argv = [sys.executable, "-m", "srlkit.cli.main", "loop", "--quick", "--compare", "false",
            "--out", str(out), "--progress", "false", "--threads", "1"]  # fmt: skip
    return subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _finish(out: Path) -> None:
    child = _quick(out)
    _, err = child.communicate(timeout=600)
    assert child.returncode == 0, err.decode()[-2000:]


def _kill_when(out: Path, pattern: str) -> bool:
    """Run the loop and kill it the moment a file matching ``pattern`` appears under ``out``
    (in the middle of the stage that writes it); False when it finished first."""
    child = _quick(out)
    deadline = time.monotonic() + 600
    while child.poll() is None and time.monotonic() < deadline:
        if any(out.glob(pattern)):
            child.kill()
            child.wait()
            return True
        time.sleep(0.02)
    child.wait()
    return False


def _pools(out: Path) -> dict[str, list[str]]:
    return {
        folder.name: [rec["key"] for _, rec in iter_jsonl(folder / "pool.jsonl")]
        for folder in sorted((out / "loop").glob("round-*"))
    }


KILL_POINTS = (
    "loop/round-0/eval/solve/samples/*.jsonl",  # evaluating the starting model
    "loop/round-1/generate/responses.jsonl",  # sampling (the cache has begun)
    "loop/round-1/data/stats.json",  # between the build and the training
    "loop/round-1/train/metrics.jsonl",  # training
    "loop/round-2/eval/steps/*",  # evaluating the round-2 model
)


@pytest.mark.slow
@pytest.mark.multiprocess
def test_quick_loop_resumes_after_kills_with_nothing_lost(tmp_path):
    """The same loop run straight through, and killed in each stage in turn (evaluation,
    sampling, between build and training, training, the last evaluation) then finished, ends
    with the same pools and the same curve; no sample is asked twice."""
    straight = tmp_path / "straight"
    _finish(straight)
    killed = tmp_path / "killed"
    hits = [_kill_when(killed, pattern) for pattern in KILL_POINTS]
    assert sum(hits) >= 3, f"too few kills landed: {dict(zip(KILL_POINTS, hits))}"
    _finish(killed)
    a = json.loads((straight / "loop" / "loop.json").read_text())
    b = json.loads((killed / "loop" / "loop.json").read_text())
    assert _pools(straight) == _pools(killed)
    assert a["filters"] == b["filters"]
    assert a["curve"] == b["curve"]
    for record in b["rounds"][1:]:
        responses = killed / "loop" / f"round-{record['round']}" / "generate" / "responses.jsonl"
        keys = [rec.get("key") for _, rec in iter_jsonl(responses) if "sample" in rec]
        assert len(keys) == len(set(keys)), "a sample was asked twice"


@pytest.mark.slow
def test_round_one_samples_the_teacher_then_the_student(tmp_path, tiny_model_dir, shared_data):
    """Round 1 asks a teacher endpoint (a scripted local server speaking the OpenAI protocol):
    it answers 3 of 4 GSM8K problems right; round 2 samples the student on the one left. A rerun
    asks the teacher nothing."""
    from srlkit.teacher.fake_server import FakeChatServer

    rows = [json.loads(line) for line in (shared_data / "gsm8k" / "test.jsonl").open()][:4]
    golds = {r["question"].strip(): r["answer"].split("####")[-1].strip() for r in rows}
    wrong = rows[3]["question"].strip()

    def responder(body: dict) -> str:
        asked = body["messages"][-1]["content"]
        question = next(q for q in golds if q in asked)
        answer = "-1" if question == wrong else golds[question]
        return f"SOLUTION:\n1. **Read** the numbers.\n2. **Answer** $\\boxed{{{answer}}}$"

    problems = tmp_path / "problems.jsonl"
    problems.write_text("".join(json.dumps(r) + "\n" for r in rows))
    held_out = tmp_path / "held_out.jsonl"
    held_out.write_text(json.dumps({"problem": "1 + 1?", "answer": "2"}) + "\n")
    server = FakeChatServer(responder).start()
    try:
        out = tmp_path / "loop"
        argv = [
            "loop", "--model", str(tiny_model_dir), "--problems", str(problems),
            "--out", str(out), "--rounds", "2", "--num_samples", "2", "--max_tokens", "24",
            "--teacher", server.base_url, "--teacher_model", "scripted",
            "--device", "cpu", "--dtype", "float32", "--train_config", str(TINY_RECIPE),
            "--eval_benchmarks", f"heldout={held_out}", "--eval_max_new_tokens", "8",
            "--progress", "false",
        ]  # fmt: skip
        assert main(argv) == 0
        asked_once = dict(server.served)
        assert main(argv) == 0  # finished: nothing asked again
        assert server.served == asked_once
    finally:
        server.stop()
    summary = json.loads((out / "loop.json").read_text())
    first, second = summary["rounds"][1], summary["rounds"][2]
    assert (first["sampled_from"], first["sampler"]) == ("teacher", server.base_url)
    assert first["samples_asked"] == 8 and sum(asked_once.values()) == 8
    assert first["newly_solved"] == 3 and first["pool"] == {"expert": 0, "teacher": 3, "self": 0}
    assert (second["sampled_from"], second["unsolved_before"]) == ("self", 1)
    assert second["model_before"] == first["model_after"]
    pool = [rec for _, rec in iter_jsonl(out / "round-1" / "pool.jsonl")]
    assert {(p["source"], p["round"], p["model"], p["verifier"]) for p in pool} == {
        ("teacher", 1, server.base_url, "outcome")
    }


@pytest.mark.slow
def test_quick_task_loop_with_its_comparisons(tmp_path, capsys):
    """`srl loop --quick`: the loop on the built-in task, SRL on the expert data for as many steps
    as the loop trained, RLVR for the loop's rollouts, the reading, and the report page."""
    import math

    out = tmp_path / "quick"
    assert (
        main(["loop", "--quick", "--out", str(out), "--progress", "false", "--threads", "1"]) == 0
    )
    results = json.loads((out / "loop_results.json").read_text())
    rounds = results["rounds"]
    assert [r["round"] for r in rounds] == [0, 1, 2]
    trained = sum(1 for r in rounds[1:] if r.get("instances"))
    grpo = results["settings"]["grpo"]
    expert, rlvr = results["comparisons"]["srl_expert"], results["comparisons"]["rlvr_budget"]
    assert expert["steps"] == max(1, trained * grpo["steps"])
    budget = results["loop"]["rollouts"]["sampled"] + results["loop"]["rollouts"]["training"]
    per_step = grpo["prompts_per_step"] * grpo["num_generations"] * grpo["max_generation_rounds"]
    assert rlvr["steps"] == max(1, math.ceil(budget / per_step))
    assert rlvr["rollouts_generated"] <= budget + per_step  # at most one step's worth above
    assert rlvr["command"].startswith("srl train rlvr ")
    for name in ("srl_expert", "rlvr_budget"):
        assert 0.0 <= results["comparisons"][name]["eval"]["accuracy"] <= 1.0
    lines = results["reading"]
    assert lines[0].startswith("accuracy by round: 0: ")
    assert any(line.startswith("loop (round 2) - rlvr_budget = ") for line in lines)
    assert results["machine"]["torch_threads"] == 1
    import re

    page = (out / "report.html").read_text()
    data = re.search(
        r"<script type='application/json' id='srl-data'>(.*?)</script>", page, re.DOTALL
    )
    (loop,) = json.loads(data.group(1))["loops"]
    assert [r["round"] for r in loop["rounds"]] == [0, 1, 2]
    printed = capsys.readouterr().out
    assert "srl loop: one row per round" in printed and str(out / "report.html") in printed

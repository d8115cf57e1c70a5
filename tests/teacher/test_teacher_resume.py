"""kill -9 in the middle of a teacher run, then resume: no request lost, none asked twice."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from teacher_helpers import rewrite_responder

from srlkit.teacher.cache import ResponseCache
from srlkit.teacher.run import CACHE_FILE, TRAJECTORIES_FILE

REPO = Path(__file__).resolve().parents[2]


def _answered(cache_path: Path) -> dict[str, dict]:
    if not cache_path.exists():
        return {}
    return {e["record"]: e for e in ResponseCache(cache_path).entries.values() if "text" in e}


def _cli(server, inputs: Path, out: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "srlkit.cli.main",
        "data",
        "rewrite",
        "--inputs",
        str(inputs),
        "--out",
        str(out),
        "--teacher",
        server.base_url,
        "--teacher_model",
        "fake",
        "--concurrency",
        "4",
        "--progress",
        "false",
    ]


def test_kill_9_then_resume_loses_and_repeats_nothing(chat_server, shared_data, tmp_path):
    inputs = tmp_path / "math500_60.jsonl"
    with open(shared_data / "math500" / "test.jsonl", encoding="utf-8") as f:
        records = [json.loads(next(f)) for _ in range(60)]
    inputs.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    problem_to_id = {r["problem"].strip(): r["unique_id"] for r in records}
    server = chat_server(responder=rewrite_responder, latency_s=0.1)
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    proc = subprocess.Popen(
        _cli(server, inputs, out), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    deadline = time.time() + 120
    while len(_answered(out / CACHE_FILE)) < 12 and time.time() < deadline and proc.poll() is None:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, proc.stderr.read().decode()[-2000:]

    persisted = set(_answered(out / CACHE_FILE))
    assert 12 <= len(persisted) < 60
    arrivals_before = len(server.arrivals)

    resumed = subprocess.run(
        _cli(server, inputs, out), env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert resumed.returncode == 0, resumed.stderr[-2000:]

    def record_of(body: dict) -> str:
        content = body["messages"][-1]["content"]
        problem = content.split("PROBLEM:", 1)[1].split("ORIGINAL SOLUTION:", 1)[0].strip()
        return problem_to_id[problem]

    asked_after = [record_of(b) for b in server.arrivals[arrivals_before:]]
    assert not set(asked_after) & persisted, "a persisted answer was asked again"
    assert len(asked_after) == len(set(asked_after)), "a request was asked twice on resume"
    assert set(asked_after) | persisted == set(problem_to_id.values()), "a request was lost"

    lines = (out / CACHE_FILE).read_text().splitlines()
    keys = [json.loads(line)["key"] for line in lines]
    assert len(keys) == len(set(keys)) == 120  # 60 answers + 60 gold verdicts, each once
    trajs = [json.loads(line) for line in (out / TRAJECTORIES_FILE).read_text().splitlines()]
    assert sorted(t["metadata"]["record_id"] for t in trajs) == sorted(problem_to_id.values())
    assert "60 = kept 60 + dropped 0" in resumed.stdout

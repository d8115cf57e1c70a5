"""Benchmark: a teacher run's concurrency, and resuming a fully cached run.

What it measures, in one run:

1. Requests in flight vs a sequential loop. A localhost chat-completions server
   (:class:`srlkit.teacher.fake_server.FakeChatServer`) answers every request after a fixed
   latency (200 ms, a fast hosted model's time to a short reply). ``srl data rewrite`` on N
   MATH-500 solutions runs with ``concurrency=1`` (the obvious loop: one request after the
   other) and with ``concurrency=32``, each into a fresh output folder whose gold verdicts
   were computed beforehand (so both time only asking, measuring and persisting). The server
   runs in its own process, as a real endpoint does, so it does not compete for our GIL. Reported:
   wall time, requests/s, and the ratio (target at least 20x).
2. Resume over a fully cached run. A generate run of P synthetic problems x S samples
   (10,000 responses by default) is filled once through an in-process teacher (no HTTP);
   then the same command is run again: it reads the cache, decides every sample and writes
   the outputs, asking nothing (three times; the best is kept, as other jobs share the machine).
   Reported: responses/s of the rerun on wall and on CPU time (target at least 10,000/s), and
   its ratio to the first run.

    python benchmarks/bench_teacher.py                       # about 2-4 minutes
    python benchmarks/bench_teacher.py --requests 64 --problems 500 --samples 4   # quick
"""

from __future__ import annotations

import argparse
import json
import logging
import multiprocessing as mp
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, ClassVar

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from common import SHARED_DATA
from srlkit.teacher.config import GenerateConfig, RewriteConfig
from srlkit.teacher.fake_server import FakeChatServer
from srlkit.teacher.run import run_teacher
from srlkit.teacher.teachers import Reply

SHARED = SHARED_DATA


def _rewrite_reply(body: dict) -> str:
    original = body["messages"][-1]["content"].split("ORIGINAL SOLUTION:", 1)[1].strip()
    half = max(1, len(original) // 2)
    return f"SOLUTION:\n1. **First half** {original[:half]}\n2. **Second half** {original[half:]}"


def _serve(latency_s: float, port_queue: Any, stop: Any) -> None:
    """The server in its own process, as a real endpoint is: it must not share our GIL."""
    with FakeChatServer(_rewrite_reply, latency_s=latency_s) as server:
        port_queue.put(server.base_url)
        stop.wait()


def bench_concurrency(n_requests: int, latency_s: float, concurrency: int, tmp: Path) -> dict:
    import openai  # noqa: F401  (imported before timing: its 2 s import is not part of asking)

    inputs = tmp / "math500.jsonl"
    with open(SHARED / "math500" / "test.jsonl", encoding="utf-8") as f:
        inputs.write_text("".join(next(f) for _ in range(n_requests)), encoding="utf-8")
    results: dict[Any, Any] = {}
    ctx = mp.get_context("spawn")
    port_queue, stop = ctx.Queue(), ctx.Event()
    child = ctx.Process(target=_serve, args=(latency_s, port_queue, stop), daemon=True)
    child.start()
    try:
        base_url = port_queue.get(timeout=60)
        golds = tmp / "golds"
        base = {
            "inputs": [str(inputs)],
            "teacher": base_url,
            "teacher_model": "fake",
            "progress": False,
        }
        run_teacher(RewriteConfig(out=str(golds), golds_only=True, **base))
        for c in (1, concurrency):
            out = tmp / f"c{c}"
            shutil.copytree(golds, out)
            t0 = time.perf_counter()
            stats = run_teacher(RewriteConfig(out=str(out), concurrency=c, **base))
            wall = time.perf_counter() - t0
            assert stats["requests"]["asked"] == n_requests, stats["requests"]
            results[c] = {
                "wall_s": round(wall, 2),
                "requests_per_s": round(n_requests / wall, 1),
                "kept": stats["samples"]["kept"],
            }
    finally:
        stop.set()
        child.join(timeout=10)
    results["speedup"] = round(results[1]["wall_s"] / results[concurrency]["wall_s"], 1)
    return results


class _InstantTeacher:
    """An in-process teacher that answers at once (fills the cache without HTTP)."""

    identity: ClassVar[dict] = {}
    batched = True
    batch_size = 256

    def complete(self, requests, sampling):
        out = []
        for r in requests:
            a, b = r.messages[-1]["content"].split("What is ", 1)[1].split("?", 1)[0].split("+")
            text = (
                f"SOLUTION:\n1. **Add** ${a}+{b}={int(a) + int(b)}$\n"
                f"2. **Answer** $\\boxed{{{int(a) + int(b)}}}$ (sample {r.sample})"
            )
            out.append(Reply(text=text, prompt_tokens=40, completion_tokens=30))
        return out


def bench_resume(problems: int, samples: int, tmp: Path, repeats: int = 3) -> dict:
    inputs = tmp / "synthetic.jsonl"
    with open(inputs, "w", encoding="utf-8") as f:
        for i in range(problems):
            a, b = i, 7 * i + 3
            f.write(
                json.dumps({"id": f"q{i}", "problem": f"What is {a}+{b}?", "answer": str(a + b)})
                + "\n"
            )
    config = GenerateConfig(
        inputs=[str(inputs)],
        out=str(tmp / "resume"),
        teacher="local-model-not-loaded",
        num_samples=samples,
        progress=False,
    )
    t0 = time.perf_counter()
    first = run_teacher(config, teacher=_InstantTeacher())
    first_s = time.perf_counter() - t0
    walls, cpus = [], []
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        again = run_teacher(
            config
        )  # no teacher given: building one would fail, so nothing is asked
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
        assert again["requests"]["asked"] == 0 and again["samples"] == first["samples"]
    n = problems * samples
    wall, cpu = min(walls), min(cpus)
    return {
        "responses": n,
        "first_run_s": round(first_s, 2),
        "rerun_wall_s": round(wall, 3),
        "rerun_cpu_s": round(cpu, 3),
        "rerun_responses_per_s_wall": round(n / wall),
        "rerun_responses_per_s_cpu": round(n / cpu),
        "ratio_wall": round(first_s / wall, 1),
        "kept": again["samples"]["kept"],
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--requests", type=int, default=128)
    p.add_argument("--latency-ms", type=float, default=200.0)
    p.add_argument("--concurrency", type=int, default=32)
    p.add_argument("--problems", type=int, default=2500)
    p.add_argument("--samples", type=int, default=4)
    p.add_argument("--json", default=None)
    args = p.parse_args()
    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        conc = bench_concurrency(args.requests, args.latency_ms / 1000, args.concurrency, tmp)
        print(f"concurrency: {args.requests} requests, {args.latency_ms:.0f} ms latency")
        for c in (1, args.concurrency):
            print(
                f"  concurrency {c:>3}: {conc[c]['wall_s']:>7.2f} s  {conc[c]['requests_per_s']:>7.1f} req/s"
            )
        print(f"  speedup: {conc['speedup']}x")
        resume = bench_resume(args.problems, args.samples, tmp)
        print(
            f"resume: {resume['responses']} cached responses: first run {resume['first_run_s']} s; "
            f"rerun (best of 3) {resume['rerun_wall_s']} s wall = {resume['rerun_responses_per_s_wall']}/s, "
            f"{resume['rerun_cpu_s']} s CPU = {resume['rerun_responses_per_s_cpu']}/s "
            f"({resume['ratio_wall']}x faster than the first run)"
        )
    if args.json:
        Path(args.json).write_text(json.dumps({"concurrency": conc, "resume": resume}, indent=2))


if __name__ == "__main__":
    main()

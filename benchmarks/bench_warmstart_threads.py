"""The student's warm start (`srl train sft`) at 1 and 2 torch threads, idle and under contention.

Why: a user's laptop is never idle. On two cores a two-thread torch job shares both with anything
else running, and OpenMP's threads wait for each other at every parallel region, so one busy
neighbour can slow it far more than it slows a one-thread job. This script measures seconds per
warm-start step for each thread count, with the machine as it is and with one busy neighbour
process (a pure-Python loop), and prints the ratios, so `srl demo --threads` can be chosen by
measurement. Each case is a fresh tiny student trained for ``--steps`` steps on the real
warm-start data; the first ``--skip`` steps (tokenisation, warm-up) are not timed.

    .venv/bin/python benchmarks/bench_warmstart_threads.py --steps 40
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CASE = """
import json, sys, time, torch
torch.set_num_threads(int(sys.argv[2]))
from pathlib import Path
from transformers import TrainerCallback
from srlkit.demo import student as s
from srlkit.demo.tasks import EASY, HARD, generate_problems
from srlkit.io import write_jsonl
from srlkit.models.tiny import build_tiny_model
from srlkit.training.config import parse_method_args
from srlkit.training.runner import run

out, steps = Path(sys.argv[1]), int(sys.argv[3])
config = s.StudentConfig(sft_steps=steps)
easy = generate_problems(EASY, steps * config.warm_start.batch_size, seed=0, prefix="easy")
words = easy[:300] + generate_problems(HARD, 100, seed=1, prefix="words")
build_tiny_model(out / "model", s.tokenizer_corpus(words), config.model)
write_jsonl(out / "data.jsonl", s.warmstart_records(easy, config.solve_fraction, 0))
stamps = []

class Clock(TrainerCallback):
    def on_step_end(self, args, state, control, **kwargs):
        stamps.append(time.perf_counter())

argv = s.warm_start_argv(config, out / "model", out / "data.jsonl") + ["--disable_tqdm", "true"]
run(parse_method_args("sft", argv), callbacks=[Clock()])
print(json.dumps(stamps))
"""


def busy() -> None:
    """A neighbour that keeps one core busy (until terminated)."""
    x = 0
    while True:
        x = (x * 31 + 7) % 1_000_003


def measure(threads: int, steps: int, skip: int, contended: bool) -> float:
    """Seconds per warm-start step (median over steps after ``skip``)."""
    neighbour = None
    if contended:
        neighbour = multiprocessing.Process(target=busy, daemon=True)
        neighbour.start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            done = subprocess.run(
                [sys.executable, "-c", CASE, tmp, str(threads), str(steps)],
                capture_output=True,
                text=True,
                check=True,
            )
        stamps = json.loads(done.stdout.strip().splitlines()[-1])
    finally:
        if neighbour is not None:
            neighbour.terminate()
    gaps = sorted(b - a for a, b in zip(stamps[skip:], stamps[skip + 1 :], strict=False))
    return gaps[len(gaps) // 2]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--skip", type=int, default=5)
    parser.add_argument("--out", type=Path, default=None, help="write the numbers as JSON here")
    args = parser.parse_args()
    results = {}
    for contended in (False, True):
        for threads in (1, 2):
            key = f"{threads} thread{'s' if threads > 1 else ''}, {'one busy neighbour' if contended else 'as is'}"
            start = time.monotonic()
            results[key] = measure(threads, args.steps, args.skip, contended)
            print(f"{key}: {results[key]:.3f} s/step ({time.monotonic() - start:.0f} s)")
    keys = list(results)
    print(f"as is: 2 threads / 1 thread = {results[keys[1]] / results[keys[0]]:.2f}x time per step")
    print(f"busy:  2 threads / 1 thread = {results[keys[3]] / results[keys[2]]:.2f}x time per step")
    if args.out:
        args.out.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

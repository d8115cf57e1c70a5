"""Cost of the rollout log (``rollouts.jsonl``) against logging off, in the same run of this script.

Two ``SRLGRPOTrainer`` runs on the same SRL step task (GSM8K questions, first solution line as
the expert step; rewards ``srl_step`` plus the format-free step similarity, so groups have a
spread and one round fills each step), same weights and seed, alternate in rotating order:

* ``log_off``: ``rollout_log_groups=0``;
* ``log_on``: the default, 4 groups with all their rollouts written every step.

Three numbers are reported:

1. median step time (CPU seconds of this process, one torch thread; wall seconds beside it),
   as a ratio ``log_on / log_off``;
2. the direct measure, immune to machine load: the seconds spent inside the rollout log
   (``RolloutLog.seconds``: collecting references during generation, then parsing,
   canonicalising and writing the sampled groups once per step) as a share of step time;
3. because the tiny model's rollouts rarely pass the format check (so nothing is compared),
   the cost of building one *well-formed* record (:func:`rollout_entry`: parse, compare
   strings, JSON) for steps of realistic lengths, scaled to a logged step of 4 groups x 8.

    .venv/bin/python benchmarks/bench_rollout_log.py --steps 12 --repeats 4
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch
from transformers import PrinterCallback

sys.path.insert(0, str(Path(__file__).parent))
from bench_grpo_overhead import StepClock, load_step_task, step_reward
from common import add_data_dir_argument, cpu_grpo_fields
from srlkit.models.tiny import TinyModelConfig, build_tiny_model
from srlkit.rewards.srl import make_srl_step_reward
from srlkit.training.grpo import SRLGRPOConfig, SRLGRPOTrainer
from srlkit.training.rollout_log import MatchSettings, rollout_entry


def run_one(name: str, model_dir: Path, data, opts: argparse.Namespace, out: Path) -> dict:
    fields = cpu_grpo_fields(
        opts.batch_rows, opts.num_generations, opts.max_completion_length, opts.steps
    )
    args = SRLGRPOConfig(
        str(out / name),
        dynamic_sampling_epsilon=0.0,
        rollout_log_groups=0 if name == "log_off" else opts.groups,
        **fields,
    )
    # srl_step (strict format, as in real runs) plus the format-free step similarity, so that
    # groups have a spread and one generation round per step, as in a healthy run
    rewards = [make_srl_step_reward(), step_reward]
    trainer = SRLGRPOTrainer(
        model=str(model_dir), reward_funcs=rewards, args=args, train_dataset=data
    )
    trainer.remove_callback(PrinterCallback)
    clock = StepClock()
    trainer.add_callback(clock)
    trainer.train()
    log = getattr(trainer, "_rollout_log", None)
    result = {"cpu": clock.cpu[1:], "wall": clock.wall[1:]}
    if log is not None:
        result["log_ms_per_step"] = 1000 * log.seconds / opts.steps
        result["log_share_of_step"] = log.seconds / sum(clock.wall)
        result["bytes_per_step"] = log.path.stat().st_size / opts.steps
    return result


def record_cost(target_chars: int, repeats: int = 200) -> float:
    """Seconds to build one well-formed rollout record for a step of ``target_chars``."""
    target = ("Multiply 12 boxes by 4 pencils: 12 * 4 = 48. " * 200)[:target_chars]
    completion = "<think>" + "reason " * 40 + "</think>" + target[::-1][:target_chars]
    row = {"target": target, "kind": "math"}
    start = time.perf_counter()
    for _ in range(repeats):
        json.dumps(rollout_entry(completion, row, {"srl_step": 0.5}, 0.5, MatchSettings(), 4000))
    return (time.perf_counter() - start) / repeats


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_data_dir_argument(parser)
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch-rows", type=int, default=32, help="rollouts per step")
    parser.add_argument("--num-generations", type=int, default=8)
    parser.add_argument("--max-completion-length", type=int, default=16)
    parser.add_argument("--groups", type=int, default=4, help="rollout_log_groups for log_on")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--output", type=Path, default=None)
    opts = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    torch.set_num_threads(opts.threads)
    data, corpus = load_step_task(opts.data_dir, n=64)
    names = ["log_off", "log_on"]
    pooled: dict[str, dict] = {n: {"cpu": [], "wall": []} for n in names}
    with tempfile.TemporaryDirectory() as tmp:
        model_dir = build_tiny_model(
            Path(tmp) / "model",
            corpus,
            TinyModelConfig(hidden_size=64, intermediate_size=192, num_hidden_layers=2),
        )
        for repeat in range(opts.repeats):
            for name in names if repeat % 2 == 0 else names[::-1]:
                result = run_one(name, model_dir, data, opts, Path(tmp) / f"r{repeat}")
                for key, value in result.items():
                    pooled[name].setdefault(key, [])
                    pooled[name][key] += value if isinstance(value, list) else [value]
    on = pooled["log_on"]
    report = {
        "settings": {k: str(v) for k, v in vars(opts).items()},
        "median_cpu_s": {n: statistics.median(pooled[n]["cpu"]) for n in names},
        "median_wall_s": {n: statistics.median(pooled[n]["wall"]) for n in names},
        "log_ms_per_step": statistics.mean(on["log_ms_per_step"]),
        "log_share_of_step": statistics.mean(on["log_share_of_step"]),
        "bytes_per_step": statistics.mean(on["bytes_per_step"]),
        "steps_measured": len(on["cpu"]),
    }
    report["cpu_ratio"] = report["median_cpu_s"]["log_on"] / report["median_cpu_s"]["log_off"]
    report["wall_ratio"] = report["median_wall_s"]["log_on"] / report["median_wall_s"]["log_off"]
    per_step = opts.groups * opts.num_generations
    report["well_formed_record_ms"] = {str(n): 1000 * record_cost(n) for n in (100, 1000, 4000)}
    report["well_formed_step_ms"] = {
        n: ms * per_step for n, ms in report["well_formed_record_ms"].items()
    }
    print(json.dumps(report, indent=2))
    if opts.output:
        opts.output.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()

"""Refill rounds sized from the keep rate (``refill_size: adaptive``) against full-size rounds.

Two measurements, both comparing ``refill_size="full"`` (every refill round has the batch's B
prompts, verl DAPO's rule) with ``"adaptive"`` (a refill round has ceil(missing / keep rate)
prompts, the last allowed round full):

* ``--simulate``: the refill loop itself (:func:`srlkit.training.dynamic_sampling.fill_batch`)
  driven by random keep masks, each group kept with probability ``--keep-rate``, at the paper's
  batch of B = 512 prompts and at small B. No model: it counts rollouts generated per rollout
  kept, rounds per step and how often a step ran out of rounds, over many simulated steps.
* training (the default): SRLGRPOTrainer on the tiny local model (``srlkit.models.tiny``), GSM8K
  first steps as targets with the SRL step reward; a fraction of the prompts is "mastered"
  (constant reward, no learning signal) so that about ``--keep-rate`` of the groups are kept.
  Both settings run from the same weights and seed, alternating, and report rollouts per kept
  rollout, rounds per step and the median step time (CPU seconds of this process and wall).

    .venv/bin/python benchmarks/bench_refill.py --simulate
    .venv/bin/python benchmarks/bench_refill.py --data-dir ../shared/data
"""

from __future__ import annotations

import argparse
import logging
import random
import statistics
import sys
import tempfile
from pathlib import Path

import torch
from datasets import Dataset
from transformers import PrinterCallback

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_grpo_overhead import StepClock, load_step_task, step_reward
from common import add_data_dir_argument, cpu_grpo_fields
from srlkit.io import write_json
from srlkit.models.tiny import TinyModelConfig, build_tiny_model
from srlkit.training.dynamic_sampling import fill_batch
from srlkit.training.grpo import SRLGRPOConfig, SRLGRPOTrainer

MODES = ("full", "adaptive")


def simulate(keep_rate: float, batch_groups: int, max_rounds: int, steps: int, seed: int) -> dict:
    """Mean rollouts per kept rollout, rounds per step and short steps of one refill mode each."""
    out = {}
    for mode in MODES:
        rng = random.Random(seed)  # same random stream for both modes
        per_kept, rounds, short = [], [], 0

        def keeps(round_index: int, n: int, rng: random.Random = rng) -> list[bool]:
            return [rng.random() < keep_rate for _ in range(n)]

        for _ in range(steps):
            plan = fill_batch(
                keeps,
                batch_groups,
                max_rounds,
                refill_size=mode,
            )
            per_kept.append(plan.groups_generated / max(len(plan.selected), 1))
            rounds.append(plan.rounds)
            short += plan.exhausted
        out[mode] = {
            "rollouts_per_kept_rollout": statistics.mean(per_kept),
            "rounds_per_step": statistics.mean(rounds),
            "short_steps": short / steps,
        }
    return out


def mastered_reward(completions, target, mastered, **kwargs):
    """SRL step reward; prompts flagged ``mastered`` earn a flat 0.5 (their group is dropped)."""
    rewards = step_reward(completions, target)
    return [0.5 if m else r for r, m in zip(rewards, mastered)]


def flag_mastered(data: Dataset, keep_rate: float, seed: int) -> Dataset:
    """Mark about 1 - keep_rate of the prompts as mastered (fixed by ``seed``)."""
    rng = random.Random(seed)
    return data.remove_columns("mastered").add_column(
        "mastered", [rng.random() >= keep_rate for _ in range(len(data))]
    )


def train_one(mode: str, model_dir: Path, data: Dataset, opts, out_dir: Path) -> dict:
    fields = cpu_grpo_fields(
        opts.batch_groups * opts.num_generations,
        opts.num_generations,
        opts.max_completion_length,
        opts.steps,
    )
    args = SRLGRPOConfig(
        str(out_dir / mode), max_generation_rounds=opts.max_rounds, refill_size=mode, **fields
    )
    trainer = SRLGRPOTrainer(
        model=str(model_dir), reward_funcs=mastered_reward, args=args, train_dataset=data
    )
    trainer.remove_callback(PrinterCallback)
    clock = StepClock()
    trainer.add_callback(clock)
    trainer.train()
    logs = [h for h in trainer.state.log_history if "dynamic_sampling/generation_rounds" in h]

    def mean(key):
        return statistics.mean(h[f"dynamic_sampling/{key}"] for h in logs)

    return {
        "cpu": clock.cpu[1:],
        "wall": clock.wall[1:],
        "rollouts_per_kept_rollout": mean("rollouts_per_kept_rollout"),
        "kept_fraction": mean("kept_fraction"),
        "rounds_per_step": mean("generation_rounds"),
        "batch_filled_fraction": mean("batch_filled_fraction"),
    }


def run_training(opts) -> dict:
    data, corpus = load_step_task(opts.data_dir, n=256)
    data = flag_mastered(data, opts.keep_rate, seed=1)
    pooled: dict[str, dict] = {m: {"cpu": [], "wall": []} for m in MODES}
    with tempfile.TemporaryDirectory() as tmp:
        width = TinyModelConfig(
            hidden_size=opts.hidden_size,
            intermediate_size=3 * opts.hidden_size,
            num_hidden_layers=opts.layers,
        )
        model_dir = build_tiny_model(Path(tmp) / "model", corpus, width)
        for repeat in range(opts.repeats):
            for mode in MODES if repeat % 2 == 0 else MODES[::-1]:
                result = train_one(mode, model_dir, data, opts, Path(tmp) / f"r{repeat}")
                for key, value in result.items():
                    if isinstance(value, list):
                        pooled[mode][key] += value
                    else:
                        pooled[mode].setdefault(key, []).append(value)
    report = {}
    for mode in MODES:
        report[mode] = {
            "median_cpu_s": statistics.median(pooled[mode]["cpu"]),
            "median_wall_s": statistics.median(pooled[mode]["wall"]),
            "steps_measured": len(pooled[mode]["cpu"]),
            **{k: statistics.mean(v) for k, v in pooled[mode].items() if k not in ("cpu", "wall")},
        }
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_data_dir_argument(parser)
    parser.add_argument("--simulate", action="store_true", help="the refill loop alone, no model")
    parser.add_argument("--keep-rate", type=float, default=0.62, help="fraction of groups kept")
    parser.add_argument("--batch-groups", type=int, default=8, help="prompts per step (B)")
    parser.add_argument("--num-generations", type=int, default=8)
    parser.add_argument("--max-rounds", type=int, default=5, help="max_generation_rounds")
    parser.add_argument("--steps", type=int, default=8, help="optimizer steps per training run")
    parser.add_argument("--repeats", type=int, default=3, help="alternating runs of each mode")
    parser.add_argument("--sim-steps", type=int, default=2000, help="simulated steps per mode")
    parser.add_argument("--max-completion-length", type=int, default=16)
    parser.add_argument("--hidden-size", type=int, default=64)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--output", type=Path, default=None, help="write the results as JSON here")
    opts = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    torch.set_num_threads(opts.threads)

    if opts.simulate:
        report = {}
        print(f"{'B':>5} {'mode':<9} {'rollouts/kept':>13} {'rounds/step':>11} {'short steps':>11}")
        for b in sorted({opts.batch_groups, 512}):
            report[b] = simulate(opts.keep_rate, b, opts.max_rounds, opts.sim_steps, seed=0)
            for mode, r in report[b].items():
                print(
                    f"{b:>5} {mode:<9} {r['rollouts_per_kept_rollout']:>13.3f} "
                    f"{r['rounds_per_step']:>11.2f} {r['short_steps']:>11.3%}"
                )
    else:
        report = run_training(opts)
        base = report["full"]
        print(
            f"{'mode':<9} {'rollouts/kept':>13} {'kept frac':>9} {'rounds':>6} {'filled':>6} "
            f"{'cpu s/step':>10} {'cpu ratio':>9} {'wall s/step':>11} {'wall ratio':>10}"
        )
        for mode, r in report.items():
            print(
                f"{mode:<9} {r['rollouts_per_kept_rollout']:>13.3f} {r['kept_fraction']:>9.3f} "
                f"{r['rounds_per_step']:>6.2f} {r['batch_filled_fraction']:>6.3f} "
                f"{r['median_cpu_s']:>10.3f} {r['median_cpu_s'] / base['median_cpu_s']:>9.3f} "
                f"{r['median_wall_s']:>11.3f} {r['median_wall_s'] / base['median_wall_s']:>10.3f}"
            )
    if opts.output:
        write_json(
            opts.output,
            {
                "settings": {k: str(v) for k, v in vars(opts).items()},
                **{str(k): v for k, v in report.items()},
            },
        )


if __name__ == "__main__":
    main()

"""SRL step time with SRLGRPOTrainer against a plain TRL GRPOTrainer: same model, batch, lengths.

Three trainers run the same SRL step task (GSM8K questions, the first solution line as the
expert step, the SRL step reward) from the same initial weights and seed:

* ``plain``: ``trl.GRPOTrainer`` with ``GRPOConfig`` (the baseline);
* ``ds_off``: ``SRLGRPOTrainer`` with ``dynamic_sampling=False``;
* ``ds_on``: ``SRLGRPOTrainer`` with dynamic sampling on and ``dynamic_sampling_epsilon=0``, so
  only groups whose rewards are exactly equal would be dropped (the kept fraction is reported:
  1.0 means nothing was filtered and the comparison is like for like).

Runs alternate (plain, ds_off, ds_on, plain, ...) so that load from other work on the machine
hits all of them alike. Each optimizer step (generation, rewards, update) is timed in CPU
seconds of this process (one torch thread) and in wall seconds; the steps after the first of
each run are pooled and the medians compared as ratios to ``plain``. CPU time is the measure
to read on a shared machine; wall time is printed beside it.

A fourth trainer, ``ds_filter``, shows filtering at work: half of the prompts are made
"mastered" (their reward is a constant 0.5, as for a step the policy already reproduces), the
default epsilon 0.01 applies, and up to ``--max-rounds`` rounds refill the batch. It reports the
rollouts generated per rollout kept and its step time against ``plain``.

    .venv/bin/python benchmarks/bench_grpo_overhead.py --data-dir ../shared/data
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import tempfile
import time
from pathlib import Path

import torch
from datasets import Dataset
from transformers import PrinterCallback, TrainerCallback
from trl import GRPOConfig, GRPOTrainer

from common import add_data_dir_argument, cpu_grpo_fields
from srlkit.data.schema import COL_PROMPT, COL_TARGET
from srlkit.io import write_json
from srlkit.models.tiny import TinyModelConfig, build_tiny_model
from srlkit.rewards.srl import srl_step_reward
from srlkit.training.grpo import SRLGRPOConfig, SRLGRPOTrainer

logger = logging.getLogger("bench_grpo_overhead")


def load_step_task(data_dir: Path, n: int) -> tuple[Dataset, list[str]]:
    """GSM8K questions with their first solution line as the expert's next step; plus a corpus."""
    prompts, targets, corpus = [], [], []
    with open(data_dir / "gsm8k" / "train.jsonl", encoding="utf-8") as f:
        for i, line in enumerate(f):
            rec = json.loads(line)
            if i < 1500:
                corpus += [rec["question"], rec["answer"]]
            if i < n:
                prompts.append(
                    [{"role": "user", "content": rec["question"] + "\nWrite the first step."}]
                )
                targets.append(rec["answer"].splitlines()[0])
    mastered = [i % 2 == 1 for i in range(len(prompts))]
    data = Dataset.from_dict({COL_PROMPT: prompts, COL_TARGET: targets, "mastered": mastered})
    return data, corpus + ["<think>", "</think>"]


def step_reward(completions, target, mastered=None, **kwargs):
    """SRL step reward of the completion taken as the action (no thinking in the tiny template)."""
    texts = [c[0]["content"] if isinstance(c, list) else c for c in completions]
    return srl_step_reward(["<think></think>" + t for t in texts], target)


def mastered_mix_reward(completions, target, mastered, **kwargs):
    """As ``step_reward``, but prompts flagged ``mastered`` earn a flat 0.5 (no learning signal)."""
    rewards = step_reward(completions, target)
    return [0.5 if m else r for r, m in zip(rewards, mastered)]


class StepClock(TrainerCallback):
    """Wall and CPU time of each optimizer step (generation, rewards, update).

    CPU time of this process is the primary measure: on a machine shared with other work, wall
    time mostly measures the neighbours, while the process's own CPU seconds (one torch thread)
    measure the work it did.
    """

    def __init__(self):
        self.wall: list[float] = []
        self.cpu: list[float] = []

    def on_step_begin(self, args, state, control, **kwargs):
        self._wall, self._cpu = time.perf_counter(), time.process_time()

    def on_step_end(self, args, state, control, **kwargs):
        self.wall.append(time.perf_counter() - self._wall)
        self.cpu.append(time.process_time() - self._cpu)


class TimedSRLGRPOTrainer(SRLGRPOTrainer):
    """SRLGRPOTrainer that adds up the time spent in its own dynamic-sampling code.

    A direct measure of the overhead, immune to machine load: keep-mask computation, metric
    logging and (when groups were dropped) batch assembly; generation is TRL's and not counted.
    """

    own_seconds = 0.0

    def _timed(self, method, *args):
        start = time.perf_counter()
        try:
            return method(*args)
        finally:
            self.own_seconds += time.perf_counter() - start

    def _keep_mask(self, rewards_per_func):
        return self._timed(super()._keep_mask, rewards_per_func)

    def _log_plan(self, plan):
        return self._timed(super()._log_plan, plan)

    def _assemble(self, plan, rounds):
        return self._timed(super()._assemble, plan, rounds)


def run_one(
    name: str, model_dir: Path, data: Dataset, opts: argparse.Namespace, out_dir: Path
) -> dict:
    common = cpu_grpo_fields(
        opts.batch_rows, opts.num_generations, opts.max_completion_length, opts.steps
    )
    reward = step_reward
    if name == "plain":
        args, trainer_cls = GRPOConfig(str(out_dir / name), **common), GRPOTrainer
    elif name == "ds_off":
        args, trainer_cls = (
            SRLGRPOConfig(str(out_dir / name), dynamic_sampling=False, **common),
            SRLGRPOTrainer,
        )
    elif name == "ds_on":
        args = SRLGRPOConfig(str(out_dir / name), dynamic_sampling_epsilon=0.0, **common)
        trainer_cls = TimedSRLGRPOTrainer
    else:  # ds_filter
        args = SRLGRPOConfig(str(out_dir / name), max_generation_rounds=opts.max_rounds, **common)
        trainer_cls, reward = TimedSRLGRPOTrainer, mastered_mix_reward
    trainer = trainer_cls(model=str(model_dir), reward_funcs=reward, args=args, train_dataset=data)
    trainer.remove_callback(PrinterCallback)  # keep the output to the summary table
    clock = StepClock()
    trainer.add_callback(clock)
    trainer.train()
    logs = [h for h in trainer.state.log_history if "step_time" in h]
    result = {"cpu": clock.cpu[1:], "wall": clock.wall[1:]}  # the first step warms caches up
    result["rewards"] = [
        round(h["reward"], 6) for h in logs
    ]  # to check that runs did the same work
    if isinstance(trainer, TimedSRLGRPOTrainer):
        result["own_ms_per_step"] = 1000 * trainer.own_seconds / opts.steps
        result["own_share_of_step"] = trainer.own_seconds / sum(clock.wall)
    for key in (
        "kept_fraction",
        "rollouts_per_kept_rollout",
        "generation_rounds",
        "batch_filled_fraction",
    ):
        values = [
            h[f"dynamic_sampling/{key}"]
            for h in logs
            if h.get(f"dynamic_sampling/{key}") is not None
        ]
        if values:
            result[key] = statistics.mean(values)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_data_dir_argument(parser)
    parser.add_argument("--steps", type=int, default=8, help="optimizer steps per run")
    parser.add_argument("--repeats", type=int, default=3, help="alternating runs of each trainer")
    parser.add_argument(
        "--batch-rows", type=int, default=16, help="per_device_train_batch_size (rollouts)"
    )
    parser.add_argument("--num-generations", type=int, default=8)
    parser.add_argument("--max-completion-length", type=int, default=16)
    parser.add_argument(
        "--max-rounds", type=int, default=4, help="max_generation_rounds for ds_filter"
    )
    parser.add_argument("--hidden-size", type=int, default=64, help="tiny model width")
    parser.add_argument("--layers", type=int, default=2, help="tiny model depth")
    parser.add_argument(
        "--threads", type=int, default=1, help="torch CPU threads (1 = least noise)"
    )
    parser.add_argument("--output", type=Path, default=None, help="write the results as JSON here")
    opts = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    torch.set_num_threads(opts.threads)

    data, corpus = load_step_task(opts.data_dir, n=64)
    names = ["plain", "ds_off", "ds_on", "ds_filter"]
    pooled: dict[str, dict] = {n: {"cpu": [], "wall": []} for n in names}
    with tempfile.TemporaryDirectory() as tmp:
        tmp_dir = Path(tmp)
        width = TinyModelConfig(
            hidden_size=opts.hidden_size,
            intermediate_size=3 * opts.hidden_size,
            num_hidden_layers=opts.layers,
        )
        model_dir = build_tiny_model(tmp_dir / "model", corpus, width)
        same_work = True
        for repeat in range(opts.repeats):
            rewards = {}
            for name in (
                names[repeat % len(names) :] + names[: repeat % len(names)]
            ):  # rotate the order
                result = run_one(name, model_dir, data, opts, tmp_dir / f"r{repeat}")
                pooled[name]["cpu"] += result.pop("cpu")
                pooled[name]["wall"] += result.pop("wall")
                rewards[name] = result.pop("rewards")
                for key, value in result.items():
                    pooled[name].setdefault(key, []).append(value)
            same_work &= rewards["plain"] == rewards["ds_off"] == rewards["ds_on"]

    base_cpu = statistics.median(pooled["plain"]["cpu"])
    base_wall = statistics.median(pooled["plain"]["wall"])
    report = {
        "settings": {k: str(v) for k, v in vars(opts).items()},
        "same_work": same_work,
        "trainers": {},
    }
    print(f"plain, ds_off and ds_on generated identical rollouts and rewards: {same_work}")
    print(
        f"{'trainer':<10} {'cpu s/step':>10} {'cpu ratio':>9} {'wall s/step':>11} {'wall ratio':>10}  extra"
    )
    for name in names:
        cpu, wall = statistics.median(pooled[name]["cpu"]), statistics.median(pooled[name]["wall"])
        extra = {
            k: float(f"{statistics.mean(v):.4g}")
            for k, v in pooled[name].items()
            if k not in ("cpu", "wall")
        }
        report["trainers"][name] = {
            "median_cpu_s": cpu,
            "cpu_ratio_to_plain": cpu / base_cpu,
            "median_wall_s": wall,
            "wall_ratio_to_plain": wall / base_wall,
            "steps_measured": len(pooled[name]["cpu"]),
            **extra,
        }
        print(
            f"{name:<10} {cpu:>10.3f} {cpu / base_cpu:>9.3f} {wall:>11.3f} {wall / base_wall:>10.3f}  {extra}"
        )
    if opts.output:
        write_json(opts.output, report)


if __name__ == "__main__":
    main()

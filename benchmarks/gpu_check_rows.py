"""The rows of ``gpu_check.py``: each runs in its own process and returns one result dict.

A row is one measurement on the locally built model (see :mod:`srlkit.models.shapes`):
GRPO steps with plain TRL or srlkit's trainer, with HF or vLLM generation, with full or
adaptive refill, or ``srl eval`` throughput with the HF or vLLM backend. Each row reports the
median step time over the steps after the first (or samples per second), what dynamic
sampling did, and the peak GPU memory torch allocated.
"""

from __future__ import annotations

import importlib.util
import json
import random
import statistics
import time
from pathlib import Path
from typing import Any

import torch
from datasets import Dataset
from transformers import PrinterCallback, TrainerCallback
from trl import GRPOConfig, GRPOTrainer

from srlkit.data.instances import InstanceOptions, build_instances
from srlkit.data.loaders import load_trajectories
from srlkit.rewards.srl import srl_step_reward
from srlkit.training.grpo import SRLGRPOConfig, SRLGRPOTrainer

GRPO_ROWS = {
    # name: (trainer, generation, refill_size or None = nothing filtered)
    "grpo_plain_hf": ("plain", "hf", None),
    "grpo_srl_hf": ("srl", "hf", None),
    "grpo_plain_vllm": ("plain", "vllm", None),
    "grpo_srl_vllm": ("srl", "vllm", None),
    "refill_full_hf": ("srl", "hf", "full"),
    "refill_adaptive_hf": ("srl", "hf", "adaptive"),
}
EVAL_ROWS = {"eval_hf": "hf", "eval_vllm": "vllm"}
ROWS = (*GRPO_ROWS, *EVAL_ROWS)
MASTERED_FRACTION = 0.38  # refill rows: about 62% of groups kept, the keep rate the issue saw


def vllm_available() -> bool:
    return importlib.util.find_spec("vllm") is not None and torch.cuda.is_available()


def needs_vllm(row: str) -> bool:
    return GRPO_ROWS.get(row, (None, None))[1] == "vllm" or EVAL_ROWS.get(row) == "vllm"


def step_instances(data_dir: Path, n: int, seed: int = 0) -> Dataset:
    """SRL step instances from real GSM8K solutions (srlkit's own loader and builder)."""
    trajectories = load_trajectories(data_dir / "gsm8k" / "train.jsonl")[: max(n // 3, 8)]
    instances = [i for t in trajectories for i in build_instances(t, InstanceOptions())][:n]
    rng = random.Random(seed)
    return Dataset.from_list(
        [
            {
                "prompt": i.prompt,
                "target": i.target,
                "kind": i.kind,
                "mastered": rng.random() < MASTERED_FRACTION,
            }
            for i in instances
        ]
    )


def step_reward(completions, target, kind=None, **kwargs):
    """The SRL step reward of the whole completion taken as the step: a random model never
    writes a think block, so one is put in front (as in bench_grpo_overhead.py) and the
    similarity to the expert step decides; rewards then spread and nothing is filtered."""
    texts = [c[0]["content"] if isinstance(c, list) else c for c in completions]
    return srl_step_reward(["<think></think>" + t for t in texts], target, kind=kind)


def mastered_reward(completions, target, mastered, kind=None, **kwargs):
    """As ``step_reward``, but mastered prompts earn a flat 0.5 (their group is dropped)."""
    rewards = step_reward(completions, target, kind)
    return [0.5 if m else r for r, m in zip(rewards, mastered)]


class StepClock(TrainerCallback):
    """Wall time of every optimizer step, synchronised with the GPU."""

    def __init__(self):
        self.seconds: list[float] = []

    def _sync(self):
        if torch.cuda.is_available():
            torch.cuda.synchronize()

    def on_step_begin(self, args, state, control, **kwargs):
        self._sync()
        self._start = time.perf_counter()

    def on_step_end(self, args, state, control, **kwargs):
        self._sync()
        self.seconds.append(time.perf_counter() - self._start)


def _grpo_args(name: str, opts: Any, out: Path, generation: str, refill: str | None):
    cuda = torch.cuda.is_available()
    common: dict[str, Any] = {
        "output_dir": str(out / name),
        "use_cpu": not cuda,
        "bf16": cuda,
        "per_device_train_batch_size": opts.batch_prompts * opts.num_generations,
        "num_generations": opts.num_generations,
        "max_completion_length": opts.max_completion_length,
        "max_steps": opts.steps,
        "learning_rate": 1e-6,
        "logging_steps": 1,
        "report_to": [],
        "save_strategy": "no",
        "disable_tqdm": True,
        "seed": 0,
        "model_init_kwargs": {"dtype": "bfloat16" if cuda else "float32"},
    }
    if generation == "vllm":
        common.update(
            use_vllm=True,
            vllm_mode="colocate",
            vllm_gpu_memory_utilization=opts.vllm_memory,
            vllm_max_model_length=opts.max_model_len,
        )
    if GRPO_ROWS[name][0] == "plain":
        return GRPOConfig(**common)
    if refill is None:  # dynamic sampling on, epsilon 0: only exactly flat groups would go
        return SRLGRPOConfig(dynamic_sampling_epsilon=0.0, **common)
    return SRLGRPOConfig(max_generation_rounds=opts.max_rounds, refill_size=refill, **common)


def run_grpo_row(name: str, opts: Any, model_dir: Path, data: Dataset, out: Path) -> dict:
    kind, generation, refill = GRPO_ROWS[name]
    if generation == "vllm" and not vllm_available():
        return {"status": "skipped", "note": "vLLM not importable (or no GPU)"}
    args = _grpo_args(name, opts, out, generation, refill)
    trainer_cls = GRPOTrainer if kind == "plain" else SRLGRPOTrainer
    reward = mastered_reward if refill else step_reward
    trainer = trainer_cls(model=str(model_dir), reward_funcs=reward, args=args, train_dataset=data)
    trainer.remove_callback(PrinterCallback)
    clock = StepClock()
    trainer.add_callback(clock)
    trainer.train()
    logs = [h for h in trainer.state.log_history if "reward" in h]
    result = {
        "status": "ok",
        "steps_measured": len(clock.seconds) - 1,
        "median_step_s": statistics.median(clock.seconds[1:] or clock.seconds),
        "reward_mean": statistics.fmean(h["reward"] for h in logs) if logs else None,
    }
    for key in ("kept_fraction", "rollouts_per_kept_rollout", "generation_rounds"):
        # TRL logs a NaN (nothing kept in a step) as None
        values = [h.get(f"dynamic_sampling/{key}") for h in logs]
        values = [v for v in values if v is not None]
        if values:
            result[key] = statistics.fmean(values)
    return result


def run_eval_row(name: str, opts: Any, model_dir: Path, out: Path) -> dict:
    from srlkit.evaluation.runner import EvalConfig, run_evaluation

    backend = EVAL_ROWS[name]
    if backend == "vllm" and not vllm_available():
        return {"status": "skipped", "note": "vLLM not importable (or no GPU)"}
    cuda = torch.cuda.is_available()
    config = EvalConfig(
        model=str(model_dir),
        out_dir=str(out / name),
        benchmarks=["math500"],
        data_dir=str(opts.data_dir),
        k=opts.eval_k,
        greedy=True,
        temperature=1.0,
        max_new_tokens=opts.max_completion_length,
        limit=opts.eval_problems,
        backend=backend,
        batch_size=opts.eval_batch_size,
        dtype="bfloat16" if cuda else "float32",
        device="cuda" if cuda else "cpu",
        gpu_memory_utilization=opts.vllm_memory,
        max_model_len=opts.max_model_len,
    )
    start = time.perf_counter()
    summary = run_evaluation(config)
    seconds = time.perf_counter() - start
    samples = opts.eval_problems * (opts.eval_k + 1)
    return {
        "status": "ok",
        "samples": samples,
        "seconds": seconds,
        "samples_per_s": samples / seconds,
        "summary_keys": sorted(summary)[:3],
    }


def run_row(name: str, opts: Any, model_dir: Path, work: Path) -> dict:
    """One row, with the peak GPU memory torch allocated while it ran."""
    if torch.cuda.is_available():
        torch.cuda.reset_peak_memory_stats()
    if name in GRPO_ROWS:
        data = step_instances(opts.data_dir, opts.num_prompts)
        result = run_grpo_row(name, opts, model_dir, data, work)
    elif name in EVAL_ROWS:
        result = run_eval_row(name, opts, model_dir, work)
    else:
        raise ValueError(f"unknown row {name!r}; expected one of {ROWS}")
    if torch.cuda.is_available():
        result["peak_gib"] = torch.cuda.max_memory_allocated() / 2**30
    return json.loads(json.dumps(result))  # plain JSON values only

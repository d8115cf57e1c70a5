"""Evaluation throughput against a plain Hugging Face ``generate`` loop, same model, same prompts.

The baseline is what one writes by hand: the prompts in file order, batches of ``--batch-size``
with left padding, ``model.generate``, ``batch_decode``. Ours is the whole ``srl eval`` path
(:func:`srlkit.evaluation.runner.run_evaluation`): loading the benchmark, rendering prompts,
generating, grading every answer with the shared scorer and appending each chunk to the
resumable sample file, then the summary. Both decode greedily with the same batch size and
``max_new_tokens``, and both use the one model object, loaded once. A second baseline sorts
the prompts by length as our runner does, which isolates what grading and writing cost.
Runs alternate and the median of each is reported, with the ratio ours / baseline in samples
per second (>= 1 means we are at least as fast).

    .venv/bin/python benchmarks/bench_eval_throughput.py --data-dir ../shared/data
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
from transformers import AutoModelForCausalLM, AutoTokenizer

from srlkit.evaluation.backends import HFBackend
from srlkit.evaluation.benchmarks import BENCHMARKS, load_benchmark
from srlkit.evaluation.prompts import build_messages, render_prompt
from srlkit.evaluation.runner import EvalConfig, run_evaluation
from srlkit.models.tiny import TinyModelConfig, build_tiny_model


def _corpus(data_dir: Path) -> list[str]:
    texts = []
    with open(data_dir / "gsm8k" / "train.jsonl", encoding="utf-8") as f:
        for i, line in enumerate(f):
            if i >= 1500:
                break
            rec = json.loads(line)
            texts += [rec["question"], rec["answer"]]
    return texts + ["<think>", "</think>", "\\boxed{42}"]


def plain_loop(
    model, tokenizer, prompts: list[str], batch_size: int, max_new_tokens: int
) -> list[str]:
    """The hand-written baseline: file order, left padding, generate, batch_decode."""
    texts = []
    for start in range(0, len(prompts), batch_size):
        enc = tokenizer(
            prompts[start : start + batch_size],
            return_tensors="pt",
            padding=True,
            add_special_tokens=False,
        )
        enc = {k: v.to(model.device) for k, v in enc.items()}
        with torch.inference_mode():
            out = model.generate(
                **enc, max_new_tokens=max_new_tokens, do_sample=False,
                eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id,
            )  # fmt: skip
        texts += tokenizer.batch_decode(
            out[:, enc["input_ids"].shape[1] :], skip_special_tokens=True
        )
    return texts


def _args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default="../shared/data")
    parser.add_argument(
        "--model", default=None, help="model dir or id (default: build a tiny local Qwen2)"
    )
    parser.add_argument(
        "--hidden-size", type=int, default=256, help="tiny model width when building one"
    )
    parser.add_argument("--layers", type=int, default=4, help="tiny model depth when building one")
    parser.add_argument("--benchmark", default="math500")
    parser.add_argument("--n-prompts", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--max-new-tokens", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (default: 1)")
    return parser.parse_args()


def _model_path(args: argparse.Namespace, work: Path) -> str:
    if args.model:
        return args.model
    config = TinyModelConfig(
        hidden_size=args.hidden_size,
        intermediate_size=3 * args.hidden_size,
        num_hidden_layers=args.layers,
        num_attention_heads=4,
        num_key_value_heads=2,
    )
    return str(build_tiny_model(work / "model", _corpus(Path(args.data_dir)), config))


def _report(name: str, times: list[float], n: int) -> float:
    median = statistics.median(times)
    print(
        f"{name:<20}: {median:7.2f} s  ({n / median:6.2f} samples/s)  runs {[round(t, 2) for t in times]}"
    )
    return median


def main() -> None:
    args = _args()
    logging.basicConfig(level=logging.WARNING)
    # One intra-op thread by default: on a shared machine, thread contention makes timings swing.
    torch.set_num_threads(args.threads)
    work = Path(tempfile.mkdtemp(prefix="bench_eval_"))
    model_path = _model_path(args, work)
    tokenizer = AutoTokenizer.from_pretrained(model_path, padding_side="left")
    model = AutoModelForCausalLM.from_pretrained(model_path).to(args.device).eval()
    backend = HFBackend(model, tokenizer, batch_size=args.batch_size)
    problems = load_benchmark(BENCHMARKS[args.benchmark], args.data_dir).problems[: args.n_prompts]
    prompts = [render_prompt(tokenizer, build_messages(p.problem)) for p in problems]
    by_length = sorted(prompts, key=len, reverse=True)
    n = len(prompts)
    times: dict[str, list[float]] = {
        "plain generate loop": [],
        "plain loop, sorted": [],
        "srl eval (runner)": [],
    }
    for r in range(args.repeats):  # alternate, so a burst of load on the machine hits all three
        for name, order in (("plain generate loop", prompts), ("plain loop, sorted", by_length)):
            start = time.perf_counter()
            plain_loop(model, tokenizer, order, args.batch_size, args.max_new_tokens)
            times[name].append(time.perf_counter() - start)
        config = EvalConfig(
            model=model_path, out_dir=str(work / f"run{r}"), benchmarks=[args.benchmark], data_dir=args.data_dir,
            k=0, limit=n, max_new_tokens=args.max_new_tokens, batch_size=args.batch_size,
        )  # fmt: skip
        start = time.perf_counter()
        run_evaluation(config, backend)
        times["srl eval (runner)"].append(time.perf_counter() - start)
    params = sum(p.numel() for p in model.parameters())
    print(f"model {model_path} ({params / 1e6:.2f}M parameters) on {args.device}; {n} {args.benchmark} prompts, "
          f"batch {args.batch_size}, max_new_tokens {args.max_new_tokens}, greedy, median of {args.repeats}")  # fmt: skip
    ours = [_report(name, t, n) for name, t in times.items()][-1]
    for name, label in (
        ("plain generate loop", "plain loop"),
        ("plain loop, sorted", "sorted loop"),
    ):
        paired = [b / o for b, o in zip(times[name], times["srl eval (runner)"], strict=True)]
        print(f"ours / {label}: {statistics.median(times[name]) / ours:.2f}x (medians); per adjacent pair "
              f"{[round(x, 2) for x in paired]}, median {statistics.median(paired):.2f}x")  # fmt: skip


if __name__ == "__main__":
    main()

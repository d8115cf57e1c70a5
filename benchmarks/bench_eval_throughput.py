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


def main() -> None:
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
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    # One intra-op thread by default: on a shared machine, thread contention makes timings swing.
    torch.set_num_threads(args.threads)
    data_dir = Path(args.data_dir)
    work = Path(tempfile.mkdtemp(prefix="bench_eval_"))
    model_path = args.model or str(
        build_tiny_model(
            work / "model",
            _corpus(data_dir),
            TinyModelConfig(hidden_size=args.hidden_size, intermediate_size=3 * args.hidden_size,
                            num_hidden_layers=args.layers, num_attention_heads=4, num_key_value_heads=2),
        )
    )  # fmt: skip
    tokenizer = AutoTokenizer.from_pretrained(model_path, padding_side="left")
    model = AutoModelForCausalLM.from_pretrained(model_path).to(args.device).eval()
    backend = HFBackend(model, tokenizer, batch_size=args.batch_size)
    problems = load_benchmark(BENCHMARKS[args.benchmark], data_dir).problems[: args.n_prompts]
    prompts = [render_prompt(tokenizer, build_messages(p.problem)) for p in problems]
    n = len(prompts)

    by_length = sorted(prompts, key=len, reverse=True)
    base_times, sorted_times, our_times = [], [], []
    for r in range(args.repeats):
        start = time.perf_counter()
        plain_loop(model, tokenizer, prompts, args.batch_size, args.max_new_tokens)
        base_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        plain_loop(model, tokenizer, by_length, args.batch_size, args.max_new_tokens)
        sorted_times.append(time.perf_counter() - start)
        config = EvalConfig(
            model=model_path, out_dir=str(work / f"run{r}"), benchmarks=[args.benchmark], data_dir=str(data_dir),
            k=0, limit=n, max_new_tokens=args.max_new_tokens, batch_size=args.batch_size,
        )  # fmt: skip
        start = time.perf_counter()
        run_evaluation(config, backend)
        our_times.append(time.perf_counter() - start)
    base, ours = statistics.median(base_times), statistics.median(our_times)
    base_sorted = statistics.median(sorted_times)
    params = sum(p.numel() for p in model.parameters())
    print(f"model {model_path} ({params / 1e6:.2f}M parameters) on {args.device}; {n} {args.benchmark} prompts, "
          f"batch {args.batch_size}, max_new_tokens {args.max_new_tokens}, greedy, median of {args.repeats}")  # fmt: skip
    print(
        f"plain generate loop : {base:7.2f} s  ({n / base:6.2f} samples/s)  runs {[round(t, 2) for t in base_times]}"
    )
    print(
        f"plain loop, sorted  : {base_sorted:7.2f} s  ({n / base_sorted:6.2f} samples/s)  runs {[round(t, 2) for t in sorted_times]}"
    )
    print(
        f"srl eval (runner)   : {ours:7.2f} s  ({n / ours:6.2f} samples/s)  runs {[round(t, 2) for t in our_times]}"
    )
    paired = [b / o for b, o in zip(base_times, our_times, strict=True)]
    paired_sorted = [b / o for b, o in zip(sorted_times, our_times, strict=True)]
    print(f"throughput ratio ours / plain loop: {base / ours:.2f}x (medians); per adjacent pair "
          f"{[round(x, 2) for x in paired]}, median {statistics.median(paired):.2f}x")  # fmt: skip
    print(f"per adjacent pair against the sorted loop {[round(x, 2) for x in paired_sorted]}, "
          f"median {statistics.median(paired_sorted):.2f}x")  # fmt: skip
    print(
        f"throughput ratio ours / plain loop with the same length sorting: {base_sorted / ours:.2f}x"
    )


if __name__ == "__main__":
    main()

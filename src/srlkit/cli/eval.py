"""``srl eval`` (math benchmarks), ``srl eval-steps`` (next-step validation) and ``srl eval-table``.

Both write an append-only per-sample file and resume from it when rerun with the same ``--out``;
heavy imports (torch, transformers, vLLM) happen inside the handlers.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from srlkit.evaluation.benchmarks import BENCHMARKS, GOLD_MODES, PAPER_BENCHMARKS
from srlkit.evaluation.prompts import DEFAULT_INSTRUCTION, DEFAULT_TEMPLATE


def _default_out(model: str, kind: str) -> str:
    from srlkit.evaluation.outdir import default_eval_dir

    return default_eval_dir(model, kind)


def _add_generation_args(
    p: argparse.ArgumentParser, max_new_tokens: int, temperature: float
) -> None:
    g = p.add_argument_group("generation")
    g.add_argument(
        "--backend", choices=("hf", "vllm"), default="hf", help="generation backend (default: hf)"
    )
    g.add_argument(
        "--batch-size", type=int, default=16, help="sequences per HF generate call (default: 16)"
    )
    g.add_argument(
        "--max-new-tokens", type=int, default=max_new_tokens, help=f"default: {max_new_tokens}"
    )
    g.add_argument("--temperature", type=float, default=temperature, help=f"default: {temperature}")
    g.add_argument("--top-p", type=float, default=1.0, help="nucleus sampling (default: 1.0, off)")
    g.add_argument("--seed", type=int, default=0)
    g.add_argument(
        "--device", default="auto", help="HF backend: cpu, cuda, cuda:1 ... (default: auto)"
    )
    g.add_argument(
        "--dtype",
        default="auto",
        help="bfloat16, float16, float32 (default: bf16 on GPU, fp32 on CPU)",
    )
    g.add_argument(
        "--tensor-parallel-size", type=int, default=1, help="vLLM: GPUs per model (default: 1)"
    )
    g.add_argument(
        "--gpu-memory-utilization",
        type=float,
        default=0.9,
        help="vLLM: share of GPU memory (default: 0.9)",
    )
    g.add_argument(
        "--max-model-len",
        type=int,
        default=None,
        help="vLLM: context length (default: the model's)",
    )
    g.add_argument(
        "--no-chat-template", action="store_true", help="prompt with plain text (base models)"
    )
    g.add_argument("--limit", type=int, default=None, help="evaluate only the first N items")


def _generation_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    """The options of ``_add_generation_args`` that both configs take under the same names."""
    names = (
        "max_new_tokens",
        "limit",
        "batch_size",
        "seed",
        "backend",
        "device",
        "dtype",
        "tensor_parallel_size",
        "gpu_memory_utilization",
        "max_model_len",
    )
    return {name: getattr(args, name) for name in names}


def register(subparsers: Any) -> None:
    _register_eval(subparsers)
    _register_steps(subparsers)
    _register_table(subparsers)


def _register_eval(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "eval",
        help="evaluate a model on math benchmarks (greedy, avg@k, pass@k, token usage)",
        description="Evaluate MODEL (hub id or directory) on math benchmarks. Known benchmarks: "
        + "; ".join(f"{n}: {s.description}" for n, s in BENCHMARKS.items())
        + ". A .jsonl file (or NAME=FILE) with problem and answer fields works too.",
    )
    p.add_argument("model", help="model id or local directory")
    p.add_argument(
        "--benchmarks",
        default=",".join(PAPER_BENCHMARKS),
        help=f"comma-separated names or JSONL files (default: the paper's {','.join(PAPER_BENCHMARKS)})",
    )
    p.add_argument(
        "--data-dir",
        default=None,
        help="read local copies (e.g. ../shared/data) instead of the hub",
    )
    p.add_argument(
        "--k",
        type=int,
        default=None,
        help="samples per problem for avg@k/pass@k (default: 32 for AIME/AMC, 0 otherwise)",
    )
    p.add_argument("--no-greedy", action="store_true", help="skip the greedy answer")
    p.add_argument("--top-k", type=int, default=0, help="top-k sampling (default: 0, off)")
    p.add_argument(
        "--out",
        default=None,
        help="output directory (default: eval_results/<model name>-<hash of its path>-math)",
    )
    prompt = p.add_argument_group("prompt")
    prompt.add_argument("--system-prompt", default=None, help="optional system message")
    prompt.add_argument(
        "--prompt-template",
        default=DEFAULT_TEMPLATE,
        help="user turn; uses {problem} and {instruction}",
    )
    prompt.add_argument(
        "--instruction", default=DEFAULT_INSTRUCTION, help="the answer-format instruction"
    )
    custom = p.add_argument_group("custom JSONL benchmarks")
    custom.add_argument("--problem-field", default="problem")
    custom.add_argument("--answer-field", default="answer")
    custom.add_argument(
        "--gold-from",
        choices=GOLD_MODES,
        default="answer",
        help="how the answer field holds the gold",
    )
    _add_generation_args(p, max_new_tokens=4096, temperature=1.0)
    p.set_defaults(func=run_eval)


def _register_steps(subparsers: Any) -> None:
    s = subparsers.add_parser(
        "eval-steps",
        help="validate next-step prediction on step instances (mean step reward, format failures, exact match)",
        description="Generate one step for each instance of DATA (from `srl data build`) and score it with the SRL step reward.",
    )
    s.add_argument("model", help="model id or local directory")
    s.add_argument(
        "data",
        help="build directory of `srl data build` (its validation split), or an instance JSONL/parquet",
    )
    s.add_argument(
        "--split", default="validation", help="split of a build directory (default: validation)"
    )
    s.add_argument(
        "--out",
        default=None,
        help="output directory (default: eval_results/<model name>-<hash of its path>-steps)",
    )
    s.add_argument(
        "--lenient", action="store_true", help="accept completions that start inside <think>"
    )
    s.add_argument(
        "--format-penalty",
        type=float,
        default=-1.0,
        help="reward of a malformed output (default: -1)",
    )
    s.add_argument(
        "--metric", default="sequence_matcher", help="similarity metric (default: sequence_matcher)"
    )
    s.add_argument(
        "--autojunk", action="store_true", help="difflib autojunk heuristic (default: off)"
    )
    _add_generation_args(s, max_new_tokens=1024, temperature=0.0)
    s.set_defaults(func=run_eval_steps)


def _register_table(subparsers: Any) -> None:
    t = subparsers.add_parser(
        "eval-table",
        help="compare `srl eval` runs in the paper's table (one row per run)",
        description="Print the paper's 7-number table, its Average and the mean greedy answer length "
        "for each output directory of `srl eval` (label = directory name, or LABEL=DIR).",
    )
    t.add_argument(
        "runs", nargs="+", metavar="RUN", help="output directories of srl eval, or LABEL=DIR"
    )
    t.set_defaults(func=run_eval_table)


def run_eval_table(args: argparse.Namespace) -> int:
    import json

    from srlkit.evaluation.report import comparison_table
    from srlkit.io import DataError

    runs = {}
    for token in args.runs:
        label, _, directory = (
            token.rpartition("=") if "=" in token else (Path(token).name, "", token)
        )
        path = Path(directory) / "summary.json"
        try:
            runs[label] = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise DataError(
                path, "no summary.json: is this an output directory of `srl eval`?"
            ) from None
        except ValueError as exc:
            raise DataError(path, f"not valid JSON: {exc}") from None
    print(comparison_table(runs), end="")
    return 0


def run_eval(args: argparse.Namespace) -> int:
    from srlkit.evaluation.benchmarks import resolve_spec
    from srlkit.evaluation.runner import EvalConfig, run_evaluation

    names = [b.strip() for b in args.benchmarks.split(",") if b.strip()]
    for name in names:  # a typo should fail before a model is loaded
        try:
            resolve_spec(name)
        except ValueError as exc:
            print(f"srl eval: error: {exc}", file=sys.stderr)
            return 2
    config = EvalConfig(
        model=args.model,
        out_dir=args.out or _default_out(args.model, "math"),
        benchmarks=names,
        data_dir=args.data_dir,
        k=args.k,
        greedy=not args.no_greedy,
        temperature=args.temperature,
        top_p=args.top_p,
        top_k=args.top_k,
        **_generation_kwargs(args),
        prompt_template=args.prompt_template,
        instruction=args.instruction,
        system_prompt=args.system_prompt,
        use_chat_template=not args.no_chat_template,
        problem_field=args.problem_field,
        answer_field=args.answer_field,
        gold_from=args.gold_from,
    )
    run_evaluation(config)
    out = Path(config.out_dir)
    print((out / "results.md").read_text(encoding="utf-8"))
    print(f"samples: {out / 'samples'}/  summary: {out / 'summary.json'}")
    return 0


def run_eval_steps(args: argparse.Namespace) -> int:
    from srlkit.evaluation.steps import StepEvalConfig, run_step_evaluation

    config = StepEvalConfig(
        model=args.model,
        data=args.data,
        split=args.split,
        out_dir=args.out or _default_out(args.model, "steps"),
        temperature=args.temperature,
        top_p=args.top_p,
        **_generation_kwargs(args),
        lenient=args.lenient,
        format_penalty=args.format_penalty,
        metric=args.metric,
        autojunk=args.autojunk,
        use_chat_template=not args.no_chat_template,
    )
    summary = run_step_evaluation(config)

    def pct(v: float | None) -> str:
        return "-" if v is None else f"{100 * v:.1f}%"

    mean = summary["mean_reward"]
    print(f"step instances:      {summary['n_instances']}")
    print(f"mean step reward:    {'-' if mean is None else f'{mean:.4f}'}")
    print(f"format-failure rate: {pct(summary['format_failure_rate'])}")
    print(f"exact-match rate:    {pct(summary['exact_match_rate'])}")
    print(
        f"records: {Path(config.out_dir) / 'steps.jsonl'}  summary: {Path(config.out_dir) / 'summary.json'}"
    )
    return 0

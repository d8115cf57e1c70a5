"""One script that checks srlkit's GPU path, with no download, and prints one table.

It measures bf16 GRPO with HF and vLLM generation, the overhead of dynamic sampling against plain
TRL, adaptive vs full refill, ``srl eval`` throughput with both backends, and peak memory.

Nothing is downloaded. A model of Qwen2.5-0.5B's shape (random weights, bf16) and a tokenizer of
its vocabulary size are built locally (:mod:`srlkit.models.shapes`); the data are SRL step
instances built by srlkit from the real GSM8K solutions in ../shared/data, and MATH-500 for the
evaluation rows. Each row runs in its own process (vLLM and HF rows do not share GPU memory):

    grpo_plain_hf / grpo_srl_hf        trl.GRPOTrainer vs SRLGRPOTrainer, same config and seed,
                                       dynamic sampling on with epsilon 0 (nothing filtered):
                                       the step-time ratio, target <= 1.05
    grpo_plain_vllm / grpo_srl_vllm    the same with vLLM colocate generation (when vLLM imports)
    refill_full_hf / refill_adaptive_hf  38% of prompts "mastered" (flat reward): rollouts per
                                       kept rollout and step time, refill_size full vs adaptive
    eval_hf / eval_vllm                `srl eval` on MATH-500 problems: samples per second

One table is printed (and written with --output); the exit status is non-zero when any row
failed or when an SRL/plain step-time ratio exceeds --ratio-target (1.05 by default on a GPU;
not enforced on a CPU, where a shared machine makes step times too noisy to hold to 5%). On a CPU the same logic runs at a
tiny shape (``--shape tiny``; vLLM rows are skipped): that is how the test suite runs it.

    python benchmarks/gpu_check.py --data-dir ../shared/data --output gpu_check.json
    python benchmarks/gpu_check.py --shape tiny --steps 2 --data-dir ../shared/data   # CPU
"""

from __future__ import annotations

import argparse
import json
import logging
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

logger = logging.getLogger("gpu_check")

RATIO_PAIRS = {
    "grpo_srl_hf": "grpo_plain_hf",
    "grpo_srl_vllm": "grpo_plain_vllm",
    "refill_adaptive_hf": "refill_full_hf",
}


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument(
        "--data-dir", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data"
    )
    p.add_argument("--shape", default="qwen2.5-0.5b", choices=["qwen2.5-0.5b", "tiny"])
    p.add_argument("--work-dir", type=Path, default=None, help="model and outputs (default: tmp)")
    p.add_argument("--rows", default=None, help="comma-separated subset of rows (default: all)")
    p.add_argument("--steps", type=int, default=4, help="GRPO steps per row; the first is warm-up")
    p.add_argument("--batch-prompts", type=int, default=8, help="prompts per GRPO step (B)")
    p.add_argument("--num-generations", type=int, default=8, help="rollouts per prompt (G)")
    p.add_argument("--num-prompts", type=int, default=256, help="step instances in the train set")
    p.add_argument("--max-completion-length", type=int, default=128)
    p.add_argument("--max-rounds", type=int, default=5, help="max_generation_rounds (refill rows)")
    p.add_argument("--max-model-len", type=int, default=2048, help="vLLM context length")
    p.add_argument("--vllm-memory", type=float, default=0.3, help="vLLM gpu_memory_utilization")
    p.add_argument("--eval-problems", type=int, default=64, help="MATH-500 problems (eval rows)")
    p.add_argument("--eval-k", type=int, default=3, help="sampled answers per problem (+1 greedy)")
    p.add_argument("--eval-batch-size", type=int, default=64, help="HF backend batch size")
    p.add_argument(
        "--ratio-target",
        type=float,
        default=None,
        help="fail when an SRL/plain step-time ratio exceeds this (default: 1.05 with a GPU, "
        "not enforced on CPU; 0 turns it off)",
    )
    p.add_argument("--output", type=Path, default=None, help="write the table as JSON here")
    p.add_argument("--row", default=None, help=argparse.SUPPRESS)  # child process: one row
    p.add_argument("--result-file", type=Path, default=None, help=argparse.SUPPRESS)
    return p


def corpus(data_dir: Path) -> list[str]:
    """Text the tokenizer is trained on: GSM8K solutions and MATH-500 problems."""
    texts = []
    with open(data_dir / "gsm8k" / "train.jsonl", encoding="utf-8") as f:
        texts += [json.loads(line)["answer"] for _, line in zip(range(3000), f)]
    with open(data_dir / "math500" / "test.jsonl", encoding="utf-8") as f:
        texts += [json.loads(line)["problem"] for line in f]
    return texts + ["<think>", "</think>", "\\boxed{}"]


def run_child(opts: argparse.Namespace) -> int:
    """Child process: run one row, write its result as JSON."""
    import torch

    from gpu_check_rows import run_row

    if not torch.cuda.is_available():
        torch.set_num_threads(1)  # a CPU run is a test on a shared machine: one thread, less noise
    model_dir = opts.work_dir / "model"
    result = run_row(opts.row, opts, model_dir, opts.work_dir / "runs")
    opts.result_file.write_text(json.dumps(result), encoding="utf-8")
    return 0


def run_rows(opts: argparse.Namespace, rows: list[str], argv: list[str]) -> dict[str, dict]:
    from gpu_check_rows import needs_vllm, vllm_available

    results = {}
    for row in rows:
        if needs_vllm(row) and not vllm_available():
            results[row] = {"status": "skipped", "note": "vLLM not importable (or no GPU)"}
            continue
        result_file = opts.work_dir / f"{row}.json"
        result_file.unlink(missing_ok=True)
        cmd = [sys.executable, __file__, *argv, "--work-dir", str(opts.work_dir)]
        cmd += ["--row", row, "--result-file", str(result_file)]
        logger.info("row %s ...", row)
        # (TRL sets the torch.distributed variables vLLM colocate needs in a plain process)
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if proc.returncode == 0 and result_file.is_file():
            results[row] = json.loads(result_file.read_text(encoding="utf-8"))
        else:
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
            results[row] = {"status": "FAILED", "note": f"exit {proc.returncode}: {tail[0][:160]}"}
            (opts.work_dir / f"{row}.log").write_text(proc.stdout + proc.stderr, encoding="utf-8")
        logger.info("row %s: %s", row, results[row].get("status"))
    return results


def add_ratios(results: dict[str, dict], target: float | None) -> bool:
    """Step-time ratios to each row's baseline; returns False when a target was missed."""
    ok = True
    for row, base in RATIO_PAIRS.items():
        a, b = results.get(row, {}), results.get(base, {})
        if a.get("status") == "ok" and b.get("status") == "ok":
            a["ratio_to_baseline"] = a["median_step_s"] / b["median_step_s"]
            if (
                target is not None
                and base.startswith("grpo_plain")
                and a["ratio_to_baseline"] > target
            ):
                a["status"] = "MISSED"
                a["note"] = f"step time {a['ratio_to_baseline']:.3f}x plain TRL > {target}"
                ok = False
    return ok


def format_table(results: dict[str, dict]) -> str:
    def num(value, spec):
        return "-" if value is None else format(value, spec)

    header = "| row | status | median step s | ratio | rollouts/kept | kept | rounds | samples/s | peak GiB | note |"
    lines = [header, "|" + "---|" * 10]
    for row, r in results.items():
        lines.append(
            f"| {row} | {r.get('status')} | {num(r.get('median_step_s'), '.3f')} "
            f"| {num(r.get('ratio_to_baseline'), '.3f')} | {num(r.get('rollouts_per_kept_rollout'), '.3f')} "
            f"| {num(r.get('kept_fraction'), '.3f')} | {num(r.get('generation_rounds'), '.2f')} "
            f"| {num(r.get('samples_per_s'), '.2f')} | {num(r.get('peak_gib'), '.2f')} | {r.get('note', '')} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    opts = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    if opts.row:
        return run_child(opts)
    from gpu_check_rows import ROWS
    from srlkit.io import write_json
    from srlkit.models.shapes import SHAPES, build_shaped_model

    rows = opts.rows.split(",") if opts.rows else list(ROWS)
    unknown = sorted(set(rows) - set(ROWS))
    if unknown:
        raise SystemExit(f"gpu_check: unknown rows {unknown}; known: {', '.join(ROWS)}")
    with tempfile.TemporaryDirectory() as tmp:
        opts.work_dir = (opts.work_dir or Path(tmp)).resolve()
        opts.work_dir.mkdir(parents=True, exist_ok=True)
        shape = SHAPES[opts.shape]
        dtype = "bfloat16" if opts.shape != "tiny" else "float32"
        build_shaped_model(opts.work_dir / "model", corpus(opts.data_dir), shape, dtype)
        child_argv = [a for a in argv]  # the same options, plus the row to run
        if "--work-dir" in child_argv:
            i = child_argv.index("--work-dir")
            del child_argv[i : i + 2]
        results = run_rows(opts, rows, child_argv)
    target = opts.ratio_target
    if target is None:
        import torch

        target = 1.05 if torch.cuda.is_available() else None
    targets_met = add_ratios(results, target or None)
    print(format_table(results))
    if opts.output:
        write_json(
            opts.output, {"settings": {k: str(v) for k, v in vars(opts).items()}, "rows": results}
        )
    failed = [r for r, v in results.items() if v.get("status") not in ("ok", "skipped")]
    return 1 if failed or not targets_met else 0


if __name__ == "__main__":
    sys.exit(main())

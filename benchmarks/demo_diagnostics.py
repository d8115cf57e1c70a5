"""What decided a `srl demo` run, read back from its folder: the two measurements behind
docs/demo.md's diagnosis, runnable on any demo folder (of this version or an older one).

1. **Test-set concentration**: the share of a seed's test problems opened by the same first four
   values. One opening shared by many problems means one doubling fact decides them together.
2. **Two-digit results**: in each model's greedy solutions, the equations whose right result
   (from the solution's own operands) has two digits, and how many of them were written right
   or cut to one of their digits (``8 * 2 = 1``), the error the paper's character similarity
   scores above any wrong whole value.

Usage::

    python benchmarks/demo_diagnostics.py runs/demo [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from pathlib import Path

from srlkit.demo.stages import SAMPLES_BENCHMARK, two_digit_results
from srlkit.io import iter_jsonl


def opening_share(test_file: Path) -> tuple[float, str]:
    """The largest share of test problems with the same start and first four values."""
    openings = Counter()
    for _, problem in iter_jsonl(test_file):
        start = re.match(r"Start with (\d+)", problem["problem"]).group(1)
        values = problem["answer"].strip("()").split(", ")[:4]
        openings[", ".join([start, *values])] += 1
    opening, count = openings.most_common(1)[0]
    return count / sum(openings.values()), opening


def diagnose(run: Path) -> dict:
    out: dict = {}
    for seed_dir in sorted(run.glob("seed-*")):
        test_file = seed_dir / "data" / "test_problems.jsonl"
        if not test_file.is_file():
            continue
        share, opening = opening_share(test_file)
        methods = {}
        for samples in sorted(seed_dir.glob(f"evals/*/solve/samples/{SAMPLES_BENCHMARK}.jsonl")):
            records = [r for _, r in iter_jsonl(samples) if r.get("mode") == "greedy"]
            counts = two_digit_results(r.get("completion", "") for r in records)
            methods[samples.parts[-4]] = {
                "accuracy": sum(r.get("correct") is True for r in records) / max(1, len(records)),
                **counts,
            }
        out[seed_dir.name] = {
            "top_opening": opening,
            "top_opening_share": share,
            "methods": methods,
        }
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run", type=Path, help="a srl demo output folder")
    parser.add_argument("--json", type=Path, help="also write the numbers here")
    args = parser.parse_args(argv)
    found = diagnose(args.run)
    if not found:
        print(
            f"{args.run}: no seed-*/data/test_problems.jsonl (not a srl demo folder)",
            file=sys.stderr,
        )
        return 2
    for seed, d in found.items():
        print(f"{seed}: {d['top_opening_share']:.0%} of test problems open with {d['top_opening']}")
        for method, m in d["methods"].items():
            steps = max(1, m["steps"])
            print(
                f"  {method:10s} accuracy {m['accuracy']:.3f}  two-digit results {m['steps']:4d}: "
                f"right {m['right'] / steps:.2f}, cut to one digit {m['cut'] / steps:.2f}"
            )
    if args.json:
        args.json.write_text(json.dumps(found, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

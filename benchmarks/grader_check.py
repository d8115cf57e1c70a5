"""Grader check: reference solutions must grade as correct, known-wrong answers as wrong.

Runs :func:`srlkit.evaluation.grader_check.grader_check` (which uses the shared
``srlkit.rewards.outcome.score_answer``) on every registered benchmark's local copy and prints
one row per benchmark; ``--json`` also writes the full result with the failing cases.

    .venv/bin/python benchmarks/grader_check.py --data-dir ../shared/data --json grader_check.json
"""

from __future__ import annotations

import argparse
import logging
import time

from srlkit.evaluation.benchmarks import BENCHMARKS, load_benchmark
from srlkit.evaluation.grader_check import grader_check
from srlkit.io import write_json


def _pct(result: dict) -> str:
    rate = result["rate"]
    return "-" if rate is None else f"{100 * rate:.1f}% ({result['passed']}/{result['checked']})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default="../shared/data")
    parser.add_argument("--benchmarks", default=",".join(BENCHMARKS))
    parser.add_argument("--json", default=None, help="write the full result (with failures) here")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    results = {}
    print(
        "| benchmark | reference solutions scored correct | gold+1 scored 0 | no answer scored 0 | other problem's gold scored 0 | seconds |"
    )
    print("|---|---|---|---|---|---|")
    for name in args.benchmarks.split(","):
        start = time.perf_counter()
        result = grader_check(load_benchmark(BENCHMARKS[name], args.data_dir))
        seconds = time.perf_counter() - start
        results[name] = result
        wrong = result["wrong"]
        cells = [
            _pct(wrong[k]) if k in wrong else "-"
            for k in ("gold_plus_one", "no_answer", "other_gold")
        ]
        print(f"| {name} | {_pct(result['references'])} | {' | '.join(cells)} | {seconds:.1f} |")
    for name, result in results.items():
        for f in result["references"]["failures"]:
            print(
                f"{name} reference {f['id']}: gold {f['gold']!r} scored {f['score']}: ...{f['tail'][-90:]!r}"
            )
        for kind, r in result["wrong"].items():
            for f in r["failures"]:
                print(
                    f"{name} {kind} {f['id']}: gold {f['gold']!r} scored {f['score']} for {f['completion']!r}"
                )
    if args.json:
        write_json(args.json, results)


if __name__ == "__main__":
    main()

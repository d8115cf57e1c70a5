"""How well the rewrite faithfulness check separates faithful rewrites from unfaithful ones.

No teacher output is stored here, so two proxies are built from real solutions
(MATH-500, Minerva, and the s1K reference solutions that segment into 2+ steps):

- faithful: the solution itself cut into steps by ``segment_solution`` and written as
  ``N. **Step N** body`` lines with a ``SOLUTION:`` label, exactly what a teacher that only
  reformats would return;
- unfaithful: the same rewrite judged against the original of the *next* problem of the set,
  a rewrite whose formulas and numbers come from somewhere else (the failure a "solve anew"
  or a mixed-up response produces).

Reports the faithfulness score's distribution for both, and at the default threshold (0.6)
the share of faithful rewrites dropped and of unfaithful ones kept.

    python benchmarks/faithfulness_check.py [--threshold 0.6]
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

from common import SHARED_DATA
from srlkit.data.segment import segment_solution
from srlkit.teacher.verify import measure

REPO = Path(__file__).resolve().parents[1]
SHARED = SHARED_DATA
SETS = {
    "math500": "math500/test.jsonl",
    "minerva": "minerva_math/test.jsonl",
    "s1k": "s1k_questions/s1k.json",
}


def _solutions(rel: str) -> list[str]:
    text = (SHARED / rel).read_text(encoding="utf-8")
    rows = (
        json.loads(text)
        if text.lstrip().startswith("[")
        else [json.loads(x) for x in text.splitlines() if x.strip()]
    )
    return [
        r["solution"] for r in rows if isinstance(r.get("solution"), str) and r["solution"].strip()
    ]


def _rewrite(solution: str) -> str | None:
    steps = segment_solution(solution).steps
    if len(steps) < 2:
        return None
    return "SOLUTION:\n" + "\n".join(
        f"{i}. **Step {i}** {s.body}" for i, s in enumerate(steps, start=1)
    )


def _q(values: list[float]) -> str:
    if not values:
        return "-"
    q = statistics.quantiles(values, n=10)
    return f"p10 {q[0]:.2f}  median {statistics.median(values):.2f}  p90 {q[8]:.2f}  mean {statistics.fmean(values):.2f}"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threshold", type=float, default=0.6)
    args = p.parse_args()
    print(
        f"{'set':<8} {'pairs':>5}  {'faithful (own original)':<50} {'unfaithful (next original)':<50} dropped  kept"
    )
    for name, rel in SETS.items():
        sols = _solutions(rel)
        good, bad = [], []
        for i, sol in enumerate(sols):
            rw = _rewrite(sol)
            if rw is None:
                continue
            f_own = measure(rw, None, sol).get("faithfulness")
            f_other = measure(rw, None, sols[(i + 1) % len(sols)]).get("faithfulness")
            if f_own is not None and f_other is not None:
                good.append(f_own)
                bad.append(f_other)
        dropped = sum(v < args.threshold for v in good) / len(good)
        kept = sum(v >= args.threshold for v in bad) / len(bad)
        print(
            f"{name:<8} {len(good):>5}  {_q(good):<50} {_q(bad):<50} {dropped:>6.1%} {kept:>6.1%}"
        )


if __name__ == "__main__":
    main()

"""How well auto segmentation cuts real solutions: steps found, cuts inside math, delimiter steps.

For each set in ../shared/data (AoPS solutions of AIME 2024, MATH-500, Minerva, s1K), counts

- eligible: solutions with at least two sentences or formulas (lines outside math, sentences
  within a line, a formula-only line counting as one formula);
- eligible solutions that auto segmentation cuts into 2 or more steps (the issue's target: 90%);
- steps cut inside math: a step that opens math, an environment or a brace group it does not
  close, although the whole solution closes everything it opens;
- steps that are only delimiters (``$$``, ``\\]``, ``{``).

    python benchmarks/segment_quality.py [--data ../shared/data] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import time
from collections import Counter
from pathlib import Path

from srlkit.data.mathspans import balanced, is_safe, protected_spans, without_math
from srlkit.data.segment import segment_solution

SETS = {
    "aime24 (AoPS)": ("aime24/test.jsonl", "solution"),
    "math500": ("math500/test.jsonl", "solution"),
    "minerva": ("minerva_math/test.jsonl", "solution"),
    "s1k v1.0": ("s1k_questions/s1k.json", "solution"),
}
_SENT_RE = re.compile(r"(?<=[.!?])[ \t]+(?=[A-Z$\\(\[])")
_DELIM_RE = re.compile(r"^[\s$.,;:!?(){}\[\]\\~*-]*$")


def _records(path: Path) -> list[dict]:
    text = path.read_text(encoding="utf-8")
    if text.lstrip().startswith("["):
        return json.loads(text)
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def units(text: str) -> int:
    """Sentences and formulas: per line outside math, its sentences outside math (a formula line = 1)."""
    spans = protected_spans(text)
    cuts = [m.start() for m in re.finditer(r"\n", text) if is_safe(spans, m.start())]
    n, pos = 0, 0
    for end in cuts + [len(text)]:
        line = text[pos:end].strip()
        pos = end + 1
        if not line or _DELIM_RE.match(line):
            continue
        line_spans = protected_spans(line)
        n += 1 + sum(
            1
            for m in _SENT_RE.finditer(line)
            if is_safe(line_spans, m.start()) and line[m.end() :].strip()
        )
    return n


def measure(records: list[dict], field: str) -> dict:
    stats = Counter()
    methods = Counter()
    examples = {}
    for rec in records:
        text = str(rec.get(field) or "").replace("\r\n", "\n").strip()
        seg = segment_solution(text)
        steps = [f"{s.title} {s.body}".strip() for s in seg.steps]
        stats["solutions"] += 1
        methods[seg.method] += 1
        eligible = units(text) >= 2
        stats["eligible"] += eligible
        if eligible and len(steps) >= 2:
            stats["eligible_2plus"] += 1
        elif eligible:
            examples.setdefault("eligible_but_1_step", text[:200])
        stats["steps"] += len(steps)
        if balanced(text):
            bad = [s for s in steps if not balanced(s)]
            stats["steps_cut_in_math"] += len(bad)
            if bad:
                examples.setdefault("cut_in_math", bad[0][:200])
        delims = [
            s for s in steps if _DELIM_RE.match(s) or not without_math(s).strip() and len(s) <= 3
        ]
        stats["delimiter_steps"] += len(delims)
    share = stats["eligible_2plus"] / stats["eligible"] if stats["eligible"] else 0.0
    return {
        **stats,
        "eligible_2plus_share": round(share, 4),
        "methods": dict(methods),
        "examples": examples,
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = os.environ.get(
        "SRLKIT_SHARED_DATA", str(Path(__file__).resolve().parents[1].parent / "shared" / "data")
    )
    p.add_argument("--data", default=default)
    p.add_argument("--json", default=None, help="also write the results here")
    args = p.parse_args()
    results = {}
    for name, (rel, field) in SETS.items():
        t0 = time.perf_counter()
        results[name] = measure(_records(Path(args.data) / rel), field)
        results[name]["seconds"] = round(time.perf_counter() - t0, 2)
    print(
        f"{'set':<15} {'n':>5} {'eligible':>8} {'>=2 steps':>10} {'share':>7} {'cut in math':>11} {'delim steps':>11}  methods"
    )
    for name, r in results.items():
        print(
            f"{name:<15} {r['solutions']:>5} {r['eligible']:>8} {r['eligible_2plus']:>10} "
            f"{r['eligible_2plus_share']:>7.1%} {r['steps_cut_in_math']:>11} {r['delimiter_steps']:>11}  {r['methods']}"
        )
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()

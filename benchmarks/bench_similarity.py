"""Step-similarity speed: srlkit's compiled matcher against difflib, in the same run.

Pairs are cut from real solution text (MATH-500 and s1K solutions in ../shared/data), at
100 / 400 / 1,600 / 6,400 characters, in two kinds: *edited* (the prediction is the reference
with about 10% of its characters changed, like a rollout close to the expert step) and
*unrelated* (two different solutions, like a poor rollout). For each size, kind and autojunk
setting the script times difflib, cydifflib (a Cython build of difflib), rapidfuzz's Indel
ratio (a different quantity, shown for scale) and srlkit, checks srlkit's values are
bit-identical to difflib's, and prints speed ratios against difflib. Then it measures batch
throughput (:func:`srlkit.rewards.similarity.batch_similarity`) with 1 thread and all cores.

    .venv/bin/python benchmarks/bench_similarity.py            # full run
    .venv/bin/python benchmarks/bench_similarity.py --quick    # fewer pairs
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path

from common import SHARED_DATA
from srlkit.rewards import similarity

REPO = Path(__file__).resolve().parents[1]
DATA = SHARED_DATA
SIZES = (100, 400, 1600, 6400)


def load_corpus() -> list[str]:
    texts = []
    with open(DATA / "math500" / "test.jsonl", encoding="utf-8") as f:
        texts += [json.loads(line)["solution"] for line in f]
    texts += [
        row["solution"] for row in json.loads((DATA / "s1k_questions" / "s1k.json").read_text())
    ]
    return [t for t in texts if t.strip()]


def window(texts: list[str], n: int, rng: random.Random) -> str:
    """n characters of real solution text (solutions joined when one is too short)."""
    out = ""
    while len(out) < n:
        out += rng.choice(texts) + "\n"
    start = rng.randrange(0, len(out) - n + 1)
    return out[start : start + n]


def edit(text: str, rng: random.Random, rate: float = 0.1) -> str:
    chars = list(text)
    for _ in range(int(len(chars) * rate)):
        i = rng.randrange(len(chars))
        op = rng.random()
        if op < 0.4:
            chars[i] = rng.choice(text)
        elif op < 0.7:
            del chars[i]
        else:
            chars.insert(i, rng.choice(text))
    return "".join(chars)


def make_pairs(texts: list[str], n: int, count: int, kind: str, seed: int) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    pairs = []
    for _ in range(count):
        reference = window(texts, n, rng)
        prediction = edit(reference, rng) if kind == "edited" else window(texts, n, rng)
        pairs.append((prediction, reference))
    return pairs


def per_pair_seconds(
    fns: dict[str, Callable[[str, str], float]], pairs: list[tuple[str, str]], repeats: int
) -> dict[str, float]:
    """Fastest of ``repeats`` rounds of each function's mean time per pair.

    The functions take turns within each round, so slow phases of a shared machine hit all of
    them alike, and the minimum (as ``timeit`` advises) discards rounds disturbed by others.
    """
    samples: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            start = time.perf_counter()
            for a, b in pairs:
                fn(a, b)
            samples[name].append((time.perf_counter() - start) / len(pairs))
    return {name: min(values) for name, values in samples.items()}


def competitors(autojunk: bool) -> dict[str, Callable[[str, str], float]]:
    fns: dict[str, Callable[[str, str], float]] = {
        "difflib": lambda a, b: difflib.SequenceMatcher(None, a, b, autojunk=autojunk).ratio(),
    }
    try:
        import cydifflib

        fns["cydifflib"] = lambda a, b: cydifflib.SequenceMatcher(
            None, a, b, autojunk=autojunk
        ).ratio()
    except ImportError:
        print("cydifflib not installed: skipped", file=sys.stderr)
    try:
        from rapidfuzz.distance import Indel

        fns["rapidfuzz Indel (other metric)"] = Indel.normalized_similarity
    except ImportError:
        print("rapidfuzz not installed: skipped", file=sys.stderr)
    fns["srlkit"] = lambda a, b: similarity.sequence_matcher_ratio(a, b, autojunk)
    return fns


def speed_table(texts: list[str], count: int, repeats: int) -> None:
    print(
        "| chars | pairs | autojunk | difflib ms/pair | cydifflib x | rapidfuzz Indel x | srlkit x | srlkit == difflib |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for n in SIZES:
        for kind in ("edited", "unrelated"):
            pairs = make_pairs(texts, n, count if n < 6400 else max(4, count // 4), kind, seed=n)
            for autojunk in (False, True):
                fns = competitors(autojunk)
                exact = all(fns["srlkit"](a, b) == fns["difflib"](a, b) for a, b in pairs)
                times = per_pair_seconds(fns, pairs, repeats if n < 6400 else max(1, repeats // 2))
                base = times["difflib"]
                cells = [
                    f"{base / times[k]:.1f}" if k in times else "-"
                    for k in ("cydifflib", "rapidfuzz Indel (other metric)", "srlkit")
                ]
                print(
                    f"| {n} | {kind} | {autojunk} | {base * 1e3:.3f} | {' | '.join(cells)} | {'yes' if exact else 'NO'} |"
                )
                sys.stdout.flush()


def batch_table(texts: list[str], groups: int, group_size: int, difflib_pairs: int) -> None:
    """GRPO-shaped batch: ``groups`` references, ``group_size`` rollouts each, 1,600 chars.

    difflib is timed on the first ``difflib_pairs`` pairs only (its full loop would take
    minutes); its rate is scaled to the batch and the batch values are checked against it.
    """
    rng = random.Random(0)
    predictions, references = [], []
    for _ in range(groups):
        reference = window(texts, 1600, rng)
        for _ in range(group_size):
            predictions.append(edit(reference, rng))
            references.append(reference)
    cores = os.cpu_count() or 1
    print(
        f"\nBatch: {len(predictions)} pairs of 1,600 chars ({groups} references x {group_size} rollouts), autojunk=False"
    )
    print("| method | seconds | pairs/s | x vs difflib loop |")
    print("|---|---|---|---|")
    start = time.perf_counter()
    expected = [
        difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()
        for a, b in zip(predictions[:difflib_pairs], references[:difflib_pairs])
    ]
    base = (time.perf_counter() - start) * len(predictions) / difflib_pairs
    print(
        f"| difflib loop (timed on {difflib_pairs} pairs, scaled) | {base:.1f} | {len(predictions) / base:.1f} | 1.0 |"
    )
    for threads in sorted({1, cores}):
        best = float("inf")
        for _ in range(5):
            start = time.perf_counter()
            got = similarity.batch_similarity(predictions, references, num_threads=threads)
            best = min(best, time.perf_counter() - start)
        assert got[:difflib_pairs] == expected, "batch values differ from difflib"
        print(
            f"| srlkit batch, {threads} thread(s) | {best:.4f} | {len(predictions) / best:.0f} | {base / best:.1f} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="fewer pairs and shorter timing (smoke run)"
    )
    parser.add_argument(
        "--batch-only",
        action="store_true",
        help="only the batch table (thread scaling); run it on an otherwise idle machine",
    )
    args = parser.parse_args()
    if not similarity.has_extension():
        sys.exit("srlkit.rewards._csimilarity is not built: run `pip install -e .` first")
    texts = load_corpus()
    print(
        f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, corpus {len(texts)} solutions\n"
    )
    if not args.batch_only:
        speed_table(texts, count=5 if args.quick else 12, repeats=1 if args.quick else 5)
    batch_table(
        texts, groups=8 if args.quick else 64, group_size=8, difflib_pairs=8 if args.quick else 32
    )


if __name__ == "__main__":
    main()

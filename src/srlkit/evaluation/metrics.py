"""Evaluation metrics as pure functions: accuracy, avg@k, unbiased pass@k, token usage, the paper table.

Why pure functions over plain lists: each metric can be checked against a hand-computed or
brute-force answer without a model, and the same code summarises a fresh run and a resumed one.

pass@k uses the unbiased estimator of Chen et al. (2021, "Evaluating Large Language Models
Trained on Code"): with ``n`` samples of which ``c`` are correct,
``pass@k = 1 - C(n-c, k) / C(n, k)``, computed as a running product so that large ``n`` does
not overflow or lose precision.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence
from typing import Any


def pass_at_k(n: int, c: int, k: int) -> float:
    """Probability that at least one of ``k`` samples drawn without replacement from ``n`` is correct.

    ``c`` of the ``n`` samples are correct. Numerically stable: ``1 - prod_{i=n-c+1..n} (1 - k/i)``.

    >>> pass_at_k(n=4, c=1, k=1)
    0.25
    >>> round(pass_at_k(n=4, c=1, k=2), 4)
    0.5
    """
    if not 0 <= c <= n:
        raise ValueError(f"need 0 <= c <= n, got n={n}, c={c}")
    if not 1 <= k <= n:
        raise ValueError(f"need 1 <= k <= n, got n={n}, k={k}")
    if n - c < k:
        return 1.0
    prod = 1.0
    for i in range(n - c + 1, n + 1):
        prod *= 1.0 - k / i
    return 1.0 - prod


def default_pass_ks(n: int) -> list[int]:
    """The k values reported for ``n`` samples: powers of two up to ``n``, and ``n`` itself."""
    ks = [1 << i for i in range(n.bit_length()) if (1 << i) <= n]
    if n >= 1 and n not in ks:
        ks.append(n)
    return ks


def mean_pass_at_k(counts: Sequence[tuple[int, int]], k: int) -> float | None:
    """Mean pass@k over problems given as ``(n, c)`` pairs; problems with ``n < k`` are skipped."""
    values = [pass_at_k(n, c, k) for n, c in counts if n >= k]
    return sum(values) / len(values) if values else None


def accuracy(correct: Iterable[bool | None]) -> float | None:
    """Fraction of ``True``; ``None`` (ungradable) counts as wrong. ``None`` for no samples."""
    values = list(correct)
    return sum(1 for v in values if v is True) / len(values) if values else None


def avg_at_k(per_problem: Sequence[Sequence[bool | None]]) -> float | None:
    """Mean over problems of the per-problem accuracy of its samples (avg@k in the paper).

    Equal to overall sample accuracy when every problem has the same number of samples; when
    a run was cut short and problems have different counts, each problem still weighs the same.
    """
    accs = [a for a in (accuracy(s) for s in per_problem) if a is not None]
    return sum(accs) / len(accs) if accs else None


def usage_stats(tokens: Sequence[int], words: Sequence[int]) -> dict[str, float | None]:
    """Mean and median response length in tokens and in whitespace-separated words."""

    def stats(xs: Sequence[int]) -> tuple[float | None, float | None]:
        return (statistics.fmean(xs), float(statistics.median(xs))) if xs else (None, None)

    mean_t, median_t = stats(tokens)
    mean_w, median_w = stats(words)
    return {
        "mean_tokens": mean_t,
        "median_tokens": median_t,
        "mean_words": mean_w,
        "median_words": median_w,
    }


def count_words(text: str) -> int:
    """Whitespace-separated words: a length measure that does not depend on the tokenizer."""
    return len(text.split())


# The paper's 7-number table: (column label, benchmark, metric). "Average" is their mean.
PAPER_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("AMC23 avg@32", "amc23", "avg"),
    ("AMC23 greedy", "amc23", "greedy"),
    ("AIME24 avg@32", "aime24", "avg"),
    ("AIME24 greedy", "aime24", "greedy"),
    ("AIME25 avg@32", "aime25", "avg"),
    ("AIME25 greedy", "aime25", "greedy"),
    ("Minerva greedy", "minerva", "greedy"),
)


def paper_table(summaries: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The paper's table row (percentages) from per-benchmark summaries.

    Cells whose benchmark or metric was not run are ``None``; ``Average`` is the mean of the
    cells present and ``complete`` says whether all seven were, since an average of fewer
    numbers is not comparable with the paper's.
    """
    row: dict[str, float | None] = {}
    for label, bench, metric in PAPER_COLUMNS:
        s = summaries.get(bench) or {}
        value = (
            (s.get("greedy") or {}).get("accuracy")
            if metric == "greedy"
            else (s.get("sampled") or {}).get("avg")
        )
        if metric == "avg" and value is not None:
            k = (s.get("sampled") or {}).get("k")
            label = f"{label.split()[0]} avg@{k}"
        row[label] = None if value is None else 100.0 * value
    present = [v for v in row.values() if v is not None]
    average = sum(present) / len(present) if present else None
    return {"columns": row, "average": average, "complete": len(present) == len(PAPER_COLUMNS)}


def fmt_pct(value: float | None) -> str:
    """A fraction as a percentage with one decimal, ``-`` when missing."""
    return (
        "-"
        if value is None or (isinstance(value, float) and math.isnan(value))
        else f"{100 * value:.1f}"
    )

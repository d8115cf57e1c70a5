"""The tables of an evaluation: per-benchmark metrics, ``summary.json`` and a markdown ``results.md``.

Why recomputed from sample records: the sample files are the source of truth; a summary made
from them is identical whether a run finished in one go or was resumed five times.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from srlkit.evaluation.benchmarks import LoadedBenchmark, Problem
from srlkit.evaluation.metrics import (
    accuracy,
    avg_at_k,
    default_pass_ks,
    fmt_pct,
    mean_pass_at_k,
    paper_table,
    usage_stats,
)
from srlkit.io import atomic_write, write_json


def _mode_summary(records: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "n_samples": len(records),
        "ungradable": sum(1 for r in records if r.get("correct") is None),
        "truncated": sum(1 for r in records if r.get("finish_reason") == "length"),
        **usage_stats(
            [int(r["num_tokens"]) for r in records], [int(r["num_words"]) for r in records]
        ),
    }


def summarize_benchmark(
    loaded: LoadedBenchmark,
    problems: list[Problem],
    records: Iterable[dict[str, Any]],
    k: int | None,
    greedy: bool,
) -> dict[str, Any]:
    """Metrics of one benchmark from its sample records, restricted to ``problems`` and ``k``.

    ``greedy.accuracy`` is over the problems with a greedy answer; ``sampled.avg`` is avg@k
    (mean over problems of per-problem accuracy); ``sampled.pass@k`` uses the unbiased estimator
    for every reported k up to the samples each problem has.
    """
    wanted = {p.id for p in problems}
    greedy_recs: list[dict[str, Any]] = []
    by_problem: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in records:
        if r["problem_id"] not in wanted:
            continue
        if r["mode"] == "greedy" and greedy:
            greedy_recs.append(r)
        elif r["mode"] == "sample" and k is not None and int(r["sample_index"]) < k:
            by_problem[r["problem_id"]].append(r)
    summary: dict[str, Any] = {
        "source": loaded.source,
        "rows_read": loaded.rows_read,
        "dropped": loaded.dropped,
        "repaired_problems": loaded.repaired,
        "n_problems": len(problems),
    }
    if greedy:
        summary["greedy"] = {
            "accuracy": accuracy(r.get("correct") for r in greedy_recs),
            **_mode_summary(greedy_recs),
        }
    if k is not None:
        flat = [r for rs in by_problem.values() for r in rs]
        counts = [
            (len(rs), sum(1 for r in rs if r.get("correct") is True)) for rs in by_problem.values()
        ]
        summary["sampled"] = {
            "k": k,
            "complete": len(by_problem) == len(problems) and all(n == k for n, _ in counts),
            "avg": avg_at_k([[r.get("correct") for r in rs] for rs in by_problem.values()]),
            "pass@k": {str(kk): mean_pass_at_k(counts, kk) for kk in default_pass_ks(k)},
            **_mode_summary(flat),
        }
    return summary


def markdown_report(model: str, summaries: dict[str, dict[str, Any]], table: dict[str, Any]) -> str:
    """Two markdown tables: one row per benchmark, and the paper's 7-number row with its Average."""
    lines = [f"# Evaluation of `{model}`", ""]
    lines += [
        "| benchmark | problems | greedy | avg@k | pass@k (largest k) | mean tokens | median tokens | mean words |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, s in summaries.items():
        g, smp = s.get("greedy") or {}, s.get("sampled") or {}
        usage = g if g else smp
        avg = f"{fmt_pct(smp.get('avg'))} (k={smp['k']})" if smp else "-"
        passes = smp.get("pass@k") or {}
        top = max(passes, key=int) if passes else None
        pass_cell = f"{fmt_pct(passes[top])} (k={top})" if top else "-"
        mean_t, med_t, mean_w = (
            usage.get(f) for f in ("mean_tokens", "median_tokens", "mean_words")
        )
        lines.append(
            f"| {name} | {s['n_problems']} | {fmt_pct(g.get('accuracy')) if g else '-'} | {avg} | {pass_cell} "
            f"| {_num(mean_t)} | {_num(med_t)} | {_num(mean_w)} |"
        )
    lines += [
        "",
        "Tokens and words are those of the greedy answers (of the samples when there are none).",
    ]
    cols = table["columns"]
    lines += ["", "Paper table (percent; Average = mean of the numbers present):", ""]
    lines.append("| " + " | ".join([*cols, "Average"]) + " |")
    lines.append("|" + "---|" * (len(cols) + 1))
    cells = ["-" if v is None else f"{v:.1f}" for v in cols.values()]
    avg = (
        "-"
        if table["average"] is None
        else f"{table['average']:.1f}" + ("" if table["complete"] else "*")
    )
    lines.append("| " + " | ".join([*cells, avg]) + " |")
    if not table["complete"]:
        lines += [
            "",
            "\\* not all seven numbers were measured, so this Average is not comparable with the paper's.",
        ]
    return "\n".join(lines) + "\n"


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def write_reports(
    out: Path,
    model: str,
    summaries: dict[str, dict[str, Any]],
    settings: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Write ``summary.json`` and ``results.md`` under ``out`` (atomically); returns the summary."""
    table = paper_table(summaries)
    summary = {
        "model": model,
        "settings": settings or {},
        "benchmarks": summaries,
        "paper_table": table,
    }
    write_json(out / "summary.json", summary)
    with atomic_write(out / "results.md") as f:
        f.write(markdown_report(model, summaries, table))
    return summary


def comparison_table(runs: dict[str, dict[str, Any]]) -> str:
    """The paper's table with one row per run (``label -> summary.json``), plus mean tokens.

    The token column is the mean length of the greedy answers over all benchmarks of the run,
    the quantity behind the paper's claim that SRL does not lengthen outputs.
    """
    tables = {
        label: s.get("paper_table") or paper_table(s.get("benchmarks", {}))
        for label, s in runs.items()
    }
    columns: list[str] = []
    for table in tables.values():
        columns += [c for c in table["columns"] if c not in columns]
    lines = ["| run | " + " | ".join([*columns, "Average", "mean tokens (greedy)"]) + " |"]
    lines.append("|" + "---|" * (len(columns) + 3))
    for label, table in tables.items():
        cells = [table["columns"].get(c) for c in columns]
        avg = (
            "-"
            if table["average"] is None
            else f"{table['average']:.1f}" + ("" if table["complete"] else "*")
        )
        lengths = [
            (g["mean_tokens"], g["n_samples"])
            for b in runs[label].get("benchmarks", {}).values()
            if (g := b.get("greedy")) and g.get("mean_tokens") is not None
        ]
        n = sum(k for _, k in lengths)
        tokens = _num(sum(m * k for m, k in lengths) / n) if n else "-"
        lines.append(f"| {label} | " + " | ".join([*(_num(c) for c in cells), avg, tokens]) + " |")
    return "\n".join(lines) + "\n"

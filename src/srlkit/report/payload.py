"""The data a report page embeds: plot figures, tables, and the rollout and sample browsers' rows.

Why the matching blocks are computed here, in Python, and not in the browser: they must be
exactly the blocks the reward counted. :func:`srlkit.rewards.similarity.matching_blocks` runs
difflib's matcher with the reward's own ``autojunk`` on the very strings the reward compared
(parsed action and target, canonicalised for agent steps, as stored in ``rollouts.jsonl``), so
``2 * matched / total`` shown beside each rollout is its similarity reward.
"""

from __future__ import annotations

import logging
from typing import Any

from srlkit.report import figures
from srlkit.report.comparison import comparison_rows, reading
from srlkit.report.runs import KIND_DEMO, KIND_EVAL, Run
from srlkit.rewards.similarity import matching_blocks

logger = logging.getLogger(__name__)


def _spread(items: list[Any], limit: int) -> list[Any]:
    """At most ``limit`` items evenly spread over ``items`` (first and last kept)."""
    if limit <= 0 or len(items) <= limit:
        return items
    if limit == 1:
        return [items[-1]]
    return [items[round(i * (len(items) - 1) / (limit - 1))] for i in range(limit)]


def rollout_row(rollout: dict[str, Any], matcher: dict[str, Any] | None) -> dict[str, Any]:
    """One rollout for the browser, with the matching blocks of what the reward compared."""
    row = {
        "completion": rollout.get("completion", ""),
        "action": rollout.get("action", ""),
        "ok": rollout.get("format_ok"),
        "why": rollout.get("format_reason"),
        "reward": rollout.get("reward"),
        "parts": rollout.get("rewards") or {},
    }
    compared = rollout.get("compared")
    if compared and (matcher or {}).get("metric", "sequence_matcher") == "sequence_matcher":
        pred, ref = compared["prediction"], compared["reference"]
        row["pred"], row["ref"] = pred, ref
        row["blocks"] = matching_blocks(pred, ref, bool((matcher or {}).get("autojunk", False)))
    if "extracted" in rollout:
        row["extracted"] = rollout["extracted"]
    return row


def rollout_groups(runs: list[Run], max_rollouts: int) -> tuple[list[dict[str, Any]], int]:
    """Groups of every run for the browser (evenly thinned to ``max_rollouts``), and the total."""
    flat = [(k, g) for k, run in enumerate(runs) for g in run.groups]
    total = sum(len(g.get("rollouts", [])) for _, g in flat)
    per_group = max(1, total // max(1, len(flat)))
    chosen = _spread(flat, max_rollouts // per_group) if total > max_rollouts else flat
    out = []
    for k, g in chosen:
        out.append(
            {
                "run": k,
                "split": g.get("split", "train"),
                "step": g.get("step"),
                "round": g.get("round", 0),
                "group": g.get("group"),
                "kept": g.get("kept"),
                "std": g.get("reward_std"),
                "mean": g.get("reward_mean"),
                "prompt": g.get("prompt", ""),
                "target": g.get("target"),
                "answer": g.get("answer"),
                "rollouts": [rollout_row(r, g.get("matcher")) for r in g.get("rollouts", [])],
            }
        )
    return out, total


SAMPLE_FIELDS = (
    "benchmark",
    "problem_id",
    "mode",
    "sample_index",
    "extracted",
    "gold",
    "correct",
    "reason",
)


def sample_rows(runs: list[Run], max_samples: int) -> tuple[list[dict[str, Any]], int]:
    """Evaluation samples of every run (evenly thinned to ``max_samples``), and the total."""
    flat = [(k, s) for k, run in enumerate(runs) for s in run.samples]
    out = []
    for k, s in _spread(flat, max_samples):
        row = {f: s.get(f) for f in SAMPLE_FIELDS}
        row.update(
            run=k,
            prompt=str(s.get("prompt", ""))[-4000:],
            completion=str(s.get("completion", "")),
            tokens=s.get("num_tokens"),
        )
        out.append(row)
    return out, len(flat)


def eval_table(runs: list[Run]) -> list[dict[str, Any]]:
    """Per run and benchmark: problems, greedy, avg@k, pass@k (largest k) and mean tokens."""
    rows = []
    for k, run in enumerate(runs):
        if run.kind != KIND_EVAL:
            continue
        for name, bench in (run.summary or {}).get("benchmarks", {}).items():
            greedy, sampled = bench.get("greedy") or {}, bench.get("sampled") or {}
            passes = sampled.get("pass@k") or {}
            top = max(passes, key=int) if passes else None
            usage = greedy or sampled
            rows.append(
                {
                    "run": k,
                    "benchmark": name,
                    "problems": bench.get("n_problems"),
                    "greedy": greedy.get("accuracy"),
                    "avg": sampled.get("avg"),
                    "k": sampled.get("k"),
                    "pass": passes.get(top) if top else None,
                    "pass_k": top,
                    "mean_tokens": usage.get("mean_tokens"),
                }
            )
    return rows


def demo_table(runs: list[Run]) -> list[dict[str, Any]]:
    return [
        {"run": k, "metric": name, "values": values}
        for k, run in enumerate(runs)
        if run.kind == KIND_DEMO and run.summary
        for name, values in comparison_rows(run.summary)
    ]


def demo_reading(runs: list[Run]) -> list[dict[str, Any]]:
    """Each demo run's comparison in plain words, as its results file states it."""
    return [
        {"run": k, "lines": reading(run.summary)}
        for k, run in enumerate(runs)
        if run.kind == KIND_DEMO and run.summary
    ]


def build_payload(
    runs: list[Run], title: str, max_rollouts: int, max_samples: int
) -> dict[str, Any]:
    """Everything the page shows, as one JSON-able mapping."""
    groups, total_rollouts = rollout_groups(runs, max_rollouts)
    samples, total_samples = sample_rows(runs, max_samples)
    figs = figures.training_figures(runs)
    extra = [figures.eval_figure(runs)] + [figures.demo_figure(r) for r in runs]
    return {
        "title": title,
        "runs": [
            {
                "label": r.label,
                "kind": r.kind,
                "path": str(r.path),
                "skipped_lines": r.skipped_lines,
                "best": r.best,
            }
            for r in runs
        ],
        "training_figures": figs,
        "result_figures": [{"id": f"results-{i}", "figure": f} for i, f in enumerate(extra) if f],
        "eval_table": eval_table(runs),
        "demo_table": demo_table(runs),
        "demo_reading": demo_reading(runs),
        "groups": groups,
        "total_rollouts": total_rollouts,
        "samples": samples,
        "total_samples": total_samples,
    }

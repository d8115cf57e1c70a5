"""The data a report page embeds: plot figures, tables, and the rollout and sample browsers' rows.

Why the matching blocks are computed here, in Python, and not in the browser: they must be
exactly the blocks the reward counted. :func:`srlkit.rewards.similarity.matching_blocks` runs
difflib's matcher with the reward's own ``autojunk`` on the very strings the reward compared
(parsed action and target, canonicalised for agent steps, as stored in ``rollouts.jsonl``), so
``2 * matched / total`` shown beside each rollout is its similarity reward. The blocks are found
under the reward's own work budget: a pair the reward found over budget (and scored 0.0) is
shown as such, and costs the page no more work than it cost the reward.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from srlkit.report import figures
from srlkit.report.comparison import comparison_rows, reading
from srlkit.report.figures import number
from srlkit.report.loop_figure import loop_figure
from srlkit.report.runs import KIND_DEMO, KIND_EVAL, KIND_LOOP, KIND_STEPS, Run, demo_results
from srlkit.rewards.similarity import matching_blocks
from srlkit.rewards.srl import DEFAULT_MAX_STEPS

logger = logging.getLogger(__name__)


def _spread(items: list[Any], limit: int) -> list[Any]:
    """At most ``limit`` items evenly spread over ``items`` (first and last kept)."""
    if limit <= 0 or len(items) <= limit:
        return items
    if limit == 1:
        return [items[-1]]
    return [items[round(i * (len(items) - 1) / (limit - 1))] for i in range(limit)]


def text(value: Any) -> str:
    """A value the page shows as text: strings as they are, None as "", anything else as JSON."""
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    try:
        return json.dumps(value, ensure_ascii=False, default=str)[:10_000]
    except (ValueError, RecursionError):
        return repr(value)[:10_000]


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def rollout_row(rollout: dict[str, Any], matcher: dict[str, Any] | None) -> dict[str, Any]:
    """One rollout for the browser, with the matching blocks of what the reward compared."""
    row = {
        "completion": text(rollout.get("completion")),
        "action": text(rollout.get("action")),
        "ok": rollout.get("format_ok") is True,
        "why": None if rollout.get("format_reason") is None else text(rollout["format_reason"]),
        "reward": number(rollout.get("reward")),
        "parts": {text(k): number(v) for k, v in _object(rollout.get("rewards")).items()},
    }
    compared = rollout.get("compared")
    matcher = matcher if isinstance(matcher, dict) else {}
    if (
        isinstance(compared, dict)
        and matcher.get("metric", "sequence_matcher") == "sequence_matcher"
    ):
        pred, ref = compared.get("prediction"), compared.get("reference")
        if isinstance(pred, str) and isinstance(ref, str):
            row["pred"], row["ref"] = pred, ref
            # The reward's own budget (logged with the run; older runs used the default).
            budget = matcher.get("max_steps", DEFAULT_MAX_STEPS)
            budget = budget if type(budget) is int and budget >= 0 else DEFAULT_MAX_STEPS
            blocks = matching_blocks(pred, ref, matcher.get("autojunk") is True, budget)
            row["blocks"] = blocks if blocks is not None else []
            row["over_budget"] = blocks is None
    if "not_compared" in rollout:
        row["not_compared"] = text(rollout["not_compared"])
    if "extracted" in rollout:
        row["extracted"] = None if rollout["extracted"] is None else text(rollout["extracted"])
    return row


def _largest_cap(sizes: list[int], budget: int) -> int:
    """The largest ``c`` with ``sum(min(size, c)) <= budget`` (each group keeps up to ``c``).

    >>> _largest_cap([4, 200_000], 20_000)
    19996
    """
    lo, hi = 0, max(sizes, default=0)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if sum(min(n, mid) for n in sizes) <= budget:
            lo = mid
        else:
            hi = mid - 1
    return lo


def _optional_text(value: Any) -> str | None:
    return None if value is None else text(value)


def rollout_groups(runs: list[Run], max_rollouts: int) -> tuple[list[dict[str, Any]], int]:
    """Groups of every run for the browser, and the number of rollouts logged.

    Beyond ``max_rollouts``, groups evenly spread over the run are kept and, when even one
    group per kept step would be too many (a group larger than the limit), the rollouts of
    each kept group are thinned evenly too: the page never embeds more than the limit.
    """
    flat = [(k, g) for k, run in enumerate(runs) for g in run.groups]
    total = sum(len(g["rollouts"]) for _, g in flat)
    chosen, cap = flat, None
    if total > max_rollouts:
        sizes = sorted(max(1, len(g["rollouts"])) for _, g in flat)
        typical = sizes[(len(sizes) - 1) // 2]  # the median: one huge group does not move it
        count = min(len(flat), max(1, max_rollouts // typical)) if max_rollouts > 0 else 0
        chosen = _spread(flat, count) if count > 0 else []
        cap = _largest_cap([len(g["rollouts"]) for _, g in chosen], max_rollouts)
    out = []
    for k, g in chosen:
        rollouts = g["rollouts"] if cap is None else _spread(g["rollouts"], cap)
        out.append(
            {
                "run": k,
                "split": "eval" if g.get("split") == "eval" else "train",
                "step": g["step"] + runs[k].step_offset,
                "round": number(g.get("round")) or 0,
                "group": number(g.get("group")),
                "kept": g.get("kept") if isinstance(g.get("kept"), bool) else None,
                "std": number(g.get("reward_std")),
                "mean": number(g.get("reward_mean")),
                "prompt": text(g.get("prompt")),
                "target": _optional_text(g.get("target")),
                "answer": _optional_text(g.get("answer")),
                "rollouts": [rollout_row(r, g.get("matcher")) for r in rollouts],
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
    for k, s in _spread(flat, max_samples) if max_samples > 0 else []:
        row = {f: _optional_text(s.get(f)) for f in SAMPLE_FIELDS}
        row.update(
            run=k,
            sample_index=number(s.get("sample_index")),
            correct=s.get("correct") if isinstance(s.get("correct"), bool) else None,
            prompt=text(s.get("prompt"))[-4000:],
            completion=text(s.get("completion")),
            tokens=number(s.get("num_tokens")),
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
            greedy, sampled = _object(bench.get("greedy")), _object(bench.get("sampled"))
            passes = {
                int(key): value
                for key, value in _object(sampled.get("pass@k")).items()
                if key.isdigit() and len(key) < 10
            }
            top = max(passes) if passes else None
            usage = greedy or sampled
            rows.append(
                {
                    "run": k,
                    "benchmark": name,
                    "problems": number(bench.get("n_problems")),
                    "greedy": number(greedy.get("accuracy")),
                    "avg": number(sampled.get("avg")),
                    "k": number(sampled.get("k")),
                    "pass": number(passes.get(top)) if top else None,
                    "pass_k": top,
                    "mean_tokens": number(usage.get("mean_tokens")),
                }
            )
    return rows


STEP_FIELDS = (
    "n_instances",
    "mean_reward",
    "mean_similarity_formatted",
    "format_failure_rate",
    "exact_match_rate",
)


def steps_table(runs: list[Run]) -> list[dict[str, Any]]:
    """Per ``srl eval-steps`` run: instances, mean step reward, similarity when well formatted,
    format-failure and exact-step rates (its summary.json)."""
    return [
        {"run": k, **{f: number(_object(run.summary).get(f)) for f in STEP_FIELDS}}
        for k, run in enumerate(runs)
        if run.kind == KIND_STEPS
    ]


def demo_table(runs: list[Run]) -> list[dict[str, Any]]:
    return [
        {"run": k, "metric": text(name), "values": {text(m): number(v) for m, v in values.items()}}
        for k, run in enumerate(runs)
        if run.kind == KIND_DEMO and run.summary
        for name, values in demo_results(run, comparison_rows)
    ]


def demo_reading(runs: list[Run]) -> list[dict[str, Any]]:
    """Each demo run's comparison in plain words, as its results file states it."""
    return [
        {"run": k, "lines": [text(line) for line in demo_results(run, reading)]}
        for k, run in enumerate(runs)
        if run.kind == KIND_DEMO and run.summary
    ]


def _failures(failed: dict[str, Any]) -> tuple[float | None, str]:
    """Process-check failures: their total and "reason n, ..." (numbers of another type left out)."""
    counts = {text(k): n for k, v in failed.items() if (n := number(v)) is not None}
    why = ", ".join(f"{k} {n:g}" for k, n in counts.items())
    return (sum(counts.values()) if counts else None), why


def loop_row(record: dict[str, Any]) -> dict[str, Any]:
    """One round of ``loop.json`` as the table shows it (round 0 samples nothing: None)."""
    check = _object(record.get("verification"))
    failed, why = _failures(_object(check.get("process_failed")))
    scores = _object(record.get("eval"))
    return {
        "round": number(record.get("round")),
        "sampled_from": _optional_text(record.get("sampled_from")),
        "unsolved_before": number(record.get("unsolved_before")),
        "samples_asked": number(record.get("samples_asked")),
        "outcome_verified": number(check.get("outcome_verified")),
        "renumbered": number(check.get("renumbered")),
        "process_failed": None
        if not check or check.get("process_checked") is False
        else failed or 0,
        "process_failed_why": why,
        "wrongly_let_in": number(check.get("outcome_only_wrongly_let_in")),
        "new_entries": number(record.get("new_entries")),
        "newly_solved": number(record.get("newly_solved")),
        "solved": number(record.get("solved_problems")),
        "pool": number(record.get("pool_size")),
        "instances": number(record.get("instances")),
        "instances_added": number(record.get("instances_added")),
        "accuracy": number(scores.get("accuracy")),
        "exact_step": number(scores.get("exact_step")),
    }


def _count(value: Any) -> str:
    n = number(value)
    return "-" if n is None else f"{n:g}"


def loop_totals(summary: dict[str, Any]) -> list[list[str]]:
    """What the loop's filters did over all rounds, its rollouts and its comparisons, as
    (what, how many) lines."""
    filters, rollouts = _object(summary.get("filters")), _object(summary.get("rollouts"))
    failed, why = _failures(_object(filters.get("process_failed")))
    wrongly = filters.get("outcome_only_wrongly_let_in")
    lines = [
        ["problems", _count(summary.get("problems"))],
        ["sampled solutions with the right answer (outcome-verified)",
         _count(filters.get("outcome_verified"))],
        ["... that failed the process check", _count(failed or 0) + (f" ({why})" if why else "")],
        ["... that an outcome-only filter would have let in with a wrong chain",
         "- (no process check)" if wrongly is None else _count(wrongly)],
        ["... kept in the pool", _count(filters.get("kept"))],
        ["rollouts sampled to solve problems", _count(rollouts.get("sampled"))],
        ["rollouts in SRL training", _count(rollouts.get("training"))],
    ]  # fmt: skip
    for name, comparison in _object(summary.get("comparisons")).items():
        accuracy = number(comparison.get("accuracy"))
        lines.append(
            [
                f"comparison: {text(name)}",
                ("-" if accuracy is None else f"{100 * accuracy:.1f}% accuracy")
                + f", {_count(comparison.get('steps'))} steps, "
                f"{_count(comparison.get('rollouts_generated'))} rollouts",
            ]
        )
    return lines


def loop_sections(runs: list[Run]) -> list[dict[str, Any]]:
    """Each ``srl loop`` run: its figure, its rounds, its filters' totals and its reading."""
    sections = []
    for k, run in enumerate(runs):
        if run.kind != KIND_LOOP or not run.summary:
            continue
        figure = loop_figure(run)
        sections.append(
            {
                "run": k,
                "figure": figure and {"id": f"loop-{k}", "figure": figure},
                "rounds": [loop_row(r) for r in run.summary.get("rounds") or []],
                "totals": loop_totals(run.summary),
                "reading": [text(line) for line in run.summary.get("reading") or []],
            }
        )
    return sections


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
                "best": None
                if r.best is None
                else {
                    "step": r.best["step"] + r.step_offset,
                    "metric": _optional_text(r.best.get("metric")),
                    "value": number(r.best.get("value")),
                },
            }
            for r in runs
        ],
        "training_figures": figs,
        "result_figures": [{"id": f"results-{i}", "figure": f} for i, f in enumerate(extra) if f],
        "eval_table": eval_table(runs),
        "steps_table": steps_table(runs),
        "demo_table": demo_table(runs),
        "demo_reading": demo_reading(runs),
        "loops": loop_sections(runs),
        "groups": groups,
        "total_rollouts": total_rollouts,
        "samples": samples,
        "total_samples": total_samples,
    }

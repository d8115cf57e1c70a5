"""The report's plots, built with plotly and embedded as JSON figures (drawn by plotly.js inline).

Why plotly: one library gives interactive curves (zoom, hover, legend toggling to compare runs)
that render offline from a figure description; axes lay their tick labels out themselves, so
long labels never overlap. Every figure overlays all runs that logged the metric.
"""

from __future__ import annotations

import math
from typing import Any

from srlkit.report.runs import KIND_DEMO, KIND_EVAL, Run, demo_results

PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b")

# (title, y-axis title, metrics.jsonl key, spread key or None)
REWARD_CURVES: tuple[tuple[str, str, str, str | None], ...] = (
    ("Step reward (mean and spread of the rollouts)", "reward", "reward", "reward_std"),
    ("Outcome reward (mean and spread of the rollouts)", "reward", "reward", "reward_std"),
)
TRAIN_CURVES: tuple[tuple[str, str, str, str | None], ...] = (
    (
        "Dynamic sampling: kept fraction of prompt groups",
        "kept / generated",
        "dynamic_sampling/kept_fraction",
        None,
    ),
    ("Generation rounds per step", "rounds", "dynamic_sampling/generation_rounds", None),
    ("Loss", "loss", "loss", None),
    ("Completion length", "tokens", "completions/mean_length", None),
)
VALIDATION_PREFIX = "eval_"
VALIDATION_SKIP = (
    "eval_runtime",
    "eval_samples_per_second",
    "eval_steps_per_second",
    "eval_num_tokens",
)


OUTCOME_REWARDS = ("outcome", "outcome_reward")  # names TRL logs for the 0/1 answer reward
STEP_REWARDS = ("srl_step", "srl_step_reward")  # ... and for the step similarity


def plain(text: Any) -> str:
    """``text`` as plotly shows it literally: plotly reads ``<a href>``, ``<b>``, ``<br>`` in
    titles, names and labels as markup, and shows ``&lt;`` as ``<``.

    >>> plain("<a href='x'>eval</a> & more")
    "&lt;a href='x'&gt;eval&lt;/a&gt; &amp; more"
    """
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def is_outcome_run(run: Run) -> bool:
    """Whether a run's ``reward`` is led by an outcome reward (0/1), not the step similarity:
    TRL logs each reward function as ``rewards/<name>/mean``; a run that logs an outcome reward
    and no step reward (an RLVR stage, with or without a format reward) is an outcome run."""
    names = {
        key.split("/")[1]
        for h in run.history
        for key in h
        if isinstance(key, str) and key.startswith("rewards/") and "/" in key[8:]
    }
    return bool(names & set(OUTCOME_REWARDS)) and not names & set(STEP_REWARDS)


def rgba(color: str, alpha: float) -> str:
    r, g, b = (int(color[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def number(value: Any) -> float | None:
    """A value the page computes with: a finite int or float (not a bool), else None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        return float(value) if math.isfinite(value) else None
    except OverflowError:  # an integer beyond any float
        return None


def series(
    history: list[dict[str, Any]], key: str, offset: int = 0
) -> tuple[list[int], list[float]]:
    """(steps, values) of one metric; lines that lack it or hold no number are skipped.

    Steps are those :mod:`srlkit.report.runs` checked to be whole numbers, plus ``offset``
    (a pipeline stage's steps count on from the stages before it).
    """
    points = [
        (h.get("step", i + 1) + offset, number(h.get(key)))
        for i, h in enumerate(history)
        if key in h
    ]
    points = [(s, v) for s, v in points if v is not None]
    return [p[0] for p in points], [p[1] for p in points]


def base_layout(title: str, xtitle: str, ytitle: str) -> dict[str, Any]:
    return {
        "title": {"text": plain(title), "font": {"size": 14}},
        "xaxis": {"title": {"text": plain(xtitle)}, "automargin": True},
        "autosize": True,
        "yaxis": {"title": {"text": plain(ytitle)}, "automargin": True},
        "height": 340,
        "margin": {"l": 70, "r": 20, "t": 70, "b": 60},
        # Above the plot: below it, a legend covers the x-axis title.
        "legend": {"orientation": "h", "x": 0, "y": 1.02, "yanchor": "bottom"},
        "hovermode": "x unified",
    }


def step_ticks(last_step: int) -> dict[str, Any]:
    """Whole-number ticks about 10 apart at most: plotly's own ticks on a short run fall on
    halves, which ``tickformat: d`` printed as "2 3 3 4 4".

    >>> step_ticks(4), step_ticks(120)["dtick"]
    ({'tickmode': 'linear', 'tick0': 0, 'dtick': 1}, 20)
    """
    raw = max(1, last_step) / 8
    dtick = next(d * 10**e for e in range(16) for d in (1, 2, 5) if d * 10**e >= raw)
    return {"tickmode": "linear", "tick0": 0, "dtick": dtick}


def _best_marker(runs: list[Run], layout: dict[str, Any]) -> None:
    """A dashed vertical line at each run's best validation checkpoint."""
    shapes, notes = [], []
    for k, run in enumerate(runs):
        step = (run.best or {}).get("step")
        if step is None:
            continue
        step += run.step_offset
        color = PALETTE[k % len(PALETTE)]
        shapes.append(
            {
                "type": "line",
                "xref": "x",
                "yref": "paper",
                "x0": step,
                "x1": step,
                "y0": 0,
                "y1": 1,
                "line": {"dash": "dash", "color": color, "width": 1.5},
            }
        )
        notes.append(
            {
                "x": step,
                "y": 1 - 0.09 * len(notes),
                "xref": "x",
                "yref": "paper",
                "showarrow": False,
                "xanchor": "right",
                "text": plain(f"best ({run.label}, step {step})"),
                "font": {"color": color, "size": 10},
                "yanchor": "bottom",
            }
        )
    if shapes:
        layout["shapes"], layout["annotations"] = shapes, notes


def curve_figure(
    runs: list[Run], title: str, ytitle: str, key: str, spread: str | None
) -> dict[str, Any] | None:
    """One metric over training steps for every run that logged it (None when none did)."""
    traces = []
    last = 0
    for k, run in enumerate(runs):
        steps, values = series(run.history, key, run.step_offset)
        if not steps:
            continue
        last = max(last, *steps)
        color = PALETTE[k % len(PALETTE)]
        name = plain(curve_name(run, len(runs)))
        if spread is not None:
            s_steps, s_values = series(run.history, spread, run.step_offset)
            by_step = dict(zip(s_steps, s_values))
            band = [(s, v, by_step[s]) for s, v in zip(steps, values) if s in by_step]
            if band:
                xs = [s for s, _, _ in band] + [s for s, _, _ in reversed(band)]
                ys = [v + d for _, v, d in band] + [v - d for _, v, d in reversed(band)]
                traces.append(
                    {
                        "type": "scatter",
                        "mode": "lines",
                        "x": xs,
                        "y": ys,
                        "fill": "toself",
                        "fillcolor": rgba(color, 0.15),
                        "line": {"width": 0},
                        "name": f"{name}: mean ± std",
                        "hoverinfo": "skip",
                    }
                )
        traces.append(
            {
                "type": "scatter",
                "mode": "lines+markers",
                "x": steps,
                "y": values,
                "name": name,
                "line": {"color": color},
                "marker": {"size": 4},
            }
        )
    if not traces:
        return None
    xtitle = "training step" + (
        " (pipeline stages one after another)" if any(r.step_offset for r in runs) else ""
    )
    layout = base_layout(title, xtitle, ytitle)
    layout["xaxis"].update(step_ticks(last))
    _best_marker(runs, layout)
    return {"data": traces, "layout": layout}


def curve_name(run: Run, n_runs: int) -> str:
    """A curve's legend entry: the run's label, or the method when the label is only the
    folder of a demo ("demo"), and both when several runs share the page."""
    if run.method is None:
        return run.label
    return run.method if n_runs == 1 else f"{run.label}: {run.method}"


def validation_keys(runs: list[Run]) -> list[str]:
    keys: list[str] = []
    for run in runs:
        for h in run.history:
            for key, value in h.items():
                if (
                    key.startswith(VALIDATION_PREFIX)
                    and key not in VALIDATION_SKIP
                    and number(value) is not None
                    and key not in keys
                ):
                    keys.append(key)
    main = [k for k in keys if k in ("eval_reward", "eval_loss")]
    return main + [k for k in keys if k not in main]


def training_figures(runs: list[Run]) -> list[dict[str, Any]]:
    """Curves of every training metric the runs logged, then their validation metrics."""
    runs = [r for r in runs if r.history]
    figures = []
    # The step similarity (-1..1 with the format penalty) and an outcome reward (0/1) are
    # different quantities: each gets its own panel (an SRL -> RLVR pipeline has both).
    by_kind = ([r for r in runs if not is_outcome_run(r)], [r for r in runs if is_outcome_run(r)])
    for (title, ytitle, key, spread), group, fid in zip(
        REWARD_CURVES, by_kind, ("reward", "outcome_reward")
    ):
        fig = curve_figure(group, title, ytitle, key, spread) if group else None
        if fig is not None:
            figures.append({"id": fid, "figure": fig})
    for title, ytitle, key, spread in TRAIN_CURVES:
        fig = curve_figure(runs, title, ytitle, key, spread)
        if fig is not None:
            figures.append({"id": key, "figure": fig})
    for key in validation_keys(runs):
        fig = curve_figure(runs, f"Validation: {key[len(VALIDATION_PREFIX) :]}", key, key, None)
        if fig is not None:
            figures.append({"id": key, "figure": fig})
    return figures


def eval_figure(runs: list[Run]) -> dict[str, Any] | None:
    """Greedy accuracy per benchmark, one bar per evaluation run."""
    traces = []
    for k, run in enumerate(r for r in runs if r.kind == KIND_EVAL):
        names, values = [], []
        for name, bench in (run.summary or {}).get("benchmarks", {}).items():
            greedy = bench.get("greedy")
            acc = number(greedy.get("accuracy")) if isinstance(greedy, dict) else None
            if acc is not None:
                names.append(name)
                values.append(100 * acc)
        if names:
            traces.append(
                {
                    "type": "bar",
                    "x": [plain(n) for n in names],
                    "y": values,
                    "name": plain(run.label),
                    "marker": {"color": PALETTE[k % len(PALETTE)]},
                    "texttemplate": "%{y:.1f}",
                    "textposition": "outside",
                    "cliponaxis": False,
                }
            )
    if not traces:
        return None
    layout = base_layout("Greedy accuracy per benchmark", "benchmark", "accuracy (%)")
    _bar_layout(layout, len(traces))
    return {"data": traces, "layout": layout}


def _bar_layout(layout: dict[str, Any], n_traces: int) -> None:
    """Grouped bars whose value labels fit: horizontal labels, hidden (not overlapped) where a
    bar is too narrow, room above the tallest bar, and x labels wrapped by plotly's margins."""
    layout.update(
        barmode="group",
        hovermode="closest",
        bargap=0.25,
        uniformtext={"minsize": 9, "mode": "hide"},
    )
    layout["xaxis"]["tickangle"] = 0 if n_traces <= 4 else -30


def demo_figure(run: Run) -> dict[str, Any] | None:
    """The demo's methods on its held-out hard problems (grouped bars, one group per metric)."""
    from srlkit.report.comparison import comparison_rows

    if run.kind != KIND_DEMO or not run.summary:
        return None
    rows = demo_results(run, comparison_rows)
    if not rows:
        return None
    methods = list(dict.fromkeys(label for _, values in rows for label in values))
    traces = [
        {
            "type": "bar",
            "x": [plain(name) for name, _ in rows],
            "y": [values.get(label) for _, values in rows],
            "name": plain(label),
            "marker": {"color": PALETTE[i % len(PALETTE)]},
            "texttemplate": "%{y:.2f}",
            "textposition": "outside",
            "textangle": 0,
            "cliponaxis": False,
        }
        for i, label in enumerate(methods)
    ]
    layout = base_layout(f"{run.label}: the methods on held-out hard problems", "metric", "value")
    _bar_layout(layout, len(traces))
    layout["yaxis"]["range"] = [0, 1.15]
    return {"data": traces, "layout": layout}

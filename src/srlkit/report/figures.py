"""The report's plots, built with plotly and embedded as JSON figures (drawn by plotly.js inline).

Why plotly: one library gives interactive curves (zoom, hover, legend toggling to compare runs)
that render offline from a figure description; axes lay their tick labels out themselves, so
long labels never overlap. Every figure overlays all runs that logged the metric.
"""

from __future__ import annotations

import math
from typing import Any

from srlkit.report.runs import KIND_DEMO, KIND_EVAL, Run

PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b")

# (title, y-axis title, metrics.jsonl key, spread key or None)
TRAIN_CURVES: tuple[tuple[str, str, str, str | None], ...] = (
    ("Step reward (mean and spread of the rollouts)", "reward", "reward", "reward_std"),
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


def _rgba(color: str, alpha: float) -> str:
    r, g, b = (int(color[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def series(history: list[dict[str, Any]], key: str) -> tuple[list[int], list[float]]:
    """(steps, values) of one metric; lines that lack it or hold no number are skipped."""
    points = [
        (int(h.get("step", i + 1)), _number(h.get(key))) for i, h in enumerate(history) if key in h
    ]
    points = [(s, v) for s, v in points if v is not None]
    return [p[0] for p in points], [p[1] for p in points]


def _layout(title: str, xtitle: str, ytitle: str) -> dict[str, Any]:
    return {
        "title": {"text": title, "font": {"size": 14}},
        "xaxis": {"title": {"text": xtitle}, "automargin": True},
        "autosize": True,
        "yaxis": {"title": {"text": ytitle}, "automargin": True},
        "height": 320,
        "margin": {"l": 60, "r": 20, "t": 40, "b": 50},
        "legend": {"orientation": "h", "y": -0.25},
        "hovermode": "x unified",
    }


def _best_marker(runs: list[Run], layout: dict[str, Any]) -> None:
    """A dashed vertical line at each run's best validation checkpoint."""
    shapes, notes = [], []
    for k, run in enumerate(runs):
        step = (run.best or {}).get("step")
        if step is None:
            continue
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
                "text": f"best ({run.label}, step {step})",
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
    for k, run in enumerate(runs):
        steps, values = series(run.history, key)
        if not steps:
            continue
        color = PALETTE[k % len(PALETTE)]
        if spread is not None:
            s_steps, s_values = series(run.history, spread)
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
                        "fillcolor": _rgba(color, 0.15),
                        "line": {"width": 0},
                        "name": f"{run.label}: mean ± std",
                        "hoverinfo": "skip",
                    }
                )
        traces.append(
            {
                "type": "scatter",
                "mode": "lines+markers",
                "x": steps,
                "y": values,
                "name": run.label,
                "line": {"color": color},
                "marker": {"size": 4},
            }
        )
    if not traces:
        return None
    layout = _layout(title, "training step", ytitle)
    layout["xaxis"]["tickformat"] = "d"  # steps are whole numbers
    _best_marker(runs, layout)
    return {"data": traces, "layout": layout}


def validation_keys(runs: list[Run]) -> list[str]:
    keys: list[str] = []
    for run in runs:
        for h in run.history:
            for key, value in h.items():
                if (
                    key.startswith(VALIDATION_PREFIX)
                    and key not in VALIDATION_SKIP
                    and _number(value) is not None
                    and key not in keys
                ):
                    keys.append(key)
    main = [k for k in keys if k in ("eval_reward", "eval_loss")]
    return main + [k for k in keys if k not in main]


def training_figures(runs: list[Run]) -> list[dict[str, Any]]:
    """Curves of every training metric the runs logged, then their validation metrics."""
    runs = [r for r in runs if r.history]
    figures = []
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
            acc = _number(((bench or {}).get("greedy") or {}).get("accuracy"))
            if acc is not None:
                names.append(name)
                values.append(100 * acc)
        if names:
            traces.append(
                {
                    "type": "bar",
                    "x": names,
                    "y": values,
                    "name": run.label,
                    "marker": {"color": PALETTE[k % len(PALETTE)]},
                    "texttemplate": "%{y:.1f}",
                    "textposition": "outside",
                }
            )
    if not traces:
        return None
    layout = _layout("Greedy accuracy per benchmark", "benchmark", "accuracy (%)")
    layout["barmode"] = "group"
    layout["hovermode"] = "closest"
    return {"data": traces, "layout": layout}


def demo_figure(run: Run) -> dict[str, Any] | None:
    """The demo's methods on its held-out hard problems (grouped bars, one group per metric)."""
    from srlkit.report.comparison import comparison_rows

    if run.kind != KIND_DEMO or not run.summary:
        return None
    rows = comparison_rows(run.summary)
    if not rows:
        return None
    methods = list(dict.fromkeys(label for _, values in rows for label in values))
    traces = [
        {
            "type": "bar",
            "x": [name for name, _ in rows],
            "y": [values.get(label) for _, values in rows],
            "name": label,
            "marker": {"color": PALETTE[i % len(PALETTE)]},
            "texttemplate": "%{y:.2f}",
            "textposition": "outside",
        }
        for i, label in enumerate(methods)
    ]
    layout = _layout(f"{run.label}: the methods on held-out hard problems", "metric", "value")
    layout.update(barmode="group", hovermode="closest")
    layout["yaxis"]["range"] = [0, 1.1]
    return {"data": traces, "layout": layout}

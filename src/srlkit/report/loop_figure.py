"""The figure of an ``srl loop`` folder: accuracy after each round over the pool that made it.

A figure of its own because it reads the loop's results file (``loop.json``), not metric lines
of runs: two axes (pool bars, accuracy line) and the comparisons as reference lines.
"""

from __future__ import annotations

from typing import Any

from srlkit.report.figures import PALETTE, base_layout, number, plain, rgba, step_ticks
from srlkit.report.runs import KIND_LOOP, Run

# Where a pool entry came from (srl loop), and its bars' colour (none of the comparisons').
POOL_SOURCES = {"expert": "#8c564b", "teacher": "#9467bd", "self": "#17becf"}


def _pool_traces(rounds: list[dict[str, Any]], xs: list[float]) -> list[dict[str, Any]]:
    """Pool size per round as bars stacked by source; sources never in the pool are left out,
    and a loop that recorded no sources gets one bar of its pool size."""
    pools = [r.get("pool") or {} for r in rounds]
    sources = list(POOL_SOURCES) + [s for p in pools for s in p if s not in POOL_SOURCES]
    stacks = [
        (f"pool: {s}", POOL_SOURCES.get(s, "#7f7f7f"), [number(p.get(s)) for p in pools])
        for s in dict.fromkeys(sources)
    ]
    stacks = [stack for stack in stacks if any(stack[2])]
    if not stacks:
        stacks = [("pool size", "#7f7f7f", [number(r.get("pool_size")) for r in rounds])]
    return [
        {
            "type": "bar",
            "x": xs,
            "y": values,
            "name": plain(name),
            "marker": {"color": rgba(colour, 0.45)},
            "yaxis": "y",
        }
        for name, colour, values in stacks
    ]


COMPARISON_COLOURS = ("#d62728", "#2ca02c", "#ff7f0e", "#e377c2")


def loop_figure(run: Run) -> dict[str, Any] | None:
    """An ``srl loop``: held-out accuracy after each round (line, left axis; the comparisons as
    horizontal lines) over the pool size after each round (bars by source, right axis)."""
    if run.kind != KIND_LOOP or not run.summary:
        return None
    rounds = [r for r in run.summary.get("rounds") or [] if number(r.get("round")) is not None]
    if not rounds:
        return None
    xs = [number(r["round"]) for r in rounds]
    accuracy = [number((r.get("eval") or {}).get("accuracy")) for r in rounds]
    line = {
        "type": "scatter",
        "mode": "lines+markers",
        "x": xs,
        "y": [None if a is None else 100 * a for a in accuracy],
        "name": "accuracy (held out)",
        "line": {"color": PALETTE[0], "width": 2.5},
        "marker": {"size": 7},
        "yaxis": "y2",
    }
    bars = _pool_traces(rounds, xs)
    layout = base_layout(f"{run.label}: accuracy and pool per round", "round", "pool size")
    # The bars' axis is the first one: plotly draws an overlaying axis's traces on top, and the
    # accuracy line must not hide behind the bars. So y (bars) sits right, y2 (accuracy) left.
    # Pool sizes are whole numbers (ticks like step ticks); the grid is the accuracy axis's.
    top = max((sum(filter(None, t)) for t in zip(*(b["y"] for b in bars))), default=0)
    layout["yaxis"].update(side="right", rangemode="tozero", showgrid=False)
    if top <= 1e6:  # beyond, plotly's own ticks (a hostile 1e300 would need 1e299 of them)
        layout["yaxis"].update(step_ticks(int(top)))
    layout["yaxis2"] = {
        "title": {"text": "accuracy (%)"},
        "overlaying": "y",
        "side": "left",
        "range": [0, 105],
        "tickmode": "linear",
        "tick0": 0,
        "dtick": 20,
        "automargin": True,
    }
    if all(x.is_integer() and 0 <= x <= 10_000 for x in xs):  # else plotly's own ticks
        layout["xaxis"].update(step_ticks(int(max(xs))))
    layout.update(barmode="stack", margin={"l": 70, "r": 70, "t": 70, "b": 60})
    shapes, notes = [], []
    comparisons = run.summary.get("comparisons") or {}
    for i, (name, comparison) in enumerate(comparisons.items()):
        value = number(comparison.get("accuracy"))
        if value is None:
            continue
        color = COMPARISON_COLOURS[i % len(COMPARISON_COLOURS)]
        shapes.append(
            {"type": "line", "xref": "paper", "x0": 0, "x1": 1, "yref": "y2",
             "y0": 100 * value, "y1": 100 * value,
             "line": {"dash": "dot", "color": color, "width": 1.5}}
        )  # fmt: skip
        notes.append(
            {"xref": "paper", "x": 1, "xanchor": "right", "yref": "y2", "y": 100 * value,
             "yanchor": "bottom", "showarrow": False, "font": {"color": color, "size": 10},
             "text": plain(f"{name}: {100 * value:.1f}%")}
        )  # fmt: skip
    layout["shapes"], layout["annotations"] = shapes, notes
    return {"data": [*bars, line], "layout": layout}

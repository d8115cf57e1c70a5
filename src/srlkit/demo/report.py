"""The demo's run report: PNG plots (step reward, kept fraction, accuracy) and a summary page.

Plots use matplotlib's Agg backend (no display needed); the summary is markdown, readable in
a terminal, on GitHub, or rendered by any viewer, and links the plots beside it.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from srlkit.io import atomic_write

logger = logging.getLogger(__name__)

KEPT_KEY = "dynamic_sampling/kept_fraction"
REWARD_KEY = "reward"


def _series(history: list[dict[str, Any]], key: str) -> tuple[list[int], list[float]]:
    points = [(int(h.get("step", i + 1)), float(h[key])) for i, h in enumerate(history) if key in h]
    return [p[0] for p in points], [p[1] for p in points]


def _save(fig, path: Path) -> None:
    """Render to a temporary sibling and rename, so a reader never sees half a PNG."""
    with atomic_write(path, "wb", encoding=None) as f:
        fig.savefig(f, format="png", dpi=110, bbox_inches="tight")


def plot_curve(
    history: list[dict[str, Any]], key: str, title: str, ylabel: str, path: Path
) -> bool:
    """Line plot of one logged metric over training steps; False when it was never logged."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps, values = _series(history, key)
    if not steps:
        return False
    fig, ax = plt.subplots(figsize=(5.5, 3.2))
    ax.plot(steps, values, marker="o", markersize=3, alpha=0.5, label="per step")
    window = min(5, len(values))
    smooth = [
        sum(values[max(0, i - window + 1) : i + 1]) / len(values[max(0, i - window + 1) : i + 1])
        for i in range(len(values))
    ]
    ax.plot(steps, smooth, linewidth=2, label=f"mean of last {window}")
    ax.legend(fontsize=8)
    ax.set(title=title, xlabel="training step", ylabel=ylabel)
    ax.grid(alpha=0.3)
    _save(fig, path)
    plt.close(fig)
    return True


def plot_comparison(
    rows: dict[str, dict[str, float]], metrics: list[tuple[str, str]], path: Path
) -> None:
    """Grouped bars: one group per metric, one bar per model (e.g. base vs SRL)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.4))
    width = 0.8 / max(1, len(rows))
    for i, (label, values) in enumerate(rows.items()):
        xs = [j + i * width for j in range(len(metrics))]
        heights = [values.get(key, 0.0) for key, _ in metrics]
        bars = ax.bar(xs, heights, width, label=label)
        ax.bar_label(bars, fmt="%.2f", fontsize=8)
    ax.set_xticks([j + width * (len(rows) - 1) / 2 for j in range(len(metrics))])
    ax.set_xticklabels([name for _, name in metrics])
    ax.set_ylim(0, 1.05)
    ax.set_title("held-out hard problems")
    ax.legend()
    _save(fig, path)
    plt.close(fig)


COMPARED = [
    ("accuracy", "hard accuracy (greedy)"),
    ("correct_chains_rate", "fully correct solutions"),
    ("exact_step", "exact next step"),
    ("step_reward", "step reward"),
]
LABELS = {"base": "base", "rlvr": "RLVR", "srl": "SRL", "srl_rlvr": "SRL->RLVR"}


def method_rows(results: dict[str, Any]) -> dict[str, dict[str, float]]:
    """Compared metrics of every method in the results (fully correct solutions as a rate)."""
    rows = {}
    for name, label in LABELS.items():
        if name in results:
            r = results[name]
            rows[label] = {
                **{k: float(r[k]) for k, _ in COMPARED if k in r},
                "correct_chains_rate": r["correct_chains"] / max(1, r["n"]),
            }
    return rows


def comparison_table(results: dict[str, Any]) -> list[str]:
    """The markdown table of the methods: accuracy +- SE, correct chains, step numbers."""
    lines = [
        (
            "| method | accuracy (greedy) | fully correct solutions | exact next step "
            "| doubling steps exact | step reward | tokens | rollouts |"
        ),
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, label in LABELS.items():
        if name not in results:
            continue
        r = results[name]
        swap = r.get("exact_step_by_kind", {}).get("double")
        lines.append(
            f"| {label} | {r['accuracy']:.3f} ± {r['accuracy_se']:.3f} | "
            f"{r['correct_chains']}/{r['n']} | {r.get('exact_step', 0):.3f} | "
            f"{'-' if swap is None else f'{swap:.3f}'} | {r.get('step_reward', 0):.3f} | "
            f"{r['mean_tokens']:.0f} | {r['rollouts']} |"
        )
    return lines


def write_report(out: Path, results: dict[str, Any]) -> Path:
    """Write the plots and ``report.md`` into ``out``; returns the summary page's path."""
    plots = []
    history = results["histories"].get("srl", [])
    if plot_curve(
        history, REWARD_KEY, "SRL: mean step reward of the rollouts", "reward", out / "reward.png"
    ):
        plots.append(("Step reward during SRL", "reward.png"))
    if plot_curve(
        history,
        KEPT_KEY,
        "Dynamic sampling (SRL): kept fraction",
        "groups kept / generated",
        out / "kept_fraction.png",
    ):
        plots.append(("Dynamic sampling: fraction of SRL prompt groups kept", "kept_fraction.png"))
    plot_comparison(method_rows(results), COMPARED[:3], out / "accuracy.png")
    plots.append(("The methods on held-out hard problems", "accuracy.png"))
    page = out / "report.md"
    with atomic_write(page) as f:
        f.write(summary_markdown(results, plots))
    return page


def summary_markdown(results: dict[str, Any], plots: list[tuple[str, str]]) -> str:
    config = results["config"]
    student = results["student"]
    lines = [
        "# srl demo: run report",
        "",
        (
            f"Base student: {student['parameters']:,}-parameter Qwen2 model warm-started on fresh "
            f"easy chain problems (1-8 operations, doubling rare); its accuracy when built: easy "
            f"{student['accuracy']['easy']:.2f}, hard {student['accuracy']['hard']:.2f}."
        ),
        (
            f"RLVR and SRL: {config['srl']['steps']} GRPO steps each, "
            f"{config['srl']['prompts_per_step']} prompts x {config['srl']['num_generations']} "
            f"rollouts, on {results['data']['train']} hard training problems "
            f"({results['data']['train_instances']} step instances for SRL); SRL->RLVR runs the "
            f"RLVR recipe from the SRL model. Evaluated on {results['data']['test']} held-out hard "
            "problems (7-8 operations, at least two doublings)."
        ),
        "",
        *comparison_table(results),
        "",
        (
            "Accuracy ± its binomial standard error. A *fully correct solution* has every step "
            "exactly the expert's."
        ),
        "",
        f"Time: {results['total_s']:.0f} s in all; per stage: "
        + ", ".join(f"{k} {v:.0f} s" for k, v in results["timings_s"].items())
        + ".",
        "",
    ]
    for title, name in plots:
        lines += [f"## {title}", "", f"![{title}]({name})", ""]
    example = (results.get("srl", {}).get("greedy") or {}).get("examples") or []
    if example:
        lines += [
            "## A held-out solution by the SRL student",
            "",
            "```",
            example[0]["completion"],
            "```",
            f"Gold answer: {example[0]['answer']}; extracted: {example[0]['extracted']}.",
            "",
        ]
    return "\n".join(lines)

"""The demo's summary for terminals (``report.md``); the report itself is ``report.html``.

``srl demo`` writes its full report with ``srl report`` (:mod:`srlkit.report`): curves, the
base-vs-SRL comparison and the rollout browser, in one self-contained page. This module keeps
the short Markdown summary (the comparison table, timings, one solution) that reads well in a
terminal or on GitHub, and the comparison rows both pages share.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from srlkit.io import atomic_write

logger = logging.getLogger(__name__)

HTML_REPORT = "report.html"


COMPARED = [
    ("accuracy_greedy", "accuracy (greedy)"),
    ("step_reward", "step reward"),
    ("exact_match_rate", "exact next step"),
    ("right_step_count_rate", "right number of steps"),
    ("right_plan_rate", "right operations in order"),
]


def comparison_rows(results: dict[str, Any]) -> list[tuple[str, float, float]]:
    """(metric name, base, SRL) for every compared metric both evaluations have."""
    rows = []
    keys = COMPARED + [
        (k, k.replace("_", " ")) for k in results["base"] if k.startswith("accuracy_avg@")
    ]
    for key, name in keys:
        if key in results["base"] and key in results["srl"]:
            rows.append((name, float(results["base"][key]), float(results["srl"][key])))
    return rows


def write_report(out: Path, results: dict[str, Any]) -> Path:
    """Write the Markdown summary ``report.md`` into ``out``; returns its path."""
    page = out / "report.md"
    with atomic_write(page) as f:
        f.write(summary_markdown(results))
    return page


def summary_markdown(results: dict[str, Any]) -> str:
    config = results["config"]
    student = results["student"]
    lines = [
        "# srl demo: run report",
        "",
        (
            f"Base student: {student['parameters']:,}-parameter Qwen2 model warm-started on easy "
            f"problems (2-3 operations); its accuracy when built: easy "
            f"{student['accuracy']['easy']:.2f}, hard {student['accuracy']['hard']:.2f}."
        ),
        (
            f"SRL: {config['srl']['steps']} GRPO steps with dynamic sampling on "
            f"{results['data']['train_instances']} step instances from {results['data']['train']} "
            f"hard expert trajectories; evaluated on {results['data']['test']} held-out hard "
            "problems (5-6 operations)."
        ),
        "",
        "| metric | base | SRL |",
        "|---|---|---|",
    ]
    lines += [
        f"| {name} | {base:.3f} | {srl:.3f} |" for name, base, srl in comparison_rows(results)
    ]
    lines += [
        "",
        f"Time: {results['total_s']:.0f} s in all; per stage: "
        + ", ".join(f"{k} {v:.0f} s" for k, v in results["timings_s"].items())
        + ".",
        "",
    ]
    lines += [
        f"Curves, the rollout browser and more: [{HTML_REPORT}]({HTML_REPORT}) (open in a browser).",
        "",
    ]
    example = (results["srl"].get("greedy") or {}).get("examples") or []
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

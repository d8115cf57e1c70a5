"""The demo's summary for terminals (``report.md``); the report itself is ``report.html``.

``srl demo`` writes its full report with ``srl report`` (:mod:`srlkit.report`), which reads the
demo's ``results.json`` as data (its method list, table rows and reading are in the file, so the
report imports nothing of the demo). This module writes the short Markdown summary: the regime,
the comparison table, the reading, the machine, and the commands that rerun each training.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from srlkit.io import atomic_write

logger = logging.getLogger(__name__)

HTML_REPORT = "report.html"


def comparison_table(results: dict[str, Any]) -> list[str]:
    """The markdown table of the methods: accuracy +- SE, correct chains, step numbers."""
    seeds = list(results["seeds"])
    lines = [
        (
            "| method | accuracy (greedy) | by seed | fully correct solutions | exact next step "
            "| doubling steps exact | step reward | tokens | rollouts |"
        ),
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for method in results["methods"]:
        r = results[method["name"]]
        double = r.get("exact_step_by_kind", {}).get("double")
        by_seed = " / ".join(f"{r['accuracy_by_seed'][s]:.3f}" for s in seeds)
        lines.append(
            f"| {method['label']} | {r['accuracy']:.3f} ± {r['accuracy_se']:.3f} | {by_seed} | "
            f"{r['correct_chains']}/{r['n']} | {r['exact_step']:.3f} | "
            f"{'-' if double is None else f'{double:.3f}'} | {r['step_reward']:.3f} | "
            f"{r['mean_tokens']:.0f} | {r['rollouts']} |"
        )
    return lines


def calibration_table(results: dict[str, Any]) -> list[str]:
    calibration = results["calibration"]
    key = calibration["metric"]
    lines = [f"| level | hard split | base {key} | chosen |", "|---|---|---|---|"]
    for level in calibration["levels"]:
        chosen = "yes" if level["level"] == calibration["chosen"] else ""
        lines.append(f"| {level['level']} | {level['describe']} | {level[key]:.3f} | {chosen} |")
    return lines


def write_report(out: Path, results: dict[str, Any]) -> Path:
    """Write the Markdown summary ``report.md`` into ``out``; returns its path."""
    page = out / "report.md"
    with atomic_write(page) as f:
        f.write(summary_markdown(results))
    return page


def summary_markdown(results: dict[str, Any]) -> str:
    config = results["config"]
    student = results["student"]
    grpo = config["grpo"]
    machine = results["machine"]
    seeds = ", ".join(results["seeds"])
    lines = [
        "# srl demo: run report",
        "",
        (
            f"Base student: {student['parameters']:,}-parameter Qwen2 model warm-started on fresh "
            f"easy chain problems (1-8 operations, doubling rare); its accuracy when built: easy "
            f"{student['accuracy']['easy']:.2f}, hard {student['accuracy']['hard']:.2f}."
        ),
        (
            f"Seeds {seeds}: per seed {config['train_problems']} training and "
            f"{config['test_problems']} test problems drawn fresh at the calibrated difficulty. "
            f"Every RL method: {grpo['steps']} GRPO steps of {grpo['prompts_per_step']} prompts x "
            f"{grpo['num_generations']} rollouts, SRL {grpo.get('srl_batch_ratio', 1)} times as "
            "many prompts (the paper's batches); a curriculum (X->RLVR) runs the RLVR recipe "
            "from X's model."
        ),
        "",
        "## The regime, measured",
        "",
        *calibration_table(results),
        "",
        "## The methods",
        "",
        *comparison_table(results),
        "",
        (
            "Accuracy: the mean over seeds ± its standard error over test problems. A *fully "
            "correct solution* has every step exactly the expert's."
        ),
        "",
        "## Reading",
        "",
        *[f"- {line}" for line in results["reading"]],
        "",
        (
            f"Machine: {machine['cpu']} ({machine['cores']} cores, torch CPU capability "
            f"{machine['torch_cpu_capability']}); "
            + ", ".join(f"{k} {v}" for k, v in machine["versions"].items())
            + f"; {machine['date']}."
        ),
        f"Time: {results['total_s']:.0f} s in all; "
        + ", ".join(f"{k} {v:.0f} s" for k, v in results["timings_s"].items())
        + ".",
        "",
        f"Curves, the rollout browser and more: [{HTML_REPORT}]({HTML_REPORT}) (open in a browser).",
        "",
    ]
    first = results["seeds"][next(iter(results["seeds"]))]
    commands = [
        (m["label"], first[m["name"]]["commands"])
        for m in results["methods"]
        if first[m["name"]]["commands"]
    ]
    if commands:
        lines += ["## Rerun a training", ""]
        for name, cmds in commands:
            lines += [f"{name}:", "", "```", *cmds, "```", ""]
    example = (results.get("srl") or {}).get("examples") or []
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

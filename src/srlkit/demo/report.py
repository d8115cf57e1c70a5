"""The demo's summary for terminals (``report.md``); the report itself is ``report.html``.

``srl demo`` writes its full report with ``srl report`` (:mod:`srlkit.report`): the curves of
every method's training, the comparison of the four methods and the rollout browser, in one
self-contained page. This module keeps the short Markdown summary (the comparison table,
timings, one solution) and the comparison rows both pages share.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Any

from srlkit.io import atomic_write

logger = logging.getLogger(__name__)

HTML_REPORT = "report.html"


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


def comparison_rows(results: dict[str, Any]) -> list[tuple[str, dict[str, float]]]:
    """(metric name, {method label: value}) for each compared metric, methods in table order."""
    rows = method_rows(results)
    names = dict(COMPARED)
    return [
        (name, {label: values[key] for label, values in rows.items() if key in values})
        for key, name in names.items()
        if any(key in values for values in rows.values())
    ]


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


CONTRASTS = [
    ("srl", "base", "SRL", "the base"),
    ("srl", "rlvr", "SRL", "RLVR"),
    ("srl_rlvr", "srl", "SRL->RLVR", "SRL"),
]


def contrast(results: dict[str, Any], a: str, b: str) -> tuple[float, float]:
    """Accuracy difference ``a - b`` and its standard error (independent binomial ones)."""
    diff = results[a]["accuracy"] - results[b]["accuracy"]
    se = math.hypot(results[a]["accuracy_se"], results[b]["accuracy_se"])
    return diff, se


def reading(results: dict[str, Any]) -> list[str]:
    """The comparison in plain words, computed from the numbers (so it never says more).

    A difference counts as shown when it exceeds two standard errors of the difference; fully
    correct solutions and right answers reached by wrong chains are stated beside accuracy,
    because an answer in 0..20 can be hit by chance.
    """
    lines = []
    for a, b, label_a, label_b in CONTRASTS:
        if not all("accuracy_se" in results.get(m, {}) for m in (a, b)):
            continue
        diff, se = contrast(results, a, b)
        ratio = diff / se if se else 0.0
        if abs(ratio) > 2:
            verdict = "above" if diff > 0 else "below"
            lines.append(
                f"{label_a} is {verdict} {label_b} by {abs(diff) * 100:.1f} points of accuracy "
                f"({abs(ratio):.1f} standard errors of the difference): a measured difference."
            )
        else:
            lines.append(
                f"{label_a} - {label_b} = {diff * 100:+.1f} points ({ratio:+.1f} standard errors "
                "of the difference): within noise, not a measured difference."
            )
    wrong = [
        f"{LABELS[name]} {results[name]['right_answer_wrong_chain']} of {results[name]['correct']}"
        for name in LABELS
        if name in results and "right_answer_wrong_chain" in results[name]
    ]
    if wrong:
        lines.append(
            "Right answers reached through a wrong chain (the answer is one of 21 numbers, so a "
            "wrong solution can end on it): " + ", ".join(wrong) + "."
        )
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
        "## Reading",
        "",
        *[f"- {line}" for line in reading(results)],
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

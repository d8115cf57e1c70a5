"""The demo's numbers over seeds and its reading in plain words, computed from them.

Every seed scores every method on the same test problems of that seed, so a contrast of two
methods is *paired*: per problem, the difference of their 0/1 outcomes. For seed ``s`` the
difference ``d_s`` has the paired standard error ``sd(d) / sqrt(n)``. Over ``S`` seeds the mean
difference has two sources of error: the test problems (``sqrt(sum se_s^2) / S``) and the
training randomness of each seed, seen only across seeds (``stdev(d_s) / sqrt(S)``); the reading
uses the larger, so it never claims more than either supports. With one seed the second is
unknown, and the reading says so.

A difference is called *measured* beyond two standard errors, otherwise *within noise*.
"""

from __future__ import annotations

import math
import statistics
from typing import Any

from srlkit.demo.methods import CONTRASTS, label

SUMMED = ("n", "correct", "correct_chains", "right_answer_wrong_chain", "rollouts_generated")
AVERAGED = ("accuracy", "exact_step", "step_reward", "format_failure_rate", "mean_tokens")
MEASURED_SE = 2.0


def aggregate(per_seed: dict[int, dict[str, Any]], methods: tuple[str, ...]) -> dict[str, Any]:
    """Per method: means (accuracy, step numbers) and sums (counts) over seeds; contrasts."""
    seeds = list(per_seed)
    out: dict[str, Any] = {}
    for method in methods:
        runs = [per_seed[s][method] for s in seeds]
        row: dict[str, Any] = {k: sum(r[k] for r in runs) for k in SUMMED}
        row.update({k: statistics.fmean(r[k] for r in runs) for k in AVERAGED})
        row["accuracy_se"] = math.sqrt(sum(r["accuracy_se"] ** 2 for r in runs)) / len(runs)
        row["accuracy_by_seed"] = {str(s): per_seed[s][method]["accuracy"] for s in seeds}
        kinds = {k for r in runs for k in r["exact_step_by_kind"]}
        row["exact_step_by_kind"] = {
            k: statistics.fmean(r["exact_step_by_kind"].get(k, 0.0) for r in runs)
            for k in sorted(kinds)
        }
        row["two_digit_results"] = {
            k: sum(r.get("two_digit_results", {}).get(k, 0) for r in runs)
            for k in ("steps", "right", "cut")
        }
        for key in runs[0]:
            if key.startswith(("accuracy_avg@", "pass@")):
                row[key] = statistics.fmean(r[key] for r in runs)
        row["rollouts"] = runs[0]["rollouts"]
        row["examples"] = runs[0]["examples"]
        out[method] = row
    out["contrasts"] = [
        contrast(per_seed, a, b) for a, b in CONTRASTS if a in methods and b in methods
    ]
    return out


def paired(a: list[int], b: list[int]) -> tuple[float, float]:
    """Mean of per-problem differences ``a - b`` and its standard error."""
    diffs = [x - y for x, y in zip(a, b, strict=True)]
    n = len(diffs)
    if n < 2:
        return (diffs[0] if diffs else 0.0), 0.0
    return statistics.fmean(diffs), statistics.stdev(diffs) / math.sqrt(n)


def contrast(per_seed: dict[int, dict[str, Any]], a: str, b: str) -> dict[str, Any]:
    """Accuracy difference ``a - b`` over seeds with its errors (see the module docstring)."""
    by_seed = [
        paired(r[a]["correct_by_problem"], r[b]["correct_by_problem"]) for r in per_seed.values()
    ]
    diffs = [d for d, _ in by_seed]
    s = len(by_seed)
    se_problems = math.sqrt(sum(se**2 for _, se in by_seed)) / s
    se_seeds = statistics.stdev(diffs) / math.sqrt(s) if s > 1 else None
    se = max(se_problems, se_seeds or 0.0)
    diff = statistics.fmean(diffs)
    ratio = diff / se if se else 0.0
    return {
        "a": a,
        "b": b,
        "difference": diff,
        "se_problems": se_problems,
        "se_seeds": se_seeds,
        "se": se,
        "ratio": ratio,
        "measured": abs(ratio) > MEASURED_SE,
        "by_seed": dict(zip((str(k) for k in per_seed), diffs, strict=True)),
    }


def contrast_line(c: dict[str, Any], seeds: int) -> str:
    a, b = label(c["a"]), label(c["b"])
    spread = "" if seeds > 1 else "; one seed: training randomness not included"
    if c["measured"]:
        verdict = "above" if c["difference"] > 0 else "below"
        return (
            f"{a} is {verdict} {b} by {abs(c['difference']) * 100:.1f} points of accuracy "
            f"({abs(c['ratio']):.1f} standard errors of the paired difference{spread}): "
            "a measured difference."
        )
    return (
        f"{a} - {b} = {c['difference'] * 100:+.1f} points ({c['ratio']:+.1f} standard errors of "
        f"the paired difference{spread}): within noise, not a measured difference."
    )


def reading(results: dict[str, Any]) -> list[str]:
    """The comparison in plain words, computed from the numbers (so it never says more)."""
    seeds = len(results["seeds"])
    regime = results["regime"]
    lines = [
        (
            f"Regime: hard split {regime['difficulty']}; the base's pass@8 on a fresh calibration "
            f"draw {regime['base_pass_at_8']:.3f} (threshold {regime['threshold']}): "
            + ("built." if regime["regime_met"] else "NOT built, even at the hardest level.")
        )
    ]
    if regime.get("rlvr_groups_with_signal") is not None:
        lines.append(
            f"RLVR's groups with a correct rollout (kept by dynamic sampling): "
            f"{regime['rlvr_groups_with_signal'] * 100:.1f}%."
        )
    lines += [contrast_line(c, seeds) for c in results["contrasts"]]
    wrong = [
        f"{label(m['name'])} {results[m['name']]['right_answer_wrong_chain']} of "
        f"{results[m['name']]['correct']}"
        for m in results["methods"]
    ]
    lines.append("Right answers reached through a wrong chain: " + ", ".join(wrong) + ".")
    two_digit = [
        (label(m["name"]), results[m["name"]].get("two_digit_results") or {})
        for m in results["methods"]
    ]
    if all(counts.get("steps") for _, counts in two_digit):
        lines.append(
            "Equations with a two-digit result, written right / cut to one of its digits: "
            + ", ".join(
                f"{name} {c['right'] / c['steps'] * 100:.0f}% / {c['cut'] / c['steps'] * 100:.0f}%"
                for name, c in two_digit
            )
            + "."
        )
    if seeds == 1:
        lines.append(
            "One seed shows the methods on one draw of training and test problems with one "
            "training run each; whether an ordering survives other draws and runs needs "
            "`srl demo --seeds 0,1,2`."
        )
    return lines

"""``srl demo``'s ``results.json``, assembled from what its stages returned.

Per seed, each method's evaluation with the trainings that made its model; over seeds, the
means and paired contrasts (:mod:`srlkit.demo.compare`) and the reading; the calibration and how
starved RLVR was; the student, the machine and library versions; and the time of every run of
the demo in the folder with the same settings (``invocations``).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from srlkit.demo import compare, machine
from srlkit.demo.methods import METHODS
from srlkit.demo.stages import GRPOSettings
from srlkit.demo.student import read_student_meta

RESULTS_FILE = "results.json"


def settings_key(config: dict[str, Any]) -> str:
    """The key of a demo configuration (``asdict`` of it, or as saved in ``results.json``)
    without its seeds and methods: adding either to a folder reuses what is finished."""
    blob = {k: v for k, v in config.items() if k not in ("seeds", "methods")}
    return hashlib.sha256(json.dumps(blob, sort_keys=True).encode()).hexdigest()[:16]


def assemble(
    path: Path,
    config: Any,
    student: str,
    calibration: dict[str, Any],
    methods: tuple[str, ...],
    stages: dict[tuple, dict],
    counts: dict[int, dict[str, int]],
    timings: dict[str, float],
    total_s: float,
) -> dict[str, Any]:
    """The results of a demo run of ``config`` (a ``DemoConfig``) whose ``results.json`` is
    ``path`` (read for the earlier invocations, not written)."""
    per_seed = {
        seed: _seed_results(seed, methods, stages, counts[seed], config.grpo)
        for seed in config.seeds
    }
    results = {
        "config": asdict(config),
        "machine": machine.describe(),
        "student": {"path": student, **_student_summary(student)},
        "calibration": calibration,
        "regime": _regime_summary(calibration, per_seed),
        "methods": [{"name": m, "label": METHODS[m].label} for m in methods],
        "seeds": {str(seed): r for seed, r in per_seed.items()},
        **compare.aggregate(per_seed, methods),
        "timings_s": timings,
        "total_s": total_s,
    }
    results["invocations"] = _previous_invocations(path, config.seed_key()) + [
        {"date": results["machine"]["date"], "timings_s": timings, "total_s": total_s}
    ]
    results["reading"] = compare.reading(results)
    return results


def _previous_invocations(path: Path, key: str) -> list[dict[str, Any]]:
    """The times of earlier runs of the demo in this folder with the same settings (``key``, a
    :func:`settings_key`: seeds and methods aside, which add to a folder), from its last
    ``results.json``.

    ``timings_s`` and ``total_s`` are this invocation's: a resumed demo that found every stage
    done takes seconds, so without this list the time of the run that did the work is lost.
    """
    try:
        previous = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return []
    if settings_key(previous.get("config") or {}) != key:
        return []
    if isinstance(previous.get("invocations"), list):
        return previous["invocations"]
    if "total_s" in previous:  # written before the list existed
        return [{"timings_s": previous.get("timings_s"), "total_s": previous["total_s"]}]
    return []


def _seed_results(
    seed: int,
    methods: tuple[str, ...],
    stages: dict[tuple, dict],
    counts: dict[str, int],
    grpo: GRPOSettings,
) -> dict[str, Any]:
    """One seed's numbers per method: its evaluation and the trainings that made its model."""
    out: dict[str, Any] = {"data": counts}
    for method in methods:
        chain = _training_chain(method)
        trained = [stages[(seed, f"train:{m}")] for m in chain]
        evaluated = stages[(seed, f"eval:{method}")]
        out[method] = {
            **{k: v for k, v in evaluated.items() if k != "seconds"},
            "eval_seconds": evaluated["seconds"],
            "train_seconds": sum(t["seconds"] for t in trained),
            "commands": [t["command"] for t in trained],
            "rollouts": sum(
                grpo.rollouts(METHODS[m].algorithm) for m in chain if METHODS[m].algorithm != "sft"
            ),
            "rollouts_generated": sum(t["rollouts_generated"] for t in trained),
            "kept_fraction": {m: t["kept_fraction"] for m, t in zip(chain, trained, strict=True)},
        }
        if trained:
            out[method]["history"] = trained[-1]["history"]
    return out


def _training_chain(method: str) -> list[str]:
    """The trainings that made ``method``'s model, first to last (empty for the base)."""
    chain: list[str] = []
    while METHODS[method].trains:
        chain.insert(0, method)
        method = METHODS[method].start
    return chain


def _regime_summary(calibration: dict[str, Any], per_seed: dict[int, dict]) -> dict[str, Any]:
    """The chosen split and how starved RLVR was: the share of its groups that held a
    correct rollout (with a 0/1 reward, exactly the groups dynamic sampling kept)."""
    kept = [
        r["rlvr"]["kept_fraction"]["rlvr"]
        for r in per_seed.values()
        if "rlvr" in r and r["rlvr"]["kept_fraction"].get("rlvr") is not None
    ]
    return {
        "difficulty": calibration["describe"],
        "threshold": calibration["threshold"],
        "base_pass_at_8": calibration["levels"][calibration["chosen"]][calibration["metric"]],
        "regime_met": calibration["regime_met"],
        "rlvr_groups_with_signal": sum(kept) / len(kept) if kept else None,
    }


def _student_summary(path: str) -> dict[str, Any]:
    meta = read_student_meta(path)
    return {
        "accuracy": meta["accuracy"],
        "parameters": meta["parameters"],
        "key": meta["key"],
        "built_on": meta.get("built_on"),
    }

"""Build the paper's regime by measurement: the hard split at which the base student is starved.

SRL's claim is a regime claim: where the student almost never reaches a right whole solution,
RLVR's groups are all wrong (no signal) while SRL's step reward is still dense. Assuming a
fixed "hard" split made the demo's conclusion depend on which student a warm start produced
(three machines, three students, three conclusions: ``../shared/evidence`` of the project).
So the demo measures its student instead: for each level of :data:`srlkit.demo.tasks.LADDER`,
mildest first, it samples ``samples`` solutions (temperature 1.0, ``srl eval``) for each of
``problems`` freshly drawn calibration problems, and stops at the first level where the share
of problems with at least one right solution (pass@samples, the share of RLVR groups that
would hold a correct rollout) is at most ``threshold``. Training and test problems are then
drawn fresh at that level (:mod:`srlkit.demo.data`); no problem is ever chosen by how a model
did on it.

The threshold, :data:`REGIME_THRESHOLD` = 1/32, means at most one RLVR group in 32 holds a
correct rollout: "a correct rollout in few groups", the paper's description of its hard set.
Why so low: dynamic sampling refills a step from up to ``max_generation_rounds`` (4) batches of
4 prompts, so RLVR scans 16 groups per step; at 1/32 it finds an informative group every second
step at best. At 1/8 (a first choice) RLVR was not starved: from a base with pass@8 0.078 it
found a correct rollout in 24% of its groups and reached 30.5% accuracy, above SRL's 27.7%
(docs/paper-table.md, trial 19). The mildest level under the threshold is taken because SRL
still needs a student that gets most single steps right.
"""

from __future__ import annotations

import logging
from dataclasses import asdict
from pathlib import Path
from typing import Any

from srlkit.demo.tasks import LADDER, Difficulty, generate_problems
from srlkit.io import write_jsonl

logger = logging.getLogger(__name__)

REGIME_THRESHOLD = 1 / 32
CALIBRATION_PROBLEMS = 64
CALIBRATION_SAMPLES = 8
CALIBRATION_SEED = 5_000
BENCHMARK = "calibration"


def measure_level(
    student: str,
    difficulty: Difficulty,
    out_dir: Path,
    problems: int,
    samples: int,
    max_new_tokens: int,
    batch_size: int = 64,
) -> dict[str, Any]:
    """pass@samples and avg@samples of ``student`` on a fresh draw at ``difficulty``."""
    from srlkit.evaluation.runner import EvalConfig, run_evaluation

    draw = generate_problems(difficulty, problems, seed=CALIBRATION_SEED, prefix="calibration")
    path = out_dir / "problems.jsonl"
    write_jsonl(path, (p.to_record() for p in draw))
    summary = run_evaluation(
        EvalConfig(
            model=student,
            out_dir=str(out_dir),
            benchmarks=[f"{BENCHMARK}={path}"],
            k=samples,
            greedy=False,
            temperature=1.0,
            max_new_tokens=max_new_tokens,
            batch_size=batch_size,
            seed=CALIBRATION_SEED,
            device="cpu",
            dtype="float32",
        )
    )
    sampled = summary["benchmarks"][BENCHMARK]["sampled"]
    return {
        "difficulty": asdict(difficulty),
        "describe": difficulty.describe(),
        "problems": problems,
        f"pass@{samples}": sampled["pass@k"][str(samples)],
        f"avg@{samples}": sampled["avg"],
    }


def calibrate(
    student: str,
    out_dir: Path,
    max_new_tokens: int,
    ladder: tuple[Difficulty, ...] = LADDER,
    threshold: float = REGIME_THRESHOLD,
    problems: int = CALIBRATION_PROBLEMS,
    samples: int = CALIBRATION_SAMPLES,
) -> dict[str, Any]:
    """Measure the ladder mildest first; the first level at most ``threshold`` is chosen.

    When no level is starved enough the hardest is used and ``regime_met`` is False, which the
    demo's reading states (it never claims the regime it did not build). Each level's samples
    are an ``srl eval`` folder under ``out_dir``, so a rerun generates nothing again.
    """
    key = f"pass@{samples}"
    levels: list[dict[str, Any]] = []
    chosen = len(ladder) - 1
    for index, difficulty in enumerate(ladder):
        level = measure_level(
            student, difficulty, out_dir / f"level-{index}", problems, samples, max_new_tokens
        )
        levels.append({"level": index, **level})
        logger.info("calibration level %d (%s): %s %.3f", index, level["describe"], key, level[key])
        if level[key] <= threshold:
            chosen = index
            break
    met = levels[-1][key] <= threshold
    return {
        "threshold": threshold,
        "metric": key,
        "levels": levels,
        "chosen": chosen,
        "difficulty": asdict(ladder[chosen]),
        "describe": ladder[chosen].describe(),
        "regime_met": met,
    }


def difficulty_of(calibration: dict[str, Any]) -> Difficulty:
    """The chosen :class:`Difficulty` of a calibration result."""
    return Difficulty(**calibration["difficulty"])

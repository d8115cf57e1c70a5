"""``srl loop --task chain``: the self-improving loop on the demo's task, with its comparisons.

The student is the shipped base student (:mod:`srlkit.demo.student`). Its training problems are
drawn at the hard level where it *solves few*: the regime calibration of ``srl demo``
(:mod:`srlkit.demo.regime`) with a threshold of :data:`SOLVES_FEW` (pass@8 at most 1/8) instead
of the demo's 1/32, because a loop that keeps only its own verified solutions needs some to
start from (at 1/32 its first round would keep about one problem in 32). Test problems are
drawn fresh at the same level, never chosen by any model's outcome.

Every round is :class:`srlkit.loop.rounds.LoopRunner`'s, with the demo's SRL settings written
as an ``srl train srl`` recipe (``srl_recipe.yaml``), the task's process check (``chain``:
every step is the expert's) as the verifier, and the demo's evaluation (``srl eval`` +
``srl eval-steps`` + correct chains). Two comparisons start from the same student:

- ``srl_expert``: SRL on the original expert solutions of all training problems, for as many
  steps as the loop trained in all its rounds (what the loop would be with the expert's data);
- ``rlvr_budget``: RLVR for as many steps as the loop's rollouts pay for (solutions sampled in
  every round plus the rollouts its SRL training generated), counting each RLVR step at the
  most its dynamic sampling may generate (``max_generation_rounds`` batches): in this regime
  RLVR refills at nearly every step, so its generated rollouts come close to the loop's
  (at most one step's worth above them; both counts are in the results).
"""

from __future__ import annotations

import dataclasses
import logging
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

from srlkit.demo import machine
from srlkit.demo.compare import MEASURED_SE, paired
from srlkit.demo.data import DemoData, draw_problems, write_demo_data
from srlkit.demo.methods import METHODS
from srlkit.demo.prompts import THINK_OPEN
from srlkit.demo.regime import difficulty_of
from srlkit.demo.run import STAGE_THREADS, calibrate_student
from srlkit.demo.stages import (
    SOLVE_TOKENS,
    EvalSettings,
    GRPOSettings,
    SFTSettings,
    evaluate,
    train,
    train_argv,
)
from srlkit.demo.student import StudentConfig, build_student
from srlkit.demo.tasks import LADDER, Difficulty
from srlkit.io import write_json, write_jsonl
from srlkit.loop.config import LoopConfig
from srlkit.loop.rounds import LOOP_FILE, LoopRunner
from srlkit.rewards.similarity import DEFAULT_METRIC

logger = logging.getLogger(__name__)

SOLVES_FEW = 1 / 8
"""Calibration threshold of the loop's split: the base's pass@8 at most this."""
RESULTS_FILE = "loop_results.json"
LOOP_LADDER: tuple[Difficulty, ...] = LADDER[:4] + (
    Difficulty(min_ops=7, max_ops=8, double_rate=0.5, min_doubles=3),
    Difficulty(min_ops=8, max_ops=8, double_rate=0.6, min_doubles=4),
    Difficulty(min_ops=8, max_ops=8, double_rate=0.8, min_doubles=5),
)
"""The ladder the loop's measured runs calibrated on (docs/loop.md): the demo's before its hard
levels asked for distinct two-digit doublings. Kept so that those runs reproduce; its split
(8 operations, >= 4 doublings) opens a third of its problems with 1, 2, 4, 8, 16
(docs/paper-table.md, trial 34), which a new loop measurement should drop for the demo's ladder."""


@dataclass(frozen=True)
class TaskLoopSettings:
    """Everything the built-in task's loop depends on."""

    seed: int = 0
    rounds: int = 3
    num_samples: int = 8
    train_problems: int = 256
    test_problems: int = 256
    grpo: GRPOSettings = field(
        default_factory=lambda: GRPOSettings(step_metric=DEFAULT_METRIC, srl_batch_ratio=1)
    )
    """The demo's GRPO settings with the paper's step similarity and SRL at RLVR's batch, as
    the loop's measured rounds (docs/loop.md) used them."""
    threshold: float = SOLVES_FEW
    calibration_problems: int = 64
    compare: bool = True
    verifier: str | None = None
    """None: the process check (the task checks every step); "outcome" for the final answer."""
    student: StudentConfig = field(default_factory=StudentConfig)


def quick_settings(seed: int = 0) -> TaskLoopSettings:
    """A few minutes on a CPU (CI, ``--quick``): 16 problems, 2 rounds of 2 SRL steps."""
    return TaskLoopSettings(
        seed=seed,
        rounds=2,
        num_samples=4,
        train_problems=16,
        test_problems=16,
        grpo=GRPOSettings(
            steps=2,
            prompts_per_step=2,
            num_generations=4,
            max_generation_rounds=2,
            step_metric=DEFAULT_METRIC,
            srl_batch_ratio=1,
        ),
        calibration_problems=8,
    )


def srl_recipe(grpo: GRPOSettings) -> dict[str, Any]:
    """The demo's SRL settings as an ``srl train srl`` recipe (the loop adds model, data,
    output folder and seed)."""
    argv_options = {
        "use_cpu": True,
        "bf16": False,
        "report_to": "none",
        "save_strategy": "steps",  # a training killed mid-run resumes from its last checkpoint
        "save_steps": 10,
        "per_device_train_batch_size": grpo.prompts("srl") * grpo.num_generations,
        "num_generations": grpo.num_generations,
        "max_completion_length": grpo.step_completion_length,
        "max_steps": grpo.steps,
        "learning_rate": grpo.learning_rate,
        "max_generation_rounds": grpo.max_generation_rounds,
        "logging_steps": 1,
    }
    if grpo.step_metric != DEFAULT_METRIC:  # the same reward as the srl_expert comparison
        argv_options["reward_funcs"] = {"srl_step": {"metric": grpo.step_metric}}
    return {**argv_options, **METHODS["srl"].flags}


def prepare(out: Path, settings: TaskLoopSettings, student: str) -> tuple[DemoData, Path, dict]:
    """Calibrate, draw and write the task's files; the data, the training problems file and
    the calibration."""
    calibration = calibrate_student(
        out, student, settings.threshold, settings.calibration_problems, ladder=LOOP_LADDER
    )
    difficulty = difficulty_of(calibration)
    data = write_demo_data(
        out / "data", difficulty, settings.train_problems, settings.test_problems, settings.seed
    )
    trains, _ = draw_problems(
        difficulty, settings.train_problems, settings.test_problems, settings.seed
    )
    problems = out / "data" / "train_problems.jsonl"
    write_jsonl(problems, (p.to_record() for p in trains))
    return data, problems, calibration


def loop_config(
    out: Path,
    settings: TaskLoopSettings,
    student: str,
    data: DemoData,
    problems: Path,
    progress: bool,
) -> LoopConfig:
    """The :class:`LoopConfig` of the task's loop (its recipe is written beside it)."""
    recipe = out / "srl_recipe.yaml"
    recipe.write_text(yaml.safe_dump(srl_recipe(settings.grpo), sort_keys=False), "utf-8")
    return LoopConfig(
        model=student,
        problems=[str(problems)],
        out=str(out / "loop"),
        rounds=settings.rounds,
        num_samples=settings.num_samples,
        temperature=1.0,
        max_tokens=SOLVE_TOKENS,
        seed=settings.seed,
        batch_size=64,
        device="cpu",
        dtype="float32",
        verifier=settings.verifier,
        process_check="chain",
        layout="continuation",
        answer_opening=THINK_OPEN,
        targets="all",
        train_config=str(recipe),
        eval_benchmarks=[f"chain={data.path('test_problems')}"],
        eval_max_new_tokens=SOLVE_TOKENS,
        eval_batch_size=64,
        eval_steps_data=str(data.path("test_instances")),
        progress=progress,
    )


def run_task_loop(
    out_dir: str,
    settings: TaskLoopSettings,
    cache_dir: str | None = None,
    rebuild_student: bool = False,
    progress: bool = True,
) -> dict[str, Any]:
    """The loop on the built-in task and, when ``settings.compare``, its two comparisons.

    Every stage runs on one torch thread, as ``srl demo``'s stages do: the thread count changes
    the floating-point path, and with it what a tiny model samples and learns.
    """
    import torch

    torch.set_num_threads(STAGE_THREADS)
    started = time.monotonic()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    student = str(build_student(settings.student, cache_dir, rebuild=rebuild_student))
    data, problems, calibration = prepare(out, settings, student)
    config = loop_config(out, settings, student, data, problems, progress)

    def evaluator(model_dir: str, folder: Path) -> dict[str, Any]:
        return evaluate(model_dir, data, folder, EvalSettings(), settings.seed)

    summary = LoopRunner(config, evaluator=evaluator).run()
    comparisons = (
        _comparisons(out, settings, student, data, summary, evaluator) if settings.compare else {}
    )
    results = {
        "machine": machine.describe(),
        "total_s": round(time.monotonic() - started, 1),
        "settings": asdict(settings),
        "calibration": calibration,
        "loop": {k: v for k, v in summary.items() if k != "rounds"},
        "rounds": [_round_summary(r) for r in summary["rounds"]],
        "final_eval": summary["rounds"][-1]["eval"],
        "comparisons": comparisons,
    }
    results["reading"] = reading(results)
    write_json(out / RESULTS_FILE, results)
    _attach_to_loop_file(Path(config.out), comparisons, results["reading"])
    return results


def _comparisons(
    out: Path,
    settings: TaskLoopSettings,
    student: str,
    data: DemoData,
    summary: dict[str, Any],
    evaluator: Any,
) -> dict[str, Any]:
    trained_rounds = sum(1 for r in summary["rounds"] if r.get("trained"))
    budget = summary["rollouts"]["sampled"] + summary["rollouts"]["training"]
    grpo = settings.grpo
    per_step = grpo.prompts_per_step * grpo.num_generations * grpo.max_generation_rounds
    plans = {
        "srl_expert": ("srl", max(1, trained_rounds * grpo.steps)),
        "rlvr_budget": ("rlvr", max(1, math.ceil(budget / per_step))),
    }
    results: dict[str, Any] = {}
    for name, (method, steps) in plans.items():
        run_grpo = dataclasses.replace(grpo, steps=steps)
        run_dir = out / "compare" / name
        argv = train_argv(
            METHODS[method], student, data, run_dir, run_grpo, SFTSettings(), settings.seed
        )
        run = train(METHODS[method].algorithm or method, argv)
        metrics = evaluator(run["model_dir"], out / "compare" / f"{name}-eval")
        results[name] = {
            "method": method,
            "steps": steps,
            "rollouts_budgeted": run_grpo.rollouts(METHODS[method].algorithm),
            "rollouts_generated": run["rollouts_generated"],
            "command": run["command"],
            "eval": metrics,
        }
    return results


ROUND_KEYS = (
    "round", "unsolved_before", "samples_asked", "verification", "newly_solved", "pool_size",
    "instances", "instances_added", "rollouts_generated", "final_step_reward", "timings_s",
)  # fmt: skip
EVAL_KEYS = ("accuracy", "correct_chains", "right_answer_wrong_chain", "exact_step", "step_reward")


def _round_summary(record: dict[str, Any]) -> dict[str, Any]:
    """A round's numbers without its per-problem lists (those stay in the loop folder)."""
    out = {k: record[k] for k in ROUND_KEYS if k in record}
    out["eval"] = {k: record["eval"][k] for k in EVAL_KEYS if k in record["eval"]}
    return out


def reading(results: dict[str, Any]) -> list[str]:
    """What the run showed, in sentences, from its numbers alone."""
    curve = results["loop"]["curve"]
    lines = [
        "accuracy by round: "
        + ", ".join(f"{p['round']}: {p['accuracy'] * 100:.1f}%" for p in curve)
        + "; pool size: "
        + ", ".join(str(p["pool_size"]) for p in curve)
    ]
    filters = results["loop"]["filters"]
    wrong = filters["outcome_only_wrongly_let_in"]
    fate = (
        "the outcome filter in force let them in"
        if results["settings"].get("verifier") == "outcome"
        else "the process check dropped them; an outcome-only filter would have let them in"
    )
    lines.append(
        f"{filters['outcome_verified']} sampled solutions had the right answer, {wrong} of "
        f"them through a wrong chain ({fate}); {filters['kept']} entered the pool"
    )
    if len(curve) > 1 and curve[-1]["pool_size"] == curve[-2]["pool_size"]:
        lines.append("the last round added nothing to the pool: the loop stalled")
    final = results["final_eval"]
    for name, comparison in results["comparisons"].items():
        diff, se = paired(final["correct_by_problem"], comparison["eval"]["correct_by_problem"])
        ratio = diff / se if se else 0.0
        verdict = "a measured difference" if abs(ratio) > MEASURED_SE else "within noise"
        lines.append(
            f"loop (round {curve[-1]['round']}) - {name} = {diff * 100:+.1f} points "
            f"({ratio:+.1f} SE of the paired difference, one seed): {verdict}"
        )
    return lines


def _attach_to_loop_file(loop_dir: Path, comparisons: dict[str, Any], lines: list[str]) -> None:
    """Add the comparisons and the reading to ``loop.json`` (what ``srl report`` reads)."""
    import json

    path = loop_dir / LOOP_FILE
    summary = json.loads(path.read_text("utf-8"))
    summary["comparisons"] = {
        name: {"steps": c["steps"], "rollouts_generated": c["rollouts_generated"],
               "accuracy": c["eval"]["accuracy"], "command": c["command"]}
        for name, c in comparisons.items()
    }  # fmt: skip
    summary["reading"] = lines
    write_json(path, summary)

"""``srl demo`` end to end: student -> expert steps on hard problems -> RLVR, SRL, SRL->RLVR.

Each stage writes its result into the output directory and is skipped when a later run with
the same configuration finds it there, so an interrupted demo resumes where it stopped and a
warm run (student cached, stages done) is quick. A changed configuration starts the output
directory's stages afresh (the student cache is keyed separately).

Methods (all from the same base student, RLVR and SRL with the same rollout budget):

- ``base``: the warm-started student;
- ``rlvr``: GRPO on the hard training problems with the outcome reward (the paper's RLVR);
- ``srl``: GRPO on the same problems' step instances with the step-similarity reward;
- ``srl_rlvr``: the RLVR run started from the SRL model (the paper's best recipe).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from srlkit.demo import prompts
from srlkit.demo.evaluate import EvalSettings, evaluate_model
from srlkit.demo.student import StudentConfig, build_student, read_student_meta
from srlkit.demo.tasks import HARD, generate_problems, held_out_problems
from srlkit.demo.train import GRPOSettings, TrainResult, run_grpo, solve_dataset, srl_dataset
from srlkit.io import write_json, write_jsonl

logger = logging.getLogger(__name__)

CONFIG_FILE = "demo_config.json"
RESULTS_FILE = "results.json"


METHODS = ("base", "rlvr", "srl", "srl_rlvr")
KEPT_KEY = "dynamic_sampling/kept_fraction"
GENERATED_KEY = "dynamic_sampling/rollouts_generated"


DEMO_STEPS = 40
"""GRPO steps per method (the measured regime of docs/paper-table.md, trials 16-18)."""


def default_srl() -> GRPOSettings:
    return GRPOSettings(steps=DEMO_STEPS)


def default_rlvr() -> GRPOSettings:
    """RLVR with the SRL run's rollout budget; whole solutions need longer completions."""
    return GRPOSettings(steps=DEMO_STEPS, max_completion_length=160)


@dataclass(frozen=True)
class DemoConfig:
    """Everything a demo run depends on (saved as ``demo_config.json`` in the output dir)."""

    seed: int = 0
    train_problems: int = 256
    test_problems: int = 256
    student: StudentConfig = field(default_factory=StudentConfig)
    srl: GRPOSettings = field(default_factory=default_srl)
    rlvr: GRPOSettings = field(default_factory=default_rlvr)
    eval: EvalSettings = field(default_factory=EvalSettings)

    def key(self) -> str:
        blob = json.dumps(asdict(self), sort_keys=True, default=str).encode()
        return hashlib.sha256(blob).hexdigest()[:16]


def quick_config(seed: int = 0) -> DemoConfig:
    """A demo in a few minutes: a smaller student, a few steps of each method (CI, ``--quick``)."""
    from srlkit.demo.sft import SFTSettings

    def tiny(tokens: int) -> GRPOSettings:
        return GRPOSettings(
            steps=2,
            prompts_per_step=2,
            num_generations=4,
            max_generation_rounds=2,
            max_completion_length=tokens,
            seed=seed,
        )

    return DemoConfig(
        seed=seed,
        train_problems=16,
        test_problems=16,
        student=StudentConfig(
            sft_steps=40,
            sft=SFTSettings(epochs=1.0, learning_rate=3e-3, batch_size=16, warmup_ratio=0.2),
            measure_problems=8,
        ),
        srl=tiny(default_srl().max_completion_length),
        rlvr=tiny(48),
    )


def _prepare_out_dir(out: Path, config: DemoConfig) -> None:
    """Keep finished stages only when they were made with this very configuration."""
    saved = out / CONFIG_FILE
    if saved.is_file():
        previous = json.loads(saved.read_text(encoding="utf-8")).get("key")
        if previous != config.key():
            logger.info(
                "configuration changed since the last run in %s: starting its stages afresh", out
            )
            for name in ("stages", "runs", "data"):
                shutil.rmtree(out / name, ignore_errors=True)
    out.mkdir(parents=True, exist_ok=True)
    write_json(saved, {"key": config.key(), "config": asdict(config)})


def _stage(out: Path, name: str, compute) -> Any:
    """Run ``compute()`` once per output dir; its JSON result is reused by later runs."""
    path = out / "stages" / f"{name}.json"
    if path.is_file():
        logger.info("stage %s: done earlier, reusing %s", name, path)
        return json.loads(path.read_text(encoding="utf-8"))
    start = time.monotonic()
    result = compute()
    result = {"seconds": round(time.monotonic() - start, 1), **result}
    write_json(path, result)
    return result


def make_data(out: Path, config: DemoConfig) -> dict[str, Any]:
    """Hard training problems (expert trajectories -> step instances) and held-out test problems.

    The test problems are the first ``test_problems`` of the ``chain-hard`` benchmark, so
    ``srl eval MODEL --benchmarks chain-hard`` scores a saved demo model on the same problems.
    """
    test = held_out_problems()[: config.test_problems]
    train = generate_problems(
        HARD,
        config.train_problems,
        seed=config.seed,
        prefix="hard-train",
        exclude={p.question for p in held_out_problems()},
    )
    train_instances = prompts.step_instances([p.trajectory() for p in train])
    test_instances = prompts.step_instances([p.trajectory() for p in test])
    data = out / "data"
    write_jsonl(data / "train_problems.jsonl", (p.to_record() for p in train))
    write_jsonl(data / "test_problems.jsonl", (p.to_record() for p in test))
    write_jsonl(data / "train_instances.jsonl", (i.to_dict() for i in train_instances))
    write_jsonl(data / "test_instances.jsonl", (i.to_dict() for i in test_instances))
    return {
        "train": train,
        "test": test,
        "train_instances": train_instances,
        "test_instances": test_instances,
    }


def train_method(
    method: str, start: str | Path, run_dir: Path, data: dict[str, Any], config: DemoConfig
) -> dict[str, Any]:
    """One GRPO run of ``method`` ("srl" or "rlvr") from ``start``; its model and training log."""
    from srlkit.rewards.outcome import outcome_reward
    from srlkit.rewards.srl import srl_step_reward

    if method == "srl":
        settings = config.srl
        dataset, reward = srl_dataset(data["train_instances"], start), srl_step_reward
    else:
        settings = config.rlvr
        dataset, reward = solve_dataset(data["train"]), outcome_reward
    result: TrainResult = run_grpo(start, run_dir, dataset, reward, settings, method)
    kept = result.series(KEPT_KEY)
    return {
        "model_dir": str(result.model_dir),  # run_demo stores it relative to the demo folder
        "history": result.history,
        "rollouts_budget": settings.rollouts,
        "rollouts_generated": int(sum(result.series(GENERATED_KEY))),
        "kept_fraction": sum(kept) / len(kept) if kept else None,
    }


def _relative_model(out: Path, trained: dict[str, Any]) -> dict[str, Any]:
    """``trained`` with its ``model_dir`` relative to the demo folder ``out``."""
    model = Path(trained["model_dir"]).resolve()
    return {**trained, "model_dir": os.path.relpath(model, out.resolve())}


def run_demo(
    out_dir: str, config: DemoConfig, cache_dir: str | None = None, rebuild_student: bool = False
) -> dict[str, Any]:
    """Run (or resume) the whole demo; returns the results also written to ``results.json``."""
    out = Path(out_dir)
    _prepare_out_dir(out, config)
    started = time.monotonic()
    timings: dict[str, float] = {}

    t = time.monotonic()
    student = build_student(config.student, cache_dir, rebuild=rebuild_student)
    timings["student"] = round(time.monotonic() - t, 1)
    data = make_data(out, config)
    logger.info(
        "hard split: %d training problems -> %d step instances; %d held-out problems (%d instances)",
        len(data["train"]),
        len(data["train_instances"]),
        len(data["test"]),
        len(data["test_instances"]),
    )
    runs = out / "runs"
    trained: dict[str, dict[str, Any]] = {}
    starts = {"rlvr": str(student), "srl": str(student)}
    for name, method in (("rlvr", "rlvr"), ("srl", "srl"), ("srl_rlvr", "rlvr")):
        origin = trained["srl"]["model_dir"] if name == "srl_rlvr" else starts[name]
        trained[name] = _stage(
            out,
            f"train_{name}",
            lambda n=name, m=method, o=origin: _relative_model(
                out, train_method(m, o, runs / n, data, config)
            ),
        )
        # Stage files name the model relative to the demo folder, so a moved or copied folder
        # evaluates its own model and resumes from any working directory.
        trained[name]["model_dir"] = str(out / trained[name]["model_dir"])
        timings[f"train_{name}"] = trained[name]["seconds"]
    methods: dict[str, dict[str, Any]] = {}
    for name in METHODS:
        model_dir = str(student) if name == "base" else trained[name]["model_dir"]
        evaluated = _stage(
            out,
            f"eval_{name}",
            lambda d=model_dir, n=name: evaluate_model(
                d, data["test"], data["test_instances"], config.eval, n
            ),
        )
        timings[f"eval_{name}"] = evaluated["seconds"]
        # results.json is rewritten by every run, so an absolute path names this folder's model
        # (from_pretrained works from any working directory).
        methods[name] = {
            **evaluated,
            "model": str(Path(model_dir).resolve()),
            **_training_summary(name, trained, config),
        }
    results = {
        "config": asdict(config),
        "student": {"path": str(student), **_student_summary(student)},
        "data": {k: len(v) for k, v in data.items()},
        **methods,
        "histories": {name: run["history"] for name, run in trained.items()},
        "timings_s": timings,
        "total_s": round(time.monotonic() - started, 1),
    }
    write_json(out / RESULTS_FILE, results)
    return results


def _training_summary(
    name: str, trained: dict[str, dict[str, Any]], config: DemoConfig
) -> dict[str, Any]:
    """Rollouts budgeted and kept fractions of the runs that made model ``name``."""
    chain = {"base": [], "rlvr": ["rlvr"], "srl": ["srl"], "srl_rlvr": ["srl", "srl_rlvr"]}[name]
    return {
        "rollouts": sum(trained[n]["rollouts_budget"] for n in chain),
        "rollouts_generated": sum(trained[n]["rollouts_generated"] for n in chain),
        "kept_fraction": {n: trained[n]["kept_fraction"] for n in chain},
    }


def _student_summary(path: Path) -> dict[str, Any]:
    meta = read_student_meta(path)
    return {"accuracy": meta["accuracy"], "parameters": meta["parameters"], "key": meta["key"]}

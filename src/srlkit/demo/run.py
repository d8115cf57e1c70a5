"""``srl demo`` end to end: student -> expert steps on hard problems -> SRL -> base vs SRL.

Each stage writes its result into the output directory and is skipped when a later run with
the same configuration finds it there, so an interrupted demo resumes where it stopped and a
warm run (student cached, stages done) is quick. A changed configuration starts the output
directory's stages afresh (the student cache is keyed separately).
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
from srlkit.demo.tasks import HARD, generate_problems
from srlkit.demo.train import GRPOSettings, TrainResult, run_grpo, srl_dataset
from srlkit.io import write_json, write_jsonl

logger = logging.getLogger(__name__)

CONFIG_FILE = "demo_config.json"
RESULTS_FILE = "results.json"


@dataclass(frozen=True)
class DemoConfig:
    """Everything a demo run depends on (saved as ``demo_config.json`` in the output dir)."""

    seed: int = 0
    train_problems: int = 200
    test_problems: int = 64
    student: StudentConfig = field(default_factory=StudentConfig)
    srl: GRPOSettings = field(default_factory=GRPOSettings)
    eval: EvalSettings = field(default_factory=EvalSettings)

    def key(self) -> str:
        blob = json.dumps(asdict(self), sort_keys=True, default=str).encode()
        return hashlib.sha256(blob).hexdigest()[:16]


def quick_config(seed: int = 0) -> DemoConfig:
    """A demo in about a minute: a smaller student, a few SRL steps (CI and ``--quick``)."""
    from srlkit.demo.sft import SFTSettings

    return DemoConfig(
        seed=seed,
        train_problems=32,
        test_problems=16,
        student=StudentConfig(
            num_easy_problems=200, sft=SFTSettings(epochs=1.0, batch_size=8), measure_problems=16
        ),
        srl=GRPOSettings(
            steps=3, prompts_per_step=2, num_generations=4, max_generation_rounds=2, seed=seed
        ),
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
            for name in ("stages", "srl_run", "data"):
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
    """Hard training problems (expert trajectories -> step instances) and held-out test problems."""
    train = generate_problems(HARD, config.train_problems, seed=config.seed, prefix="hard-train")
    test = generate_problems(
        HARD,
        config.test_problems,
        seed=config.seed + 1,
        prefix="hard-test",
        exclude={p.question for p in train},
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


def _train_srl(
    out: Path, student: Path, data: dict[str, Any], config: DemoConfig
) -> dict[str, Any]:
    from srlkit.rewards.srl import srl_step_reward

    run_dir = out / "srl_run"
    result: TrainResult = run_grpo(
        student, run_dir, srl_dataset(data["train_instances"]), srl_step_reward, config.srl, "srl"
    )
    # Stored relative to the demo folder, so a moved or copied folder evaluates its own model.
    model_dir = os.path.relpath(Path(result.model_dir).resolve(), out.resolve())
    return {"model_dir": model_dir, "history": result.history}


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
    base = _stage(
        out,
        "eval_base",
        lambda: evaluate_model(
            student, data["test"], data["test_instances"], config.eval, "base student"
        ),
    )
    srl = _stage(out, "train_srl", lambda: _train_srl(out, student, data, config))
    srl["model_dir"] = str(out / srl["model_dir"])  # folder-relative in the stage file
    after = _stage(
        out,
        "eval_srl",
        lambda: evaluate_model(
            srl["model_dir"], data["test"], data["test_instances"], config.eval, "SRL student"
        ),
    )
    for name in ("eval_base", "train_srl", "eval_srl"):
        timings[name] = {"eval_base": base, "train_srl": srl, "eval_srl": after}[name]["seconds"]
    results = {
        "config": asdict(config),
        "student": {"path": str(student), **_student_summary(student)},
        "data": {k: len(v) for k, v in data.items()},
        "base": base,
        "srl": after,
        "srl_history": srl["history"],
        "srl_model_dir": srl["model_dir"],
        "timings_s": timings,
        "total_s": round(time.monotonic() - started, 1),
    }
    write_json(out / RESULTS_FILE, results)
    return results


def _student_summary(path: Path) -> dict[str, Any]:
    meta = read_student_meta(path)
    return {"accuracy": meta["accuracy"], "parameters": meta["parameters"], "key": meta["key"]}

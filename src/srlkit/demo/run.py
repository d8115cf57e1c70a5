"""``srl demo`` end to end: student -> expert steps on hard problems -> RLVR, SRL, SRL->RLVR.

Each stage writes its result into the output directory and is skipped when a later run with
the same configuration finds it there, so an interrupted demo resumes where it stopped and a
warm run (student cached, stages done) is quick. A changed configuration starts the output
directory's stages afresh (the student cache is keyed separately). The stages after the
student (three trainings, four evaluations) can run side by side in worker processes
(:func:`run_stages`), with the same numbers as one by one.

Methods (all from the same base student, RLVR and SRL with the same rollout budget):

- ``base``: the warm-started student;
- ``rlvr``: GRPO on the hard training problems with the outcome reward (the paper's RLVR);
- ``srl``: GRPO on the same problems' step instances (continuation layout) with the
  step-similarity reward;
- ``srl_rlvr``: the RLVR run started from the SRL model (the paper's best recipe).
"""

from __future__ import annotations

import dataclasses
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


def _stage_path(out: Path, name: str) -> Path:
    return out / "stages" / f"{name}.json"


def _stage(out: Path, name: str, compute) -> Any:
    """Run ``compute()`` once per output dir; its JSON result is reused by later runs."""
    path = _stage_path(out, name)
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


STAGE_PLAN: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("train_rlvr", ()),
    ("train_srl", ()),
    ("train_srl_rlvr", ("train_srl",)),
    ("eval_base", ()),
    ("eval_rlvr", ("train_rlvr",)),
    ("eval_srl", ("train_srl",)),
    ("eval_srl_rlvr", ("train_srl_rlvr",)),
)
"""Every stage after the student, with the stages it needs; in an order that runs them one by
one, trainings (the long stages) first so that two workers overlap them."""
STAGE_THREADS = 1
"""Torch threads of every stage, in the main process or a worker: the same count either way
keeps the numbers the same, and a second thread does not speed up rollouts (3.0 s vs 3.2 s to
generate 128 solutions, measured)."""


def run_stage(
    out: Path,
    name: str,
    student: str,
    models: dict[str, str],
    data: dict[str, Any],
    config: DemoConfig,
    threads: int | None = None,
) -> dict[str, Any]:
    """Run one stage of :data:`STAGE_PLAN` (or reuse its saved result); ``models`` maps each
    finished training (``rlvr``, ``srl`` ...) to its model directory.

    Module-level so that a worker process can run it: ``threads`` is then that process's
    torch thread count.
    """
    if threads is not None:
        import torch

        torch.set_num_threads(threads)
    kind, method = name.split("_", 1)
    if kind == "train":
        algorithm = "srl" if method == "srl" else "rlvr"
        origin = models["srl"] if method == "srl_rlvr" else student
        return _stage(
            out,
            name,
            lambda: _relative_model(
                out, train_method(algorithm, origin, out / "runs" / method, data, config)
            ),
        )
    model_dir = student if method == "base" else models[method]
    return _stage(
        out,
        name,
        lambda: evaluate_model(
            model_dir, data["test"], data["test_instances"], config.eval, method
        ),
    )


def _record_stage(out: Path, name: str, result: dict[str, Any], models: dict[str, str]) -> None:
    """Note a finished training's model directory (stage files hold it relative to ``out``, so a
    moved or copied folder evaluates its own model and resumes from any working directory)."""
    if name.startswith("train_"):
        models[name.removeprefix("train_")] = str(out / result["model_dir"])


def run_stages(
    out: Path, student: str, data: dict[str, Any], config: DemoConfig, workers: int = 1
) -> dict[str, dict[str, Any]]:
    """Run every stage of :data:`STAGE_PLAN`; returns each stage's result by name.

    With ``workers`` > 1 the stages run in that many worker processes (one torch thread each),
    each started as soon as the stages it needs are done. Why: generating a tiny model's
    rollouts is bound by Python's per-token work, not by arithmetic, so a second thread does
    not speed it up, while a second process runs a second stage at full speed: on two cores
    RLVR and SRL train side by side. Results are the same as one by one (every stage is seeded,
    runs on :data:`STAGE_THREADS` threads and reads only finished stages), and finished stages
    are reused either way.
    """
    models: dict[str, str] = {}
    results: dict[str, dict[str, Any]] = {}
    # In this process: every stage when one by one, else the finished ones (reused), so only
    # missing stages go to workers and a warm run starts no process.
    here = [n for n, _ in STAGE_PLAN if workers <= 1 or _stage_path(out, n).is_file()]
    for name in here:
        results[name] = run_stage(out, name, student, models, data, config, STAGE_THREADS)
        _record_stage(out, name, results[name], models)
    if len(results) == len(STAGE_PLAN):
        return results
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    quiet = dataclasses.replace(
        config,
        srl=dataclasses.replace(config.srl, show_progress=False),
        rlvr=dataclasses.replace(config.rlvr, show_progress=False),
        eval=dataclasses.replace(config.eval, show_progress=False),
    )
    pending = [(name, needs) for name, needs in STAGE_PLAN if name not in results]
    running: dict[Any, str] = {}
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_quiet_worker) as pool:
        while pending or running:
            for name, needs in list(pending):
                if len(running) < workers and all(n in results for n in needs):
                    pending.remove((name, needs))
                    logger.info("stage %s: started", name)
                    future = pool.submit(
                        run_stage, out, name, student, dict(models), data, quiet, STAGE_THREADS
                    )
                    running[future] = name
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                name = running.pop(future)
                results[name] = future.result()
                _record_stage(out, name, results[name], models)
                logger.info("stage %s: done in %.0f s", name, results[name]["seconds"])
    return results


def _quiet_worker() -> None:
    """Worker processes draw no progress bars: two processes' bars would garble one terminal
    (the parent logs each stage's start and end instead)."""
    os.environ["TQDM_DISABLE"] = "1"
    os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] = "1"


def run_demo(
    out_dir: str,
    config: DemoConfig,
    cache_dir: str | None = None,
    rebuild_student: bool = False,
    workers: int = 1,
) -> dict[str, Any]:
    """Run (or resume) the whole demo; returns the results also written to ``results.json``.

    ``workers`` > 1 runs the stages after the student in parallel processes (:func:`run_stages`).
    """
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
    t = time.monotonic()
    stages = run_stages(out, str(student), data, config, workers)
    timings["stages_wall"] = round(time.monotonic() - t, 1)
    trained: dict[str, dict[str, Any]] = {}
    for name in ("rlvr", "srl", "srl_rlvr"):
        trained[name] = {**stages[f"train_{name}"]}
        trained[name]["model_dir"] = str(out / trained[name]["model_dir"])
        timings[f"train_{name}"] = trained[name]["seconds"]
    methods: dict[str, dict[str, Any]] = {}
    for name in METHODS:
        model_dir = str(student) if name == "base" else trained[name]["model_dir"]
        evaluated = stages[f"eval_{name}"]
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

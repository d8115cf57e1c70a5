"""``srl demo`` end to end: student -> regime calibration -> per seed: data, trainings, evaluations.

1. The base student: the one shipped in the package (:mod:`srlkit.demo.student`), so every
   machine starts from the same weights; ``--rebuild_student`` builds one instead.
2. The regime (:mod:`srlkit.demo.regime`): the mildest hard split at which the student's
   pass@8 is at most the threshold, measured on a fresh calibration draw.
3. For each seed: fresh training and test problems at that difficulty
   (:mod:`srlkit.demo.data`), every method's ``srl train`` run and every model's ``srl eval``
   and ``srl eval-steps`` (:mod:`srlkit.demo.stages`), side by side in worker processes.
4. ``results.json`` (:mod:`srlkit.demo.results`): every seed's numbers, their means with
   paired errors (:mod:`srlkit.demo.compare`), the calibration, the machine and the library
   versions.

Resume is the toolkit's own: a finished ``srl train`` run is not trained again and ``srl eval``
generates only missing samples, so an interrupted demo continues where it stopped and a finished
one re-run generates nothing. A seed folder made with other settings is started afresh.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import time
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from srlkit.demo.data import DemoData, write_demo_data
from srlkit.demo.methods import DEFAULT_METHODS, METHODS, resolve_methods
from srlkit.demo.regime import (
    CALIBRATION_PROBLEMS,
    REGIME_THRESHOLD,
    calibrate,
    difficulty_of,
)
from srlkit.demo.results import RESULTS_FILE, assemble, settings_key
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
from srlkit.io import write_json

logger = logging.getLogger(__name__)

CONFIG_FILE = "demo_config.json"
STAGE_THREADS = 1
"""Torch threads of every stage, in the main process or a worker: the same count either way
keeps the numbers the same, and a second thread does not speed up a tiny model's rollouts
(3.0 s vs 3.2 s to generate 128 solutions, measured)."""


@dataclass(frozen=True)
class DemoConfig:
    """Everything a demo run depends on (saved as ``demo_config.json`` in the output folder)."""

    seeds: tuple[int, ...] = (0,)
    methods: tuple[str, ...] = DEFAULT_METHODS
    train_problems: int = 256
    test_problems: int = 256
    student: StudentConfig = field(default_factory=StudentConfig)
    grpo: GRPOSettings = field(default_factory=GRPOSettings)
    sft: SFTSettings = field(default_factory=SFTSettings)
    eval: EvalSettings = field(default_factory=EvalSettings)
    regime_threshold: float = REGIME_THRESHOLD
    calibration_problems: int = CALIBRATION_PROBLEMS
    expert_style: str = "worked"

    def seed_key(self) -> str:
        """What a seed's results depend on (not the list of seeds or methods: adding either
        reuses the finished ones)."""
        return settings_key(asdict(self))


def quick_config(seeds: tuple[int, ...] = (0,)) -> DemoConfig:
    """A demo in a few minutes (CI, ``--quick``): fewer problems, 2 GRPO steps per method,
    a smaller calibration. The student is the shipped one."""
    return DemoConfig(
        seeds=seeds,
        train_problems=16,
        test_problems=16,
        grpo=GRPOSettings(steps=2, prompts_per_step=2, num_generations=4, max_generation_rounds=2),
        sft=SFTSettings(epochs=1.0),
        calibration_problems=8,
    )


def seed_dir(out: Path, seed: int) -> Path:
    return out / f"seed-{seed}"


def keyed_folder(folder: Path, marker: str, key: str, **record: Any) -> Path:
    """``folder``, emptied first when its ``marker`` file names another key (results made with
    other settings); the marker is then written with ``key`` and ``record``."""
    saved = folder / marker
    if saved.is_file() and json.loads(saved.read_text("utf-8")).get("key") != key:
        logger.info("settings changed since the last run in %s: starting it afresh", folder)
        shutil.rmtree(folder)
    folder.mkdir(parents=True, exist_ok=True)
    write_json(saved, {"key": key, **record})
    return folder


def _prepare_seed(
    out: Path, seed: int, config: DemoConfig, student: str, difficulty: Difficulty
) -> Path:
    """The seed's folder, emptied when it holds results of other settings, of another base
    student (shipped or rebuilt) or of another calibrated difficulty (its data differ)."""
    inputs = json.dumps([config.seed_key(), student, asdict(difficulty)], sort_keys=True)
    key = hashlib.sha256(inputs.encode()).hexdigest()[:16]
    return keyed_folder(seed_dir(out, seed), CONFIG_FILE, key, seed=seed)


def _stage_plan(methods: tuple[str, ...]) -> list[tuple[str, str, tuple[str, ...]]]:
    """``(kind, method, needs)`` for every stage: trainings first (the long ones, so workers
    overlap them), each after the training it starts from; each evaluation after its model."""
    trains = [
        ("train", m, (f"train:{METHODS[m].start}",) if METHODS[m].start != "base" else ())
        for m in methods
        if METHODS[m].trains
    ]
    evals = [("eval", m, (f"train:{m}",) if METHODS[m].trains else ()) for m in methods]
    return trains + evals


@dataclass(frozen=True)
class StageJob:
    """One stage of one seed, as a worker process runs it."""

    kind: str
    method: str
    seed: int
    folder: str
    student: str
    data: str
    config: DemoConfig
    progress: bool

    @property
    def name(self) -> str:
        return f"{self.kind}:{self.method}"

    def model_dir(self, method: str) -> str:
        return self.student if method == "base" else str(Path(self.folder) / "runs" / method)

    def argv(self) -> list[str]:
        spec = METHODS[self.method]
        data = DemoData(Path(self.data), {})
        run_dir = Path(self.folder) / "runs" / self.method
        c = self.config
        return train_argv(
            spec, self.model_dir(spec.start), data, run_dir, c.grpo, c.sft, self.seed, self.progress
        )


def run_job(job: StageJob) -> dict[str, Any]:
    """Run one stage (module-level so a worker process can); returns its timed result.

    Without progress bars (in a worker), what the stage prints (transformers prints each
    step's metrics when its bar is off) goes to ``logs/<kind>_<method>.log`` in the seed's
    folder instead of the shared terminal.
    """
    if job.progress:
        return _run_job(job)
    log = Path(job.folder) / "logs" / f"{job.kind}_{job.method}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "a", encoding="utf-8") as f, redirect_stdout(f), redirect_stderr(f):
        return _run_job(job)


def _run_job(job: StageJob) -> dict[str, Any]:
    import torch

    torch.set_num_threads(STAGE_THREADS)
    start = time.monotonic()
    if job.kind == "train":
        result = train(METHODS[job.method].algorithm or "", job.argv())
    else:
        result = evaluate(
            job.model_dir(job.method),
            DemoData(Path(job.data), {}),
            Path(job.folder) / "evals" / job.method,
            job.config.eval,
            job.seed,
        )
    return {"seconds": round(time.monotonic() - start, 1), **result}


def run_jobs(jobs: list[tuple[StageJob, tuple[str, ...]]], workers: int) -> dict[tuple, dict]:
    """Run every job after the ones it needs; ``workers`` > 1 runs them in worker processes.

    Why processes: generating a tiny model's rollouts is bound by Python's per-token work, so a
    second thread does not speed it up, while a second process runs a second stage at full
    speed. Every stage is seeded and runs on :data:`STAGE_THREADS` threads, so the numbers are
    the same either way.
    """
    results: dict[tuple, dict] = {}
    if workers <= 1:
        for job, _ in jobs:
            results[(job.seed, job.name)] = run_job(job)
        return results
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    pending = list(jobs)
    running: dict[Any, StageJob] = {}
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_quiet_worker) as pool:
        while pending or running:
            for job, needs in list(pending):
                if len(running) < workers and all((job.seed, n) in results for n in needs):
                    pending.remove((job, needs))
                    logger.info("seed %d %s: started", job.seed, job.name)
                    running[pool.submit(run_job, job)] = job
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                job = running.pop(future)
                results[(job.seed, job.name)] = future.result()
                logger.info(
                    "seed %d %s: done in %.0f s",
                    job.seed,
                    job.name,
                    results[(job.seed, job.name)]["seconds"],
                )
    return results


def _quiet_worker() -> None:
    """Worker processes draw no progress bars (two processes' bars would garble one terminal);
    the parent logs each stage's start and end instead."""
    os.environ["TQDM_DISABLE"] = "1"
    os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] = "1"


def calibrate_student(
    out: Path,
    student: str,
    threshold: float,
    problems: int,
    ladder: tuple[Difficulty, ...] = LADDER,
) -> dict[str, Any]:
    """The regime calibration of ``student``, in ``out/calibration`` (resumable; redone when the
    student or the calibration's settings change), on the stages' thread count so that it
    samples on the same path on every run."""
    import torch

    key = json.dumps([student, threshold, problems, [asdict(level) for level in ladder]])
    folder = keyed_folder(out / "calibration", "key.json", key)
    threads = torch.get_num_threads()
    torch.set_num_threads(STAGE_THREADS)
    try:
        return calibrate(
            student, folder, SOLVE_TOKENS, ladder=ladder, threshold=threshold, problems=problems
        )
    finally:
        torch.set_num_threads(threads)


def run_demo(
    out_dir: str,
    config: DemoConfig,
    cache_dir: str | None = None,
    rebuild_student: bool = False,
    workers: int = 1,
) -> dict[str, Any]:
    """Run (or resume) the whole demo; returns the results also written to ``results.json``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    write_json(out / CONFIG_FILE, {"config": asdict(config)})
    started = time.monotonic()
    timings: dict[str, float] = {}
    t = time.monotonic()
    student = str(build_student(config.student, cache_dir, rebuild=rebuild_student))
    timings["student"] = round(time.monotonic() - t, 1)
    t = time.monotonic()
    calibration = calibrate_student(
        out, student, config.regime_threshold, config.calibration_problems
    )
    timings["calibration"] = round(time.monotonic() - t, 1)
    difficulty = difficulty_of(calibration)
    logger.info("regime: %s (%s)", calibration["describe"], _regime_words(calibration))
    methods = resolve_methods(config.methods)
    jobs: list[tuple[StageJob, tuple[str, ...]]] = []
    counts: dict[int, dict[str, int]] = {}
    for seed in config.seeds:
        folder = _prepare_seed(out, seed, config, student, difficulty)
        data = write_demo_data(
            folder / "data",
            difficulty,
            config.train_problems,
            config.test_problems,
            seed,
            config.expert_style,
        )
        counts[seed] = data.counts
        for kind, method, needs in _stage_plan(methods):
            job = StageJob(
                kind, method, seed, str(folder), student, str(data.folder), config, workers <= 1
            )
            jobs.append((job, needs))
    t = time.monotonic()
    stage_results = run_jobs(jobs, workers)
    timings["stages_wall"] = round(time.monotonic() - t, 1)
    results = assemble(
        out / RESULTS_FILE,
        config,
        student,
        calibration,
        methods,
        stage_results,
        counts,
        timings,
        total_s=round(time.monotonic() - started, 1),
    )
    write_json(out / RESULTS_FILE, results)
    return results


def _regime_words(calibration: dict[str, Any]) -> str:
    level = calibration["levels"][calibration["chosen"]]
    met = "met" if calibration["regime_met"] else "NOT met at the hardest level"
    return (
        f"base {calibration['metric']} {level[calibration['metric']]:.3f}, threshold "
        f"{calibration['threshold']}: {met}"
    )

"""Trainer callbacks that make every run inspectable on disk, whatever ``report_to`` says.

- :class:`MetricsJSONLCallback` appends each log event (training and validation) to
  ``metrics.jsonl`` in the run folder. On every start it first drops the lines logged after
  the step it starts from (all of them on a fresh start: a run killed before its first
  checkpoint left lines no checkpoint backs), so the file reads as one run after any resume.
  On resume it also rewrites the final ``train_loss``, which transformers averages over the
  resumed steps only, into the mean over the whole run, as the uninterrupted run reports it.
- :class:`BestCheckpointCallback` records the best checkpoint so far (transformers tracks it
  from ``metric_for_best_model``; we persist it) in ``best_checkpoint.json``, which the
  pipeline reads to start RLVR from the best SRL checkpoint.

Both write on the main process only; ``best_checkpoint.json`` is written atomically.
"""

from __future__ import annotations

import json
import logging
import math
import os
import time
from pathlib import Path
from typing import Any

from transformers import TrainerCallback

from srlkit.io import atomic_write, iter_jsonl, write_json

logger = logging.getLogger(__name__)

METRICS_FILE = "metrics.jsonl"
BEST_CHECKPOINT_FILE = "best_checkpoint.json"


def _jsonable(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None  # JSON has no NaN/inf; a missing value reads honestly as null
    if isinstance(value, (int, float, str, bool)) or value is None:
        return value
    return str(value)


class MetricsJSONLCallback(TrainerCallback):
    """Append ``{"step", "epoch", "time", **logs}`` per log event to ``<run_dir>/metrics.jsonl``."""

    def __init__(self, run_dir: str | os.PathLike[str]):
        self.path = Path(run_dir) / METRICS_FILE
        self.start_step = 0

    def on_train_begin(self, args, state, control, **kwargs):
        self.start_step = state.global_step
        if state.is_world_process_zero and self.path.exists():
            kept = [
                rec
                for _, rec in iter_jsonl(self.path, skip_invalid=True)
                if state.global_step > 0 and _step(rec) <= state.global_step
            ]
            with atomic_write(self.path) as f:
                for rec in kept:
                    f.write(json.dumps(rec) + "\n")
            logger.info(
                "starting at step %d: kept %d earlier metric lines", state.global_step, len(kept)
            )

    def on_log(self, args, state, control, logs=None, **kwargs):
        if not state.is_world_process_zero or not logs:
            return
        if "train_loss" in logs and self.start_step > 0 and self.path.exists():
            logs["train_loss"] = whole_run_train_loss(
                self.path, self.start_step, logs["train_loss"], state.global_step
            )
        record = {"step": state.global_step, "epoch": state.epoch, "time": round(time.time(), 3)}
        record.update({k: _jsonable(v) for k, v in logs.items()})
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(json.dumps(record) + "\n")


def _step(record: dict[str, Any]) -> float:
    step = record.get("step", 0)
    return step if isinstance(step, (int, float)) else 0


def whole_run_train_loss(
    metrics_path: Path, start_step: int, segment_loss: float, global_step: int
) -> float:
    """The mean training loss over all steps of a resumed run.

    transformers reports ``train_loss`` as the mean over the steps of *this* process only.
    Each logged ``loss`` is the mean over the steps since the previous log, so the losses
    logged up to ``start_step`` give the sum over the steps before the resume (exact when
    the checkpoint fell on a logging step, as every checkpoint of a ``logging_steps=1`` run does).
    """
    before, previous = 0.0, 0
    lines = sorted(
        (rec for _, rec in iter_jsonl(metrics_path, skip_invalid=True) if "loss" in rec),
        key=_step,
    )
    for rec in lines:
        step = _step(rec)
        if step > start_step or not isinstance(rec["loss"], (int, float)):
            continue
        before += rec["loss"] * (step - previous)
        previous = step
    segment = segment_loss * (global_step - start_step)
    return (before + segment) / max(global_step, 1)


class BestCheckpointCallback(TrainerCallback):
    """Persist transformers' best-checkpoint tracking to ``<run_dir>/best_checkpoint.json``."""

    def __init__(self, run_dir: str | os.PathLike[str]):
        self.path = Path(run_dir) / BEST_CHECKPOINT_FILE

    def _record(self, args, state) -> None:
        if not state.is_world_process_zero or state.best_model_checkpoint is None:
            return
        write_json(
            self.path,
            {
                "path": os.path.abspath(state.best_model_checkpoint),
                "step": state.best_global_step,
                "metric": args.metric_for_best_model,
                "value": _jsonable(state.best_metric),
                "greater_is_better": args.greater_is_better,
            },
        )

    def on_save(self, args, state, control, **kwargs):
        self._record(args, state)

    def on_train_end(self, args, state, control, **kwargs):
        self._record(args, state)


def read_best_checkpoint(run_dir: str | os.PathLike[str]) -> dict[str, Any] | None:
    """The recorded best checkpoint of a run, or ``None`` when it never validated."""
    path = Path(run_dir) / BEST_CHECKPOINT_FILE
    if not path.exists():
        return None
    return json.loads(path.read_text(encoding="utf-8"))

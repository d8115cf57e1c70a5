"""Run-folder callbacks, without a trainer: metrics lines, resume truncation, best checkpoint."""

from __future__ import annotations

import json
import math
from types import SimpleNamespace

from srlkit.training.callbacks import (
    BestCheckpointCallback,
    MetricsJSONLCallback,
    read_best_checkpoint,
)


def _state(step: int, main: bool = True, **kw) -> SimpleNamespace:
    return SimpleNamespace(global_step=step, epoch=step / 10, is_world_process_zero=main, **kw)


def test_metrics_lines_are_json_with_nan_as_null(tmp_path):
    cb = MetricsJSONLCallback(tmp_path)
    cb.on_log(
        None, _state(1), None, logs={"reward": 0.5, "clip_ratio/low_min": math.nan, "note": object}
    )
    cb.on_log(
        None, _state(2, main=False), None, logs={"reward": 0.9}
    )  # other processes write nothing
    lines = [
        json.loads(x) for x in (tmp_path / "metrics.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    assert len(lines) == 1
    assert (
        lines[0]["step"] == 1
        and lines[0]["reward"] == 0.5
        and lines[0]["clip_ratio/low_min"] is None
    )
    assert isinstance(lines[0]["note"], str)


def test_resume_drops_lines_logged_after_the_checkpoint(tmp_path):
    cb = MetricsJSONLCallback(tmp_path)
    for step in (1, 2, 3, 4):
        cb.on_log(None, _state(step), None, logs={"loss": float(step)})
    MetricsJSONLCallback(tmp_path).on_train_begin(None, _state(2), None)  # resumed at checkpoint-2
    lines = [
        json.loads(x) for x in (tmp_path / "metrics.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    assert [m["step"] for m in lines] == [1, 2]
    # A fresh start (a run killed before its first checkpoint, started again): no checkpoint
    # backs the earlier lines, so none is kept and step 1 is not logged twice.
    MetricsJSONLCallback(tmp_path).on_train_begin(None, _state(0), None)
    assert (tmp_path / "metrics.jsonl").read_text(encoding="utf-8") == ""


def test_best_checkpoint_is_recorded_only_once_known(tmp_path):
    args = SimpleNamespace(metric_for_best_model="reward", greater_is_better=True)
    cb = BestCheckpointCallback(tmp_path)
    cb.on_save(
        args, _state(2, best_model_checkpoint=None, best_global_step=None, best_metric=None), None
    )
    assert read_best_checkpoint(tmp_path) is None
    ckpt = tmp_path / "checkpoint-4"
    cb.on_save(
        args, _state(6, best_model_checkpoint=str(ckpt), best_global_step=4, best_metric=0.25), None
    )
    assert read_best_checkpoint(tmp_path) == {
        "path": str(ckpt),
        "step": 4,
        "metric": "reward",
        "value": 0.25,
        "greater_is_better": True,
    }

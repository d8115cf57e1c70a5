"""Resume: a run stopped after a checkpoint and restarted ends exactly where the uninterrupted run does."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from training_helpers import tiny_argv
from transformers import TrainerCallback

from srlkit.io import DataError
from srlkit.training.config import parse_method_args
from srlkit.training.runner import run

pytestmark = pytest.mark.slow

IGNORED = {
    "time",
    "step_time",
    "train_runtime",
    "train_samples_per_second",
    "train_steps_per_second",
    "epoch",
}


class Killed(Exception):
    """Stands for the process being killed: nothing after it runs (no model save, no summary)."""


class StopAfter(TrainerCallback):
    """Simulates a kill: raises once checkpoint ``step`` is saved, before anything else runs."""

    def __init__(self, step: int):
        self.step = step

    def on_save(self, args, state, control, **kwargs):
        if state.global_step >= self.step:
            raise Killed(f"killed after checkpoint-{state.global_step}")


def _args(model_dir: Path, out: Path, data: dict[str, Path], *extra: str):
    common = [
        "--train_file",
        str(data["train"]),
        "--eval_file",
        "",
        "--max_steps",
        "2",
        "--save_steps",
        "1",
        "--logging_steps",
        "1",
        *extra,
    ]
    return parse_method_args("srl", tiny_argv("srl", model_dir, out, *common))


def _train_lines(run_dir: Path) -> list[dict]:
    lines = [
        json.loads(x) for x in (run_dir / "metrics.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    return [
        {k: v for k, v in m.items() if k not in IGNORED and not k.startswith("timing_s/")}
        for m in lines
        if "loss" in m
    ]


def test_resume_reproduces_the_uninterrupted_run(tmp_path, tiny_model_dir, srl_data):
    from safetensors.torch import load_file

    straight, stopped = tmp_path / "straight", tmp_path / "stopped"
    run(_args(tiny_model_dir, straight, srl_data))
    with pytest.raises(Killed):
        run(_args(tiny_model_dir, stopped, srl_data), callbacks=[StopAfter(1)])
    assert (stopped / "checkpoint-1").is_dir() and not (stopped / "checkpoint-2").exists()
    resumed = run(_args(tiny_model_dir, stopped, srl_data))  # resume=auto picks checkpoint-1

    summary = json.loads((stopped / "run_summary.json").read_text(encoding="utf-8"))
    assert summary["resumed_from"].endswith("checkpoint-1") and summary["global_step"] == 2
    straight_summary = json.loads((straight / "run_summary.json").read_text(encoding="utf-8"))
    # transformers averages train_loss over the resumed steps only; srlkit reports the whole run
    assert summary["train_metrics"]["train_loss"] == pytest.approx(
        straight_summary["train_metrics"]["train_loss"], rel=1e-6
    )
    a = load_file(str(straight / "model.safetensors"))
    b = load_file(str(resumed.final_model_dir / "model.safetensors"))
    assert a.keys() == b.keys()
    assert all(torch.equal(a[k], b[k]) for k in a), (
        "resumed weights differ from the uninterrupted run"
    )
    assert _train_lines(stopped) == _train_lines(
        straight
    )  # same rewards, losses, kept fractions per step


def test_resume_never_refuses_to_overwrite(tmp_path):
    (tmp_path / "checkpoint-3").mkdir()
    (tmp_path / "checkpoint-3" / "trainer_state.json").write_text("{}", encoding="utf-8")
    from srlkit.training.checkpoints import latest_checkpoint, resolve_resume

    (tmp_path / "checkpoint-7").mkdir()  # no trainer_state.json: an interrupted save, skipped
    assert latest_checkpoint(tmp_path) == str(tmp_path / "checkpoint-3")
    assert resolve_resume("auto", tmp_path) == str(tmp_path / "checkpoint-3")
    with pytest.raises(DataError, match="checkpoint-3"):
        resolve_resume("never", tmp_path)
    with pytest.raises(DataError, match="not a checkpoint"):
        resolve_resume(str(tmp_path / "checkpoint-7"), tmp_path)
    assert resolve_resume("never", tmp_path / "fresh") is None

"""Training runs under bad luck: finished runs left alone, kills before and after checkpoints,
torn checkpoints, and option mistakes reported in one line (exit 2) before anything trains."""

from __future__ import annotations

import errno
import json
import logging
from pathlib import Path

import pytest
import yaml
from training_helpers import TINY_RECIPES, tiny_argv
from transformers import Trainer, TrainerCallback

from srlkit.cli.main import main as srl
from srlkit.io import DataError
from srlkit.training.checkpoints import latest_checkpoint, resolve_resume
from srlkit.training.config import parse_method_args
from srlkit.training.runner import run


class Killed(Exception):
    """Stands for the process being killed: nothing after it runs."""


class KillAtLog(TrainerCallback):
    """Kills the run right after step ``step`` is logged (before any checkpoint of that step)."""

    def __init__(self, step: int):
        self.step = step

    def on_log(self, args, state, control, logs=None, **kwargs):
        if state.global_step >= self.step and logs and "loss" in logs:
            raise Killed(f"killed at step {state.global_step}")


def _argv(model_dir: Path, out: Path, data: dict[str, Path], *extra: str) -> list[str]:
    common = ["--train_file", str(data["train"]), "--eval_file", "", "--max_steps", "2"]
    return tiny_argv("srl", model_dir, out, *common, *extra)


def _snapshot(out: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(out)): p.read_bytes()
        for p in sorted(out.rglob("*"))
        if p.is_file() and p.name != "metrics.jsonl"
    }


@pytest.mark.slow
def test_a_finished_run_is_left_alone_and_a_kill_after_its_last_checkpoint_trains_no_more(
    tmp_path, tiny_model_dir, srl_data
):
    out = tmp_path / "run"
    args = _argv(tiny_model_dir, out, srl_data, "--save_steps", "1")
    first = run(parse_method_args("srl", args))
    before = _snapshot(out)
    again = run(parse_method_args("srl", args))
    assert _snapshot(out) == before and not (out / "checkpoint-3").exists()
    assert again.metrics["global_step"] == 2 and again.final_model_dir == first.final_model_dir

    # Killed between the last checkpoint and the summary: no summary, no final model yet.
    (out / "run_summary.json").unlink()
    (out / "model.safetensors").unlink()
    run(parse_method_args("srl", args))
    assert not (out / "checkpoint-3").exists()
    assert (out / "model.safetensors").read_bytes() == before["checkpoint-2/model.safetensors"]
    summary = json.loads((out / "run_summary.json").read_text())
    assert summary["complete"] and summary["global_step"] == 2

    # New options on a finished run: named, not ignored; a larger step budget alone trains on.
    finished = _snapshot(out)
    with pytest.raises(DataError, match=r"learning_rate: 0\.001 -> 0\.5.*another --output_dir"):
        run(parse_method_args("srl", [*args, "--learning_rate", "0.5"]))
    assert _snapshot(out) == finished
    run(parse_method_args("srl", [*args, "--max_steps", "3"]))
    summary = json.loads((out / "run_summary.json").read_text())
    assert summary["global_step"] == 3 and summary["resumed_from"].endswith("checkpoint-2")
    steps = [json.loads(x).get("step") for x in (out / "metrics.jsonl").read_text().splitlines()]
    assert 3 in steps
    assert yaml.safe_load((out / "config.yaml").read_text())["max_steps"] == 3


@pytest.mark.slow
def test_a_kill_before_the_first_checkpoint_leaves_metrics_as_one_run(
    tmp_path, tiny_model_dir, srl_data
):
    out = tmp_path / "run"
    args = _argv(tiny_model_dir, out, srl_data, "--save_steps", "2", "--logging_steps", "1")
    with pytest.raises(Killed):
        run(parse_method_args("srl", args), callbacks=[KillAtLog(1)])
    assert latest_checkpoint(out) is None
    run(parse_method_args("srl", args))
    lines = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines()]
    assert [m["step"] for m in lines if "loss" in m] == [1, 2]


def _fake_checkpoint(out: Path, step: int) -> Path:
    import torch
    from safetensors.torch import save_file

    ckpt = out / f"checkpoint-{step}"
    ckpt.mkdir(parents=True)
    save_file({"w": torch.zeros(64)}, str(ckpt / "model.safetensors"))
    torch.save({"lr": 0.1}, ckpt / "optimizer.pt")
    (ckpt / "trainer_state.json").write_text(json.dumps({"global_step": step, "max_steps": 10}))
    return ckpt


@pytest.mark.parametrize(
    ("broken_file", "how"),
    [
        pytest.param("model.safetensors", "truncate", id="torn_weights"),
        pytest.param("optimizer.pt", "truncate", id="torn_optimizer"),
        pytest.param("trainer_state.json", "truncate", id="torn_state"),
    ],
)
def test_a_torn_latest_checkpoint_falls_back_to_the_previous_one(
    broken_file, how, tmp_path, caplog
):
    _fake_checkpoint(tmp_path, 2)
    newest = _fake_checkpoint(tmp_path, 4)
    data = (newest / broken_file).read_bytes()
    (newest / broken_file).write_bytes(data[: len(data) // 2])
    with caplog.at_level(logging.WARNING):
        assert resolve_resume("auto", tmp_path) == str(tmp_path / "checkpoint-2")
    assert f"checkpoint-4 ({broken_file}" in caplog.text
    with pytest.raises(
        DataError, match=rf"{broken_file}.*--resume {tmp_path / 'checkpoint-2'} works"
    ):
        resolve_resume(str(newest), tmp_path)


def test_complete_checkpoints_pass_the_check(tmp_path):
    ckpt = _fake_checkpoint(tmp_path, 3)
    assert resolve_resume("auto", tmp_path) == str(ckpt)


def test_a_pipeline_reports_a_later_stage_typo_before_the_first_stage_trains(
    tmp_path, tiny_model_dir, srl_data, capsys
):
    recipe = yaml.safe_load((TINY_RECIPES / "srl_rlvr" / "config.yaml").read_text())
    recipe["rlvr"]["learnin_rate"] = 1.0  # the typo
    recipe["rlvr"]["train_file"] = str(srl_data["train"])
    recipe["output_dir"] = str(tmp_path / "pipe")
    config = tmp_path / "pipeline.yaml"
    config.write_text(yaml.safe_dump(recipe))
    argv = [
        "train",
        "pipeline",
        "--config",
        str(config),
        "--model_name_or_path",
        str(tiny_model_dir),
    ]
    argv += ["--srl.train_file", str(srl_data["train"]), "--srl.eval_file", ""]
    assert srl(argv) == 2
    err = capsys.readouterr().err
    assert "learnin_rate" in err and err.count("\n") == 1
    assert not list((tmp_path / "pipe").rglob("checkpoint-*"))
    assert not (tmp_path / "pipe" / "srl" / "metrics.jsonl").exists()


def _one_line_exit_2(capsys, argv: list[str], *expected: str) -> None:
    assert srl(argv) == 2
    err = capsys.readouterr().err
    errors = [line for line in err.splitlines() if line.startswith("srl: error: ")]
    assert len(errors) == 1 and "Traceback" not in err, err  # (progress bars may precede it)
    for text in expected:
        assert text in errors[0], err


def test_option_mistakes_are_one_line_errors_before_anything_loads(
    tmp_path, tiny_model_dir, srl_data, capsys, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "run"
    train = ["train", "srl"]
    _one_line_exit_2(capsys, [*train, *_argv(tmp_path / "no-such-model", out, srl_data)],
                     "no-such-model: no such model folder")  # fmt: skip
    _one_line_exit_2(capsys, [*train, *_argv(Path("runs/model"), out, srl_data)], "runs/model")
    _one_line_exit_2(capsys, [*train, *_argv(Path("nope"), out, srl_data)],
                     "nope: not a local model folder, and not loadable from the hub")  # fmt: skip
    _one_line_exit_2(capsys, [*train, *_argv(tiny_model_dir, out, srl_data), "--max_steps", "0"],
                     "--max_steps 0")  # fmt: skip
    _one_line_exit_2(capsys, [*train, *_argv(tiny_model_dir, out, srl_data), "--num_generations", "3"],
                     "divisible by num_generations")  # fmt: skip
    (tmp_path / "afile").write_text("x")
    _one_line_exit_2(capsys, [*train, *_argv(tiny_model_dir, tmp_path / "afile", srl_data)],
                     "afile: is a file; --output_dir")  # fmt: skip
    assert not out.exists() or not any(out.iterdir())


@pytest.mark.slow
def test_a_full_disk_is_one_line_exit_2(tmp_path, tiny_model_dir, srl_data, capsys, monkeypatch):
    def no_space(self, *args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Trainer, "_save_checkpoint", no_space)
    out = tmp_path / "run"
    _one_line_exit_2(capsys, ["train", "srl", *_argv(tiny_model_dir, out, srl_data), "--save_steps", "1"],
                     "no space left on the device", "re-run")  # fmt: skip


def test_a_final_checkpoint_is_final_only_for_the_configured_step_count(tmp_path):
    from srlkit.training.checkpoints import is_final_checkpoint

    ckpt = _fake_checkpoint(tmp_path, 10)  # its run computed max_steps 10
    assert is_final_checkpoint(ckpt)  # by epochs (max_steps -1): the recorded count
    assert is_final_checkpoint(ckpt, 10)
    assert not is_final_checkpoint(ckpt, 20)  # extending the run trains on

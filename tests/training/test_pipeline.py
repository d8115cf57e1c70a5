"""`srl train pipeline`: SRL then RLVR from the best SRL checkpoint, one command, one config."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from training_helpers import TINY_RECIPES, shared_gsm8k

from srlkit.cli.main import main

pytestmark = pytest.mark.slow


def test_srl_then_rlvr_from_the_best_srl_checkpoint(tmp_path, tiny_model_dir, srl_data, caplog):
    out = tmp_path / "pipe"
    argv = [
        "train",
        "pipeline",
        "--config",
        str(TINY_RECIPES / "srl_rlvr" / "config.yaml"),
        "--model_name_or_path",
        str(tiny_model_dir),
        "--output_dir",
        str(out),
        "--srl.train_file",
        str(srl_data["train"]),
        "--srl.eval_file",
        str(srl_data["validation"]),
        "--rlvr.train_file",
        shared_gsm8k("train"),
        "--rlvr.max_steps",
        "1",
        "--rlvr.eval_file",
        "",
        "--rlvr.max_generation_rounds",
        "1",
    ]
    assert main(argv) == 0
    srl_best = json.loads((out / "srl" / "best_checkpoint.json").read_text(encoding="utf-8"))
    assert Path(srl_best["path"]).parent == out / "srl" and srl_best["step"] == 2
    rlvr_config = json.loads((out / "rlvr" / "resolved_config.json").read_text(encoding="utf-8"))
    assert (
        rlvr_config["model"]["model_name_or_path"] == srl_best["path"]
    )  # RLVR starts from the best SRL checkpoint
    assert (
        rlvr_config["train"]["max_steps"] == 1
        and rlvr_config["train"]["dynamic_sampling_rule"] == "outcome"
    )
    assert (
        json.loads((out / "srl" / "resolved_config.json").read_text(encoding="utf-8"))["train"][
            "max_steps"
        ]
        == 2
    )
    stages = json.loads((out / "pipeline.json").read_text(encoding="utf-8"))["stages"]
    assert [s["stage"] for s in stages] == ["srl", "rlvr"]

    # Re-running the finished pipeline trains nothing again.
    mtime = (out / "rlvr" / "run_summary.json").stat().st_mtime
    with caplog.at_level("INFO"):
        assert main(argv) == 0
    assert "already finished" in caplog.text
    assert (out / "rlvr" / "run_summary.json").stat().st_mtime == mtime

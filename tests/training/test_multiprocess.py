"""`srl train srl` under two processes (torchrun, CPU): one consistent run, one writer of run files."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from training_helpers import tiny_argv

pytestmark = [pytest.mark.slow, pytest.mark.multiprocess]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_process_srl_run(tmp_path, tiny_model_dir, srl_data):
    out = tmp_path / "run"
    torchrun = Path(sys.executable).with_name("torchrun")
    argv = tiny_argv(
        "srl",
        tiny_model_dir,
        out,
        "--train_file",
        str(srl_data["train"]),
        "--max_steps",
        "2",
        "--eval_file",
        str(srl_data["validation"]),
    )
    cmd = [
        str(torchrun),
        "--nproc_per_node",
        "2",
        "--master_port",
        str(_free_port()),
        "-m",
        "srlkit.cli.main",
        "train",
        "srl",
        *argv,
    ]
    env = {
        **os.environ,
        "OMP_NUM_THREADS": "1",
        "HF_HUB_OFFLINE": "1",
        "TOKENIZERS_PARALLELISM": "false",
    }
    proc = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr[-4000:]

    resolved = json.loads((out / "resolved_config.json").read_text(encoding="utf-8"))
    assert (
        resolved["train"]["generation_batch_size"] == 16
    )  # 8 completions per process x 2 processes
    lines = [
        json.loads(x) for x in (out / "metrics.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    assert [m["step"] for m in lines if "loss" in m] == [1, 2]  # logged once, by the main process
    assert [m["step"] for m in lines if "eval_reward" in m] == [2]
    best = json.loads((out / "best_checkpoint.json").read_text(encoding="utf-8"))
    assert best["step"] == 2 and Path(best["path"]).is_dir()

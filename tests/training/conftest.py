"""Fixtures for the training tests: step-instance and trajectory files from real GSM8K data."""

from __future__ import annotations

from pathlib import Path

import pytest
from training_helpers import gsm8k_trajectories, step_instances

from srlkit.io import write_jsonl


@pytest.fixture(scope="session")
def srl_data(tmp_path_factory, shared_data) -> dict[str, Path]:
    """train/validation step-instance JSONL and their trajectory JSONL, from real GSM8K solutions."""
    root = tmp_path_factory.mktemp("srl_data")
    train_traj = gsm8k_trajectories(shared_data, 8)
    val_traj = gsm8k_trajectories(shared_data, 2, offset=100)
    write_jsonl(root / "train.jsonl", (i.to_dict() for i in step_instances(train_traj)))
    write_jsonl(root / "validation.jsonl", (i.to_dict() for i in step_instances(val_traj)))
    write_jsonl(root / "trajectories.jsonl", (t.to_dict() for t in train_traj))
    write_jsonl(root / "val_trajectories.jsonl", (t.to_dict() for t in val_traj))
    return {
        "train": root / "train.jsonl",
        "validation": root / "validation.jsonl",
        "trajectories": root / "trajectories.jsonl",
        "val_trajectories": root / "val_trajectories.jsonl",
    }

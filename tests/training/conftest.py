"""Fixtures for the training tests: step-instance and trajectory files from real GSM8K data."""

from __future__ import annotations

from pathlib import Path

import pytest
from training_helpers import gsm8k_trajectories, step_instances

from srlkit.io import write_jsonl


@pytest.fixture(scope="session")
def srl_data(tmp_path_factory, shared_data) -> dict[str, Path]:
    """train/validation step-instance JSONL and a trajectory JSONL, from real GSM8K solutions."""
    root = tmp_path_factory.mktemp("srl_data")
    train_traj = gsm8k_trajectories(shared_data, 8)
    val_traj = gsm8k_trajectories(shared_data, 2, offset=100)
    write_jsonl(root / "train.jsonl", (i.to_dict() for i in step_instances(train_traj)))
    write_jsonl(root / "validation.jsonl", (i.to_dict() for i in step_instances(val_traj)))
    write_jsonl(root / "trajectories.jsonl", (t.to_dict() for t in train_traj))
    return {
        "train": root / "train.jsonl",
        "validation": root / "validation.jsonl",
        "trajectories": root / "trajectories.jsonl",
    }


@pytest.fixture(scope="session")
def srl_model_dir(tmp_path_factory, tiny_model_dir) -> Path:
    """The tiny model with ``<think>``/``</think>`` as ordinary added tokens.

    The shared tiny tokenizer registers them as *special* tokens, and TRL decodes completions
    with ``skip_special_tokens=True``, which deletes them: every rollout would then fail the
    format check. Real chat models (Qwen2.5: plain text; Qwen3: non-special added tokens) keep
    them, so the training tests use this copy.
    """
    import json
    import shutil

    out = tmp_path_factory.mktemp("srl_model") / "model"
    shutil.copytree(tiny_model_dir, out)
    tok = json.loads((out / "tokenizer.json").read_text(encoding="utf-8"))
    for added in tok["added_tokens"]:
        if added["content"] in ("<think>", "</think>"):
            added["special"] = False
    (out / "tokenizer.json").write_text(json.dumps(tok), encoding="utf-8")
    cfg = json.loads((out / "tokenizer_config.json").read_text(encoding="utf-8"))
    for key in ("extra_special_tokens", "additional_special_tokens"):
        if key in cfg:
            cfg[key] = [t for t in cfg[key] if t not in ("<think>", "</think>")]
    (out / "tokenizer_config.json").write_text(json.dumps(cfg), encoding="utf-8")
    return out

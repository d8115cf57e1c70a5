"""Shared test fixtures: offline hub, the real data beside the repo, a tiny local model."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings

# Tests never write into the repository: Hypothesis keeps its caches in the temporary folder
# (it reads this variable when it first stores something) and no example database.
os.environ.setdefault(
    "HYPOTHESIS_STORAGE_DIRECTORY", str(Path(tempfile.gettempdir()) / "srlkit-hypothesis")
)
hypothesis_settings.register_profile("srlkit", database=None)
hypothesis_settings.load_profile("srlkit")

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("SRLKIT_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real public data in ../shared/data (never copied into the repo)."""
    if not SHARED_DATA.is_dir():
        pytest.fail(f"../shared/data not found at {SHARED_DATA}; set SRLKIT_SHARED_DATA")
    return SHARED_DATA


def _tiny_corpus(shared: Path) -> list[str]:
    texts = []
    with open(shared / "gsm8k" / "train.jsonl", encoding="utf-8") as f:
        for i, line in enumerate(f):
            if i >= 1500:
                break
            rec = json.loads(line)
            texts += [rec["question"], rec["answer"]]
    texts += ["<think>", "</think>", "\\boxed{42}", "1. **Compute the sum** 2 + 3 = 5"]
    return texts


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory, shared_data) -> Path:
    """A ~0.2M-parameter Qwen2 model + BPE tokenizer saved to disk, loadable by path."""
    from srlkit.models.tiny import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("tiny_model"), _tiny_corpus(shared_data))

"""The default output folder of an evaluation: one per model, never shared by two models.

srlkit's own models are all ``.../model`` or ``.../checkpoint-N``, so a folder named after the
model's last path component made different models share (and resume into) one folder. The
name is now the last component, for people, plus a short hash of the model's full resolved
location (the absolute path of a local folder, or the hub id), for uniqueness.

>>> default_eval_dir("Qwen/Qwen2.5-7B-Instruct", "math")  # doctest: +ELLIPSIS
'eval_results/Qwen2.5-7B-Instruct-...-math'
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

EVAL_RESULTS_DIR = "eval_results"


def model_identity(model: str) -> str:
    """The full resolved location of a model: an absolute path when it is a local folder."""
    path = Path(os.path.expanduser(model))
    return str(path.resolve()) if path.exists() else model.rstrip("/")


def default_eval_dir(model: str, kind: str) -> str:
    """``eval_results/<last name>-<8 hex of the resolved location>-<kind>``."""
    identity = model_identity(model)
    name = Path(identity).name or "model"
    digest = hashlib.sha256(identity.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return str(Path(EVAL_RESULTS_DIR) / f"{name}-{digest}-{kind}")

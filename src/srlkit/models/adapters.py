"""Loading a model folder that may be a LoRA adapter, from any working directory.

Why: PEFT writes the base model into ``adapter_config.json`` exactly as the trainer was given
it. A run started with ``--model_name_or_path runs/sft`` therefore records ``runs/sft``, which
``from_pretrained`` later resolves against whatever folder ``srl eval`` is started from, and
fails anywhere else. Training now records an absolute path (``srlkit.training.runner``); for
adapters written before that, or moved together with their base, a relative base is looked up
against the working directory, then the adapter folder and each folder above it (a run folder
usually sits below the folder training started in).
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

ADAPTER_CONFIG = "adapter_config.json"


def is_adapter(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is a PEFT adapter folder (it has an ``adapter_config.json``)."""
    return (Path(path) / ADAPTER_CONFIG).is_file()


def adapter_base_model(adapter_dir: str | os.PathLike[str]) -> str:
    """The base model an adapter names, as a path that works from any working directory.

    An absolute path or a hub id is returned as written; a relative path is resolved to the
    first of the working directory, the adapter folder and its parents that holds a model
    (a ``config.json``). When none does, it is returned as written (it may be a hub id such as
    ``Qwen/Qwen2.5-7B-Instruct``, which looks relative too).
    """
    adapter_dir = Path(adapter_dir)
    with open(adapter_dir / ADAPTER_CONFIG, encoding="utf-8") as f:
        base = json.load(f).get("base_model_name_or_path") or ""
    if not base or os.path.isabs(base):
        return base
    for root in (Path.cwd(), adapter_dir.resolve(), *adapter_dir.resolve().parents):
        candidate = root / base
        if (candidate / "config.json").is_file():
            return str(candidate.resolve())
    return base


def load_causal_lm(path: str | os.PathLike[str], **kwargs: Any) -> Any:
    """``AutoModelForCausalLM.from_pretrained`` for a model folder, hub id or LoRA adapter.

    An adapter is applied to its base (found by :func:`adapter_base_model`) and merged, so the
    result is an ordinary model: generation runs at the base model's speed.
    """
    from transformers import AutoModelForCausalLM

    if not is_adapter(path):
        return AutoModelForCausalLM.from_pretrained(str(path), **kwargs)
    from peft import PeftModel

    base = adapter_base_model(path)
    logger.info("loading LoRA adapter %s onto its base model %s", path, base)
    model = AutoModelForCausalLM.from_pretrained(base, **kwargs)
    return PeftModel.from_pretrained(model, str(path)).merge_and_unload()

"""SWE-bench predictions: the file the SWE-bench harness grades, from a scaffold's output.

Why here: srlkit trains the model and validates it step by step (``srl eval-steps``); running
it as an agent is the scaffold's job (SWE-agent, OpenHands), and grading the patches is the
SWE-bench harness's. What joins them is one file: one JSON object per instance with
``instance_id``, ``model_name_or_path`` and ``model_patch`` (the harness's
``--predictions_path``). SWE-agent writes these records as ``preds.json``, a mapping keyed by
instance id; this module checks them and writes the JSONL form, so a missing or empty patch is
counted and named before hours of harness time are spent on the run.

>>> records = [{"instance_id": "a__b-1", "model_patch": "diff --git a/x b/x\\n"}]
>>> [p["model_name_or_path"] for p in normalise_predictions(records, "srl-swe-7b")[0]]
['srl-swe-7b']
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from srlkit.io import DataError, write_jsonl

FIELDS = ("instance_id", "model_name_or_path", "model_patch")


def read_scaffold_predictions(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Records from SWE-agent's ``preds.json`` (mapping or list) or a predictions JSONL."""
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        data = None
    if isinstance(data, Mapping) and "instance_id" in data:
        return [dict(data)]  # a one-line JSONL file
    if isinstance(data, Mapping):
        return [{"instance_id": key, **(value or {})} for key, value in data.items()]
    if isinstance(data, list):
        return list(data)
    records = []
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise DataError(
                    path, f"not JSON ({exc.msg}); expected a predictions record", number
                ) from None
    return records


def normalise_predictions(
    records: Iterable[Mapping[str, Any]], model_name: str | None = None
) -> tuple[list[dict[str, Any]], Counter]:
    """Harness records (the three fields only) and the count of records left out, by reason.

    ``model_name`` fills or overrides ``model_name_or_path``. Left out: records without an
    ``instance_id`` (``no_instance_id``), repeats of an id (``duplicate``, the first is kept).
    An empty or missing patch is kept as ``""`` (the harness counts the instance as unresolved)
    and counted as ``empty_patch``.
    """
    kept, seen, counts = [], set(), Counter()
    for record in records:
        instance_id = record.get("instance_id")
        if not instance_id:
            counts["no_instance_id"] += 1
            continue
        if instance_id in seen:
            counts["duplicate"] += 1
            continue
        seen.add(instance_id)
        patch = record.get("model_patch") or ""
        if not patch.strip():
            counts["empty_patch"] += 1
        name = model_name or record.get("model_name_or_path") or "unknown"
        kept.append({"instance_id": instance_id, "model_name_or_path": name, "model_patch": patch})
    return kept, counts


def write_predictions(
    source: str | os.PathLike[str], out: str | os.PathLike[str], model_name: str | None = None
) -> Counter:
    """Convert a scaffold's predictions to the harness's JSONL (written atomically)."""
    kept, counts = normalise_predictions(read_scaffold_predictions(source), model_name)
    if not kept:
        raise DataError(source, "no prediction with an instance_id")
    write_jsonl(out, kept)
    counts["written"] = len(kept)
    return counts

"""Is a model reference a local folder or a hub id? Answering before loading anything.

``from_pretrained("runs/x/model")`` on a folder that does not exist tries the hub, and offline
(or for a name no repository has) reports "couldn't connect to huggingface.co", which sends
the user looking for a network problem instead of a typo in a path. A reference that can only
be a path (it exists, is absolute, starts with ``.`` or ``~``, or has more than one ``/``; hub
ids are ``name`` or ``org/name``) is checked here, and a missing one is one line naming it.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from srlkit.io import DataError

_HUB_ID_RE = re.compile(r"[A-Za-z0-9][\w.\-]*(/[\w.\-]+)?")
_WEIGHT_MARKERS = ("config.json", "adapter_config.json")


def looks_like_path(reference: str) -> bool:
    """True when ``reference`` cannot be a hub id, so it must name a local folder."""
    return (
        os.path.isabs(reference)
        or reference.startswith((".", "~"))
        or reference.endswith(("/", os.sep))
        or not _HUB_ID_RE.fullmatch(reference)
    )


def check_model_reference(reference: str | None, option: str = "--model_name_or_path") -> str:
    """``reference`` unchanged when usable; a one-line :class:`DataError` when it names a
    missing folder, a file, or a folder holding no model (no ``config.json``)."""
    if not reference:
        raise DataError(None, f"{option} is required (a hub id or a local model folder)")
    path = Path(os.path.expanduser(reference))
    if path.exists():
        if not path.is_dir():
            raise DataError(reference, f"is a file; {option} must be a model folder or a hub id")
        if not any((path / marker).is_file() for marker in _WEIGHT_MARKERS):
            raise DataError(
                reference, f"holds no config.json, so it is not a model folder; check {option}"
            )
        return reference
    if looks_like_path(reference):
        raise DataError(reference, f"no such model folder; check {option}")
    return reference

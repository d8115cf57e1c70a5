"""Check the ``report_to`` logging backends before anything expensive happens.

Why: transformers imports a backend's package only when the trainer is built, after the
model's weights are loaded; a 7B recipe with ``report_to: tensorboard`` on a machine without
tensorboard used to fail minutes into the run. :func:`check_report_to` fails in one line, first.
``metrics.jsonl`` is written whatever ``report_to`` says, so ``none`` loses nothing on disk.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterable

from srlkit.io import DataError

# backend name (as transformers spells it) -> (packages any of which provides it, pip target)
BACKENDS: dict[str, tuple[tuple[str, ...], str]] = {
    "tensorboard": (("tensorboard", "tensorboardX"), "'srlkit[tensorboard]'"),
    "wandb": (("wandb",), "'srlkit[wandb]'"),
    "trackio": (("trackio",), "trackio"),
    "mlflow": (("mlflow",), "mlflow"),
    "comet_ml": (("comet_ml",), "comet_ml"),
}


def _names(report_to: str | Iterable[str] | None) -> list[str]:
    if report_to is None:
        return []
    if isinstance(report_to, str):
        return [report_to]
    return [str(name) for name in report_to]


def check_report_to(report_to: str | Iterable[str] | None) -> None:
    """Raise :class:`DataError` naming the install command when a requested backend is missing.

    ``"all"`` and ``"none"`` need nothing (transformers picks what is installed); backends this
    module does not know are left for transformers to judge.

    >>> check_report_to(["none"])
    """
    for name in _names(report_to):
        if name not in BACKENDS:
            continue
        packages, target = BACKENDS[name]
        if not any(importlib.util.find_spec(p) is not None for p in packages):
            raise DataError(
                None,
                f"report_to includes {name!r} but {packages[0]} is not installed: "
                f"pip install {target}, or set report_to: none (metrics.jsonl is always written)",
            )

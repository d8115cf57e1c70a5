"""Refuse, once and in one line, a multi-GPU launch on a machine without GPUs.

Why before anything else: ``accelerate launch --config_file recipes/accelerate/multi_gpu.yaml``
starts ``num_processes`` copies of the command whatever the machine has. Without a GPU each copy
failed on its own (8 identical errors, then torchrun's traceback). The check runs in every copy
before any option is parsed; the copy of local rank 0 explains, the others exit quietly.
``torchrun`` on CPU (the gloo backend, how the multi-process code paths are tested) sets no
accelerate variables and is not refused.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from srlkit.io import DataError

CPU_HINT = (
    "on a machine without GPUs run one process, without accelerate: "
    "srl train srl --config recipes/tiny/srl/config.yaml (see recipes/tiny and docs/training.md)"
)


def check_gpu_launch(
    environ: Mapping[str, str] = os.environ, cuda_available: bool | None = None
) -> None:
    """:class:`DataError` (rank 0) or a quiet ``SystemExit(2)`` (other ranks) when accelerate
    launched several GPU processes (``use_cpu: false``) and no GPU is visible.

    >>> check_gpu_launch({"WORLD_SIZE": "1"})
    """
    try:
        world = int(environ.get("WORLD_SIZE", "1"))
    except ValueError:
        return
    if world <= 1 or environ.get("ACCELERATE_USE_CPU", "").strip().lower() != "false":
        return
    if cuda_available is None:
        import torch

        cuda_available = torch.cuda.is_available()
    if cuda_available:
        return
    if environ.get("LOCAL_RANK", "0") != "0":
        raise SystemExit(2)  # rank 0 says why, once
    raise DataError(
        None,
        f"accelerate launched {world} GPU processes (use_cpu: false in its config), but no GPU "
        f"is visible; {CPU_HINT}",
    )

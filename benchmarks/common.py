"""What the benchmark scripts share: where the public data is, and the CPU GRPO settings.

Imported as ``common`` (the scripts run as ``python benchmarks/NAME.py``, so this folder is on
``sys.path``).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("SRLKIT_SHARED_DATA", REPO.parent / "shared" / "data"))
"""../shared/data beside the repository, or ``SRLKIT_SHARED_DATA`` (as in the tests)."""


def add_data_dir_argument(parser: argparse.ArgumentParser) -> None:
    """``--data-dir``, defaulting to :data:`SHARED_DATA`."""
    parser.add_argument("--data-dir", type=Path, default=SHARED_DATA)


def cpu_grpo_fields(
    rows: int, num_generations: int, max_completion_length: int, steps: int
) -> dict[str, Any]:
    """GRPO config fields of the tiny-model CPU benchmarks: same lr, seed and logging in all,
    no checkpoints, no reporting, so two trainers compared in one script differ only where the
    script says."""
    import torch

    return {
        "use_cpu": not torch.cuda.is_available(),
        "bf16": False,
        "per_device_train_batch_size": rows,
        "num_generations": num_generations,
        "max_completion_length": max_completion_length,
        "max_steps": steps,
        "learning_rate": 1e-3,
        "logging_steps": 1,
        "report_to": [],
        "save_strategy": "no",
        "disable_tqdm": True,
        "seed": 0,
    }

"""Checks a training run makes before it loads anything, and the disk-full error of a run.

Each check turns what used to be a traceback (or a silently wrong run) into one line naming
the option to change: a model folder that does not exist, ``--max_steps 0`` (transformers
reads it as "use epochs" and trains), an ``--output_dir`` that is a file. TRL's own option
checks (``num_generations`` must divide the batch ...) raise ``ValueError`` while the options
are parsed; :func:`srlkit.training.config.parse_method_args` turns those into one line too.
"""

from __future__ import annotations

import errno
import logging
from pathlib import Path
from typing import Any

from srlkit.io import DataError
from srlkit.models.reference import check_model_reference
from srlkit.publish import prepare_output_dir
from srlkit.training.logging_backends import check_report_to

logger = logging.getLogger(__name__)


def check_run_options(args: Any, check_model: bool = True) -> None:
    """Every check that needs no model, data or GPU; raises :class:`DataError` (exit 2).

    ``check_model=False`` for a pipeline's later stages, whose model the stage before makes.
    A missing logger package (``report_to``) is checked first: it needs nothing at all.
    """
    check_report_to(args.train.report_to)
    if check_model:
        check_model_reference(args.model.model_name_or_path, "--model_name_or_path")
    if args.train.max_steps == 0:
        raise DataError(
            None,
            "--max_steps 0 would train nothing; give a positive number of steps, or -1 to train by epochs",
        )
    if args.train.max_steps < 0 and args.train.num_train_epochs <= 0:
        raise DataError(None, "--num_train_epochs must be positive when --max_steps is not set")
    prepare_output_dir(Path(args.train.output_dir), "--output_dir")


def is_disk_full(err: BaseException) -> bool:
    """An ``OSError`` for a full disk or quota, or torch's ``RuntimeError`` for a failed write."""
    if isinstance(err, OSError):
        return err.errno in (errno.ENOSPC, errno.EDQUOT)
    text = str(err)
    return isinstance(err, RuntimeError) and (
        "No space left" in text or "failed writing file" in text or "file write failed" in text
    )


def disk_full_error(out: Path) -> DataError:
    return DataError(
        out,
        "no space left on the device while writing the run; free space and re-run the same "
        "command to resume from its last complete checkpoint",
    )

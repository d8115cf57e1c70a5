"""Finding checkpoints to resume from, and turning a (LoRA) checkpoint into a model to start from.

Resuming goes through ``Trainer.train(resume_from_checkpoint=...)``, which restores the
weights, optimiser, scheduler, RNG states and data position, so a resumed run continues as if
it had never stopped (``tests/training/test_resume.py`` checks that the final weights match).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from srlkit.io import DataError
from srlkit.training.checkpoints_check import checkpoint_problem

logger = logging.getLogger(__name__)

MERGED_DIR = "best-merged"


def _numbered_checkpoints(out: Path) -> list[tuple[int, Path]]:
    """``checkpoint-N`` folders of a run, newest first."""
    if not out.is_dir():
        return []
    found = [
        (int(child.name[len("checkpoint-") :]), child)
        for child in out.iterdir()
        if child.is_dir()
        and child.name.startswith("checkpoint-")
        and child.name[len("checkpoint-") :].isdigit()
    ]
    return sorted(found, reverse=True)


def latest_checkpoint(output_dir: str | os.PathLike[str]) -> str | None:
    """The newest *complete* ``checkpoint-N`` folder, or ``None``.

    A newer one that is incomplete (a save killed half-way, a torn file: see
    :func:`~srlkit.training.checkpoints_check.checkpoint_problem`) is skipped with a warning
    naming the broken file, so a resume falls back to the previous complete checkpoint.
    """
    for _, child in _numbered_checkpoints(Path(output_dir)):
        problem = checkpoint_problem(child)
        if problem is None:
            return str(child)
        logger.warning(
            "skipping incomplete %s (%s); trying the previous checkpoint", child.name, problem
        )
    return None


def resolve_resume(resume: str, output_dir: str | os.PathLike[str]) -> str | None:
    """Map the ``resume`` option ('auto', 'never' or a path) to a checkpoint path or ``None``."""
    last = latest_checkpoint(output_dir)
    if resume == "auto":
        if last:
            logger.info("resuming from %s", last)
        return last
    if resume == "never":
        if last:
            raise DataError(
                output_dir,
                f"holds checkpoints (latest {Path(last).name}); use --resume auto to continue, "
                "or choose another --output_dir",
            )
        return None
    if not (Path(resume) / "trainer_state.json").exists():
        raise DataError(
            resume,
            "not a checkpoint folder (no trainer_state.json); expected auto, never or a checkpoint path",
        )
    problem = checkpoint_problem(resume)
    if problem:
        usable = latest_checkpoint(Path(resume).parent)
        hint = f"--resume {usable} works" if usable else "no complete checkpoint remains"
        raise DataError(resume, f"incomplete checkpoint ({problem}); {hint}")
    return str(resume)


def is_adapter_checkpoint(path: str | os.PathLike[str]) -> bool:
    return (Path(path) / "adapter_config.json").exists()


def loadable_model_path(
    checkpoint: str | os.PathLike[str], merged_dir: str | os.PathLike[str]
) -> str:
    """A path ``from_pretrained`` loads as a full model: the checkpoint, or its LoRA merged into the base.

    Why merge: the next stage (RLVR after SRL or SFT) may train with or without LoRA, and vLLM
    loads plain weights; merging once makes the best checkpoint an ordinary model folder.
    """
    if not is_adapter_checkpoint(checkpoint):
        return str(checkpoint)
    merged = Path(merged_dir)
    if (merged / "config.json").exists():
        return str(merged)
    from transformers import AutoTokenizer

    from srlkit.models.adapters import load_causal_lm

    logger.info("merging LoRA adapter %s into its base model -> %s", checkpoint, merged)
    model = load_causal_lm(checkpoint)
    model.save_pretrained(merged)
    AutoTokenizer.from_pretrained(str(checkpoint)).save_pretrained(merged)
    return str(merged)

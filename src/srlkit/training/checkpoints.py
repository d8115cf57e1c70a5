"""A run folder's checkpoints and its end: complete or torn, which one to resume from, whether
the run has finished, and a (LoRA) checkpoint as a model to start from. One home for all of it.

Resuming goes through ``Trainer.train(resume_from_checkpoint=...)``, which restores the
weights, optimiser, scheduler, RNG states and data position, so a resumed run continues as if
it had never stopped (``tests/training/test_resume.py`` checks that the final weights match).

A process killed while saving, or a disk that filled up, can leave the newest checkpoint
with a torn file; resuming from it would die deep in torch with a raw traceback. The checks of
:func:`checkpoint_problem` read only headers and directories, never the tensors, so they cost
milliseconds even for a 7B checkpoint:

- ``trainer_state.json`` (and any other ``*.json``) must parse;
- a ``*.safetensors`` file must hold its header and exactly the bytes the header declares;
- a torch file (``*.pt``, ``*.pth``, ``*.bin``) must be a readable zip archive (torch's format
  since 1.6): a truncated one has lost its central directory, which sits at the end.

A run has finished when its ``run_summary.json`` is written (last, by :func:`write_run_summary`).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import struct
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from srlkit.io import DataError, write_json
from srlkit.training.callbacks import read_best_checkpoint

logger = logging.getLogger(__name__)

RUN_SUMMARY_FILE = "run_summary.json"
MERGED_DIR = "best-merged"  # a LoRA best checkpoint merged into its base, for the next stage

# What a checkpoint holds beyond the model ``save_model`` writes: resume state only.
_RESUME_ONLY = ("optimizer.pt", "scheduler.pt", "scaler.pt", "trainer_state.json")
_TORCH_SUFFIXES = (".pt", ".pth", ".bin")


def _safetensors_problem(path: Path) -> str | None:
    size = path.stat().st_size
    with open(path, "rb") as f:
        head = f.read(8)
        if len(head) < 8:
            return "truncated (no header)"
        (n,) = struct.unpack("<Q", head)
        if n > size - 8:
            return "truncated (header runs past the end of the file)"
        try:
            header = json.loads(f.read(n))
        except ValueError:
            return "unreadable header"
    ends = [
        v["data_offsets"][1]
        for k, v in header.items()
        if k != "__metadata__" and isinstance(v, dict) and "data_offsets" in v
    ]
    expected = 8 + n + (max(ends) if ends else 0)
    if size != expected:
        return f"{size} bytes, its header says {expected} (truncated)"
    return None


def _file_problem(path: Path) -> str | None:
    if path.suffix == ".json":
        try:
            json.loads(path.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError):
            return "not valid JSON (truncated?)"
        return None
    if path.suffix == ".safetensors":
        return _safetensors_problem(path)
    if path.suffix in _TORCH_SUFFIXES:
        try:
            with zipfile.ZipFile(path):
                return None
        except (zipfile.BadZipFile, OSError):
            return "not a complete torch archive (truncated?)"
    return None


def checkpoint_problem(checkpoint: str | Path) -> str | None:
    """``"FILE: what is wrong"`` for the first broken file of a checkpoint; None when complete."""
    folder = Path(checkpoint)
    if not (folder / "trainer_state.json").is_file():
        return "trainer_state.json: missing (the save did not finish)"
    for path in sorted(folder.iterdir()):
        if path.is_file():
            problem = _file_problem(path)
            if problem:
                return f"{path.name}: {problem}"
    return None


def checkpoint_state(checkpoint: str | Path) -> dict:
    """The checkpoint's ``trainer_state.json`` (global_step, max_steps, log_history, ...)."""
    return json.loads((Path(checkpoint) / "trainer_state.json").read_text(encoding="utf-8"))


def is_final_checkpoint(checkpoint: str | Path, max_steps: int = -1) -> bool:
    """Whether this checkpoint is the run's last step: ``max_steps`` when set (> 0), else the
    step count the run had computed from its epochs (recorded in the checkpoint).

    Comparing with the configured ``max_steps`` keeps extending a run possible: resuming a
    6-step checkpoint with ``--max_steps 10`` trains on.
    """
    state = checkpoint_state(checkpoint)
    last = max_steps if max_steps > 0 else state.get("max_steps") or 0
    return last > 0 and state.get("global_step", 0) >= last


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
    :func:`checkpoint_problem`) is skipped with a warning
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


def finalize_from_checkpoint(checkpoint: str, out: Path) -> dict[str, Any]:
    """Publish a final checkpoint's model as the run's model, without training again.

    For a run killed after its last checkpoint but before its summary: resuming would make
    transformers take one more step and move the weights. The model files of the checkpoint
    are what ``save_model`` would have written, so they are copied into the run folder.
    """
    for path in Path(checkpoint).iterdir():
        if (
            path.is_file()
            and path.name not in _RESUME_ONLY
            and not path.name.startswith("rng_state")
        ):
            shutil.copy2(path, out / path.name)
    state = checkpoint_state(checkpoint)
    logger.info(
        "%s is the run's last step (%d of %d): finished the run from it without training",
        checkpoint, state.get("global_step", 0), state.get("max_steps", 0),
    )  # fmt: skip
    return state


@dataclass
class RunResult:
    """What a finished run produced."""

    output_dir: Path
    final_model_dir: Path
    best_checkpoint: str | None
    metrics: dict[str, Any]


def write_run_summary(
    method: str,
    out: Path,
    global_step: int | None,
    resume: str | None,
    metrics: dict[str, Any],
    is_main: bool,
) -> RunResult:
    """Write ``run_summary.json`` (on the main process), the mark of a finished run."""
    best = read_best_checkpoint(out)
    if is_main:
        write_json(
            out / RUN_SUMMARY_FILE,
            {
                "method": method,
                "complete": True,
                "global_step": global_step,
                "final_model": str(out.resolve()),
                "best_checkpoint": best,
                "resumed_from": resume,
                "train_metrics": metrics,
            },
        )
    logger.info("finished %s run in %s (best checkpoint: %s)", method, out, best and best["path"])
    return RunResult(
        output_dir=out, final_model_dir=out, best_checkpoint=best and best["path"], metrics=metrics
    )


def finished_run(output_dir: str | os.PathLike[str]) -> RunResult | None:
    """The result recorded by a finished run in ``output_dir``, or None when it has not finished."""
    out = Path(output_dir)
    path = out / RUN_SUMMARY_FILE
    if not path.exists():
        return None
    try:
        summary = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError):
        raise DataError(path, "unreadable run summary; delete it to finish the run again") from None
    if not isinstance(summary, dict) or not summary.get("complete"):
        return None
    best = summary.get("best_checkpoint") or None
    metrics = {**(summary.get("train_metrics") or {}), "global_step": summary.get("global_step")}
    return RunResult(
        output_dir=out,
        final_model_dir=out,
        best_checkpoint=best.get("path") if isinstance(best, dict) else None,
        metrics=metrics,
    )


def is_complete(output_dir: str | os.PathLike[str]) -> bool:
    """Whether a run folder holds a finished run (its ``run_summary.json`` is written last)."""
    return (Path(output_dir) / RUN_SUMMARY_FILE).exists()

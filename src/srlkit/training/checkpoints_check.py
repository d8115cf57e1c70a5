"""Is a checkpoint folder complete? Cheap structural checks of the files a resume reads.

A process killed while saving, or a disk that filled up, can leave the newest checkpoint
with a torn file; ``Trainer.train(resume_from_checkpoint=...)`` then dies deep in torch with a
raw traceback. These checks read only headers and directories, never the tensors, so
they cost milliseconds even for a 7B checkpoint:

- ``trainer_state.json`` (and any other ``*.json``) must parse;
- a ``*.safetensors`` file must hold its header and exactly the bytes the header declares;
- a torch file (``*.pt``, ``*.pth``, ``*.bin``) must be a readable zip archive (torch's format
  since 1.6): a truncated one has lost its central directory, which sits at the end.
"""

from __future__ import annotations

import json
import struct
import zipfile
from pathlib import Path

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

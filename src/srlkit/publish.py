"""Publishing a job's output files as one set: staged, then moved into place together.

Each file of a build is written atomically, but a build writes several (splits, parquet
copies, ``stats.json``), and a build that failed after writing the splits used to leave new
splits beside the old ``stats.json``. So a job writes everything into a hidden staging folder
inside its output folder and, only once all succeeded, moves the files into place: the marker
file (``stats.json`` for a build) is removed first and moved in last, so a marker always
describes the files beside it, and a job killed at any point leaves the previous set intact
(or, killed within the few renames of publishing, no marker at all).

Staging folders are named after the process that made them; one left by a killed process is
removed by the next job in the same folder, as are the ``.NAME.*.tmp`` files that
:func:`srlkit.io.atomic_write` leaves when killed mid-write.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

from srlkit.io import DataError

logger = logging.getLogger(__name__)

STAGING_PREFIX = ".staging-"


def prepare_output_dir(out: Path, option: str = "--out") -> None:
    """Create ``out`` (and parents) or fail with one line naming what to change."""
    if out.exists() and not out.is_dir():
        raise DataError(out, f"is a file; {option} must name a folder (new or existing)")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise DataError(
            out, f"a parent of this path is a file; {option} must name a folder"
        ) from None
    except OSError as err:
        raise DataError(
            out, f"cannot create the output folder ({err.strerror}); choose another {option}"
        ) from None
    if not os.access(out, os.W_OK | os.X_OK):
        raise DataError(out, f"output folder is not writable; choose another {option}")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_temporaries(out: Path, names: Sequence[str]) -> int:
    """Delete staging folders of dead processes and torn ``atomic_write`` temporaries of ``names``.

    Returns how many were removed (logged): a killed build once left 240 MB of them.
    """
    removed = 0
    for entry in out.iterdir():
        name = entry.name
        if name.startswith(STAGING_PREFIX) and entry.is_dir():
            pid = name[len(STAGING_PREFIX) :].split("-", 1)[0]
            if pid.isdigit() and int(pid) != os.getpid() and not _pid_alive(int(pid)):
                shutil.rmtree(entry, ignore_errors=True)
                removed += 1
        elif name.endswith(".tmp") and any(name.startswith(f".{n}.") for n in names):
            with contextlib.suppress(FileNotFoundError):
                entry.unlink()
                removed += 1
    if removed:
        logger.info("removed %d stale temporaries of killed jobs from %s", removed, out)
    return removed


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _publish(staging: Path, out: Path, names: Sequence[str], marker: str) -> None:
    """Marker out, every file in (or, when not produced this time, the stale one removed), marker in."""
    with contextlib.suppress(FileNotFoundError):
        (out / marker).unlink()
    for name in names:
        if (staging / name).exists():
            os.replace(staging / name, out / name)
        else:
            with contextlib.suppress(FileNotFoundError):
                (out / name).unlink()
    os.replace(staging / marker, out / marker)
    _fsync_dir(out)


@contextlib.contextmanager
def publish_together(
    out: str | os.PathLike[str], names: Sequence[str], marker: str, option: str = "--out"
) -> Iterator[Path]:
    """Yield a staging folder to write ``names`` and ``marker`` into; publish them on success.

    ``names`` are all the files this kind of job may produce (one not produced this time is
    removed from ``out``, so no stale file of an older job remains beside the new marker);
    ``marker`` must be produced. On any error nothing in ``out`` changes.
    """
    out = Path(out)
    prepare_output_dir(out, option)
    remove_stale_temporaries(out, [*names, marker])
    try:
        staging = Path(tempfile.mkdtemp(prefix=f"{STAGING_PREFIX}{os.getpid()}-", dir=out))
    except OSError as err:
        raise DataError(
            out, f"cannot write in the output folder ({err.strerror}); choose another {option}"
        ) from None
    try:
        yield staging
        if not (staging / marker).exists():
            raise RuntimeError(f"{marker} was not written; nothing published")
        _publish(staging, out, names, marker)
    except OSError as err:
        if err.errno in (errno.ENOSPC, errno.EDQUOT):
            raise DataError(
                out, f"no space left on the device; nothing was published ({err.strerror})"
            ) from None
        raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)

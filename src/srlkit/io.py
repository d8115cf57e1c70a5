"""File I/O shared by every stage: atomic writes and JSON(L) reading with located errors.

Why atomic: a build, an evaluation or a training run may be interrupted at any moment; a
reader must then see either the old file or the complete new one, never half of it. We
write to a temporary file in the same directory and ``os.replace`` it into place.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

logger = logging.getLogger(__name__)


class SrlkitError(ValueError):
    """Base of the errors a user fixes (bad input, bad options): the CLI prints them as one
    line and exits with 2, never with a traceback."""


class ConfigError(SrlkitError):
    """A bad option or combination of options (command line or recipe), not a bad file.

    >>> str(ConfigError("--segment regex needs --step_regex PATTERN"))
    'invalid option: --segment regex needs --step_regex PATTERN'
    """

    def __init__(self, message: str):
        self.detail = message
        super().__init__(f"invalid option: {message}")


class DataError(SrlkitError):
    """Bad input, located: names the file, the line or record, and what was expected.

    >>> str(DataError("runs/data/train.jsonl", "expected a JSON object, found list", 7))
    'runs/data/train.jsonl:7: expected a JSON object, found list'
    """

    def __init__(self, path: str | os.PathLike[str] | None, message: str, line: int | None = None):
        self.path = str(path) if path is not None else None
        self.line = line
        self.detail = message
        where = self.path or "<input>"
        if line is not None:
            where = f"{where}:{line}"
        super().__init__(f"{where}: {message}")


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike[str], mode: str = "w", encoding: str | None = "utf-8") -> Iterator[IO[Any]]:
    """Open a temporary sibling of ``path`` for writing; move it into place only on success."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        kwargs = {} if "b" in mode else {"encoding": encoding}
        with os.fdopen(fd, mode, **kwargs) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def write_json(path: str | os.PathLike[str], obj: Any) -> None:
    """Write ``obj`` as indented JSON, atomically."""
    with atomic_write(path) as f:
        json.dump(obj, f, indent=2, ensure_ascii=False, sort_keys=False)
        f.write("\n")


def write_jsonl(path: str | os.PathLike[str], records: Iterable[dict[str, Any]]) -> int:
    """Write one JSON object per line, atomically; returns the number of records written."""
    n = 0
    with atomic_write(path) as f:
        for rec in records:
            f.write(json.dumps(rec, ensure_ascii=False))
            f.write("\n")
            n += 1
    return n


def iter_jsonl(
    path: str | os.PathLike[str], skip_invalid: bool = False, errors: list[DataError] | None = None
) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield ``(line_number, record)`` for each non-blank line of a JSONL file, streaming.

    A line that is not valid UTF-8 or not a JSON object raises :class:`DataError` naming the
    file and line, unless ``skip_invalid`` is set: then the error is appended to ``errors``
    (when given) and reading goes on, so the caller can count what it dropped.
    """
    with open(path, "rb") as f:
        for line_no, raw in enumerate(f, start=1):
            if not raw.strip():
                continue
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                err = DataError(path, f"not valid UTF-8 (byte {exc.start}): {exc.reason}", line_no)
            else:
                try:
                    rec = json.loads(text)
                except json.JSONDecodeError as exc:
                    err = DataError(path, f"invalid JSON at column {exc.colno}: {exc.msg}", line_no)
                else:
                    if isinstance(rec, dict):
                        yield line_no, rec
                        continue
                    err = DataError(path, f"expected a JSON object, found {type(rec).__name__}", line_no)
            if not skip_invalid:
                raise err
            logger.warning("skipping %s", err)
            if errors is not None:
                errors.append(err)

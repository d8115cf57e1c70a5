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

    def __reduce__(self):
        """Pickle with the constructor's argument (see :meth:`DataError.__reduce__`)."""
        return (type(self), (self.detail,))


class DataError(SrlkitError):
    """Bad input, located: names the file, the line or record, and what was expected.

    >>> str(DataError("runs/data/train.jsonl", "expected a JSON object, found list", 7))
    'runs/data/train.jsonl:7: expected a JSON object, found list'
    """

    def __init__(self, path: str | os.PathLike[str] | None, message: str, line: int | None = None):
        self.path = str(path) if path is not None else None
        self.line = line
        self.detail = message
        if self.path is None and line is None:  # an option, not a file: the message says which
            super().__init__(message)
            return
        where = self.path or "<input>"
        if line is not None:
            where = f"{where}:{line}"
        super().__init__(f"{where}: {message}")

    def __reduce__(self):
        """Pickle with the constructor's own arguments, so an error raised in a worker process
        (``srl demo``'s stages) reaches the parent as itself, not as a broken process pool."""
        return (type(self), (self.path, self.detail, self.line))


class RawNumber(str):
    """An integer literal too long for ``int()`` (Python refuses over 4,300 digits), kept as text.

    Legal JSON, found in model output and in scraped data alike; kept verbatim rather than
    raising, so one odd number neither crashes a reward nor drops a record.
    """


MAX_INT_DIGITS = 4000


def _parse_int(digits: str) -> int | str:
    return RawNumber(digits) if len(digits) > MAX_INT_DIGITS else int(digits)


def loads_json(text: str | bytes) -> Any:
    """``json.loads`` that accepts every integer: those over 4,000 digits stay text (:class:`RawNumber`).

    Still raises ``ValueError`` (``json.JSONDecodeError``) on malformed JSON and
    ``RecursionError`` on nesting deeper than the interpreter's recursion limit.
    """
    return json.loads(text, parse_int=_parse_int)


def json_decoder() -> json.JSONDecoder:
    """A decoder with the integer guard of :func:`loads_json` (for streaming ``raw_decode``)."""
    return json.JSONDecoder(parse_int=_parse_int)


def first_lone_surrogate(value: Any) -> str | None:
    """The first string inside ``value`` holding a lone UTF-16 surrogate (``"\\ud800"``), if any.

    JSON's ``\\uXXXX`` escapes can spell half a character; Python keeps it, and the record then
    fails much later, when written as UTF-8. Readers check for it up front. Iterative, so deep
    nesting costs no recursion.
    """
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if not item.isascii():
                try:
                    item.encode("utf-8")
                except UnicodeEncodeError:
                    return item
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return None


def json_problem(exc: BaseException) -> str:
    """One line saying why a JSON text could not be read (for :class:`DataError` messages)."""
    if isinstance(exc, json.JSONDecodeError):
        return f"invalid JSON at column {exc.colno}: {exc.msg}"
    if isinstance(exc, RecursionError):
        return "JSON nested too deeply to read (over the interpreter's recursion limit)"
    return f"unreadable JSON: {exc}"


def _umask() -> int:
    """The process umask (read without changing it where ``/proc`` allows)."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_write(
    path: str | os.PathLike[str], mode: str = "w", encoding: str | None = "utf-8"
) -> Iterator[IO[Any]]:
    """Open a temporary sibling of ``path`` for writing; move it into place only on success.

    The file gets the permissions a plain ``open`` would give (0666 less the umask), not the
    0600 of the temporary file it starts as.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, 0o666 & ~_umask())
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


def read_text_file(path: str | os.PathLike[str], what: str) -> str:
    """A user's UTF-8 text file, stripped; a missing or undecodable file is a :class:`DataError`
    naming the file and ``what`` it should have been (e.g. "prompt file")."""
    try:
        return Path(path).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        raise DataError(path, f"{what} not found") from None
    except UnicodeDecodeError as exc:
        raise DataError(path, f"{what} is not valid UTF-8 (byte {exc.start})") from None


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
                    rec = loads_json(text)
                except (ValueError, RecursionError) as exc:
                    err = DataError(path, json_problem(exc), line_no)
                else:
                    if not isinstance(rec, dict):
                        err = DataError(
                            path, f"expected a JSON object, found {type(rec).__name__}", line_no
                        )
                    elif first_lone_surrogate(rec) is not None:
                        err = DataError(
                            path,
                            "a string holds a lone surrogate escape (not valid Unicode)",
                            line_no,
                        )
                    else:
                        yield line_no, rec
                        continue
            if not skip_invalid:
                raise err
            logger.warning("skipping %s", err)
            if errors is not None:
                errors.append(err)

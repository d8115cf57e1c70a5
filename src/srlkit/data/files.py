"""Reading raw records from trajectory files: JSONL, a JSON array, or one SWE-agent ``.traj``.

Why a reader of our own rather than ``json.load``: agent trajectory sets are distributed both as
JSONL and as one big JSON array, and a build must not hold a whole file in memory. JSONL is
read line by line; a JSON array is decoded one element at a time from a growing buffer (each
element is parsed once, the buffer only ever holds the current element plus one chunk), so
peak memory follows the largest record, not the file. A ``.traj`` file is one trajectory.

Every problem is a :class:`~srlkit.io.DataError` naming the file and the line (JSONL) or the
record number (arrays); with ``skip_invalid`` the error is collected instead and reading goes on.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from srlkit.io import DataError, first_lone_surrogate, json_decoder, json_problem, loads_json

try:  # orjson parses large agent records 2-3x faster; the standard library is the fallback
    import orjson
except ImportError:  # pragma: no cover - orjson is a dependency, but the reader must not need it
    orjson = None

logger = logging.getLogger(__name__)

SUPPORTED_SUFFIXES = (".jsonl", ".json", ".traj")
DEFAULT_MAX_RECORD_BYTES = 256 * 1024 * 1024
_CHUNK = 1 << 20
# Read buffer for JSONL. Agent records are lines of 100 KB and more; with the default 8 KB
# buffer, iterating over lines assembles each one from many small reads (a quarter of the
# cost of parsing it), with 1 MB most lines are one copy out of the buffer.
_LINE_BUFFER = 1 << 20
_WHITESPACE = " \t\r\n"


def _mb(n: float) -> str:
    return f"{n / 1e6:.3g} MB"


def _too_big(
    path: Path, what: str, size: int | None, max_bytes: int, line: int | None = None
) -> DataError:
    actual = f" is {_mb(size)}," if size is not None else " is"
    return DataError(
        path,
        f"{what}{actual} over the {_mb(max_bytes)} limit (raise it with --max-record-mb)",
        line,
    )


@dataclass(frozen=True)
class RawRecord:
    """One decoded JSON object and where it came from (``line`` for JSONL, ``index`` always)."""

    path: Path
    index: int
    record: dict[str, Any]
    line: int | None = None

    @property
    def prefix(self) -> str:
        """``"record N: "`` for error messages when no line number already locates the record."""
        return "" if self.line is not None else f"record {self.index}: "

    @property
    def where(self) -> str:
        """``file:line`` or ``file record N``: how error messages and ids point at the record."""
        if self.line is not None:
            return f"{self.path}:{self.line}"
        return f"{self.path} record {self.index}"


def expand_inputs(inputs: list[str | os.PathLike[str]]) -> list[Path]:
    """Files named directly, plus every supported file found (recursively, sorted) in directories."""
    paths: list[Path] = []
    for item in inputs:
        p = Path(item)
        if p.is_dir():
            found = sorted(
                q for q in p.rglob("*") if q.is_file() and q.suffix in SUPPORTED_SUFFIXES
            )
            if not found:
                raise DataError(p, f"directory holds no {', '.join(SUPPORTED_SUFFIXES)} files")
            paths.extend(found)
        elif p.is_file():
            paths.append(p)
        else:
            raise DataError(p, "no such file or directory")
    return paths


def iter_raw_records(
    path: str | os.PathLike[str],
    skip_invalid: bool = False,
    errors: list[DataError] | None = None,
    max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES,
) -> Iterator[RawRecord]:
    """Stream the JSON objects of one file, whatever its layout.

    The layout is taken from the first non-blank character, not the suffix (``[`` = array,
    ``{`` followed by another object on a later line = JSONL, a single object = one record),
    because files in the wild are often misnamed.
    """
    path = Path(path)
    if path.stat().st_size == 0:
        raise DataError(path, "file is empty (expected JSONL, a JSON array or a .traj object)")
    first = _first_char(path)
    if first is None:
        raise DataError(path, "file holds only blank space (expected JSON records)")
    if first == "[":
        yield from _iter_array(path, skip_invalid, errors, max_record_bytes)
    elif first == "{":
        yield from _iter_lines_or_object(path, skip_invalid, errors, max_record_bytes)
    else:
        raise DataError(path, f"expected JSON ('{{' or '['), file starts with {first!r}")


def _first_char(path: Path) -> str | None:
    with open(path, "rb") as f:
        while chunk := f.read(4096):
            stripped = chunk.lstrip()
            if stripped:
                if stripped.startswith(b"\xef\xbb\xbf"):
                    stripped = stripped[3:].lstrip()
                    if not stripped:
                        continue
                return chr(stripped[0])
    return None


def _fail(err: DataError, skip_invalid: bool, errors: list[DataError] | None) -> None:
    if not skip_invalid:
        raise err
    logger.warning("skipping %s", err)
    if errors is not None:
        errors.append(err)


def _iter_lines_or_object(
    path: Path, skip_invalid: bool, errors: list[DataError] | None, max_bytes: int
) -> Iterator[RawRecord]:
    """JSONL, or a single pretty-printed object (a ``.traj``) when line 1 is only its opening.

    The test is the shape of the first non-blank line, not whether it parses: a JSONL file
    whose first record is broken must still be read line by line (and that line reported).
    """
    with open(path, "rb") as f:
        first_line = next((line for line in f if not line.isspace()), b"")
    if first_line.rstrip().endswith(b"}"):
        yield from _iter_jsonl(path, skip_invalid, errors, max_bytes)
    else:
        yield from _iter_single_object(path, max_bytes)


def _iter_single_object(path: Path, max_bytes: int) -> Iterator[RawRecord]:
    size = path.stat().st_size
    if size > max_bytes:
        raise _too_big(path, "record", size, max_bytes)
    text = _decode(path.read_bytes(), path, None)
    try:
        obj = loads_json(text)
    except (ValueError, RecursionError) as exc:
        line = exc.lineno if isinstance(exc, json.JSONDecodeError) else None
        raise DataError(path, json_problem(exc), line) from None
    if not isinstance(obj, dict):
        raise DataError(path, f"expected a JSON object, found {type(obj).__name__}")
    _check_unicode(obj, path, None)
    yield RawRecord(path, 1, obj)


def _check_unicode(obj: Any, path: Path, line: int | None, prefix: str = "") -> None:
    if first_lone_surrogate(obj) is not None:
        raise DataError(
            path, f"{prefix}a string holds a lone surrogate escape (not valid Unicode)", line
        )


def _decode(raw: bytes, path: Path, line: int | None) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(path, f"not valid UTF-8 (byte {exc.start}): {exc.reason}", line) from None


def _loads_line(raw: bytes, path: Path, line_no: int) -> Any:
    """orjson when it accepts the line; otherwise the standard library, whose errors we report
    (and which also accepts what orjson refuses, such as NaN or a byte-order mark).

    orjson refuses lone surrogates, deep nesting and integers beyond 64 bits, so only the
    fallback needs the checks for them: deep nesting and half characters are errors,
    over-long integers are kept as text (:func:`srlkit.io.loads_json`).
    """
    if orjson is not None:
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError:
            pass
    obj = loads_json(_decode(raw, path, line_no))
    _check_unicode(obj, path, line_no)
    return obj


def _iter_jsonl(
    path: Path, skip_invalid: bool, errors: list[DataError] | None, max_bytes: int
) -> Iterator[RawRecord]:
    index = 0
    with open(path, "rb", buffering=_LINE_BUFFER) as f:
        for line_no, raw in enumerate(f, start=1):
            if raw.isspace():  # (no copy of a long line, unlike strip())
                continue
            index += 1
            try:
                if len(raw) > max_bytes:
                    raise _too_big(path, "record", len(raw), max_bytes, line_no)
                obj = _loads_line(raw, path, line_no)
                if not isinstance(obj, dict):
                    raise DataError(
                        path, f"expected a JSON object, found {type(obj).__name__}", line_no
                    )
            except DataError as err:
                _fail(err, skip_invalid, errors)
                continue
            except (ValueError, RecursionError) as exc:
                _fail(DataError(path, json_problem(exc), line_no), skip_invalid, errors)
                continue
            yield RawRecord(path, index, obj, line=line_no)


def _iter_array(
    path: Path, skip_invalid: bool, errors: list[DataError] | None, max_bytes: int
) -> Iterator[RawRecord]:
    """Decode ``[obj, obj, ...]`` one element at a time from a bounded buffer."""
    decoder = json_decoder()
    with open(path, "rb") as f:
        reader = _ChunkedText(f, path)
        reader.expect("[")
        index = 0
        while True:
            reader.skip_ws()
            if reader.peek() == "]":
                return
            if index and not reader.consume(","):
                raise DataError(path, f"expected ',' or ']' after record {index}")
            reader.skip_ws()
            if index and reader.peek() == "]":
                return
            index += 1
            obj = reader.decode_value(decoder, index, max_bytes)
            if isinstance(obj, dict) and first_lone_surrogate(obj) is not None:
                _fail(
                    DataError(
                        path,
                        f"record {index}: a string holds a lone surrogate escape (not valid Unicode)",
                    ),
                    skip_invalid,
                    errors,
                )
                continue
            if not isinstance(obj, dict):
                _fail(
                    DataError(
                        path, f"record {index}: expected a JSON object, found {type(obj).__name__}"
                    ),
                    skip_invalid,
                    errors,
                )
                continue
            yield RawRecord(path, index, obj)


class _ChunkedText:
    """A text buffer over a binary file that grows by chunks only when a value needs more."""

    def __init__(self, handle: Any, path: Path):
        self._f = handle
        self._path = path
        self._buf = ""
        self._pos = 0
        self._eof = False
        self._pending = b""

    def _more(self) -> bool:
        if self._eof:
            return False
        # Grow geometrically so a record much larger than a chunk is re-parsed O(log n) times.
        raw = self._f.read(max(_CHUNK, len(self._buf) - self._pos))
        if not raw:
            self._eof = True
            if self._pending:
                raise DataError(self._path, "file ends inside a UTF-8 character")
            return False
        raw = self._pending + raw
        try:
            text = raw.decode("utf-8")
            self._pending = b""
        except UnicodeDecodeError as exc:
            if exc.start >= len(raw) - 3 and exc.reason == "unexpected end of data":
                text, self._pending = raw[: exc.start].decode("utf-8"), raw[exc.start :]
            else:
                raise DataError(
                    self._path,
                    f"not valid UTF-8 near byte {self._f.tell() - len(raw) + exc.start}: {exc.reason}",
                ) from None
        if not self._buf and text.startswith("\ufeff"):
            text = text[1:]
        self._buf = self._buf[self._pos :] + text
        self._pos = 0
        return True

    def skip_ws(self) -> None:
        while True:
            while self._pos < len(self._buf) and self._buf[self._pos] in _WHITESPACE:
                self._pos += 1
            if self._pos < len(self._buf) or not self._more():
                return

    def peek(self) -> str:
        self.skip_ws()
        if self._pos >= len(self._buf):
            raise DataError(self._path, "file ends before the JSON array is closed with ']'")
        return self._buf[self._pos]

    def consume(self, char: str) -> bool:
        if self.peek() == char:
            self._pos += 1
            return True
        return False

    def expect(self, char: str) -> None:
        if not self.consume(char):
            raise DataError(self._path, f"expected {char!r}")

    def decode_value(self, decoder: json.JSONDecoder, index: int, max_bytes: int) -> Any:
        """Decode the value at the cursor, reading more chunks while it is incomplete."""
        while True:
            try:
                obj, end = decoder.raw_decode(self._buf, self._pos)
            except RecursionError:  # the rest of the array cannot be found without decoding this
                raise DataError(
                    self._path, f"record {index}: JSON nested too deeply to read"
                ) from None
            except json.JSONDecodeError as exc:
                if len(self._buf) - self._pos > max_bytes:
                    raise _too_big(self._path, f"record {index}", None, max_bytes) from None
                if not self._more():
                    raise DataError(
                        self._path, f"record {index}: invalid JSON: {exc.msg}"
                    ) from None
                continue
            # A number at the very end of the buffer may continue in the next chunk.
            if end == len(self._buf) and not self._eof and self._more():
                continue
            if end - self._pos > max_bytes:
                raise _too_big(self._path, f"record {index}", end - self._pos, max_bytes)
            self._pos = end
            return obj

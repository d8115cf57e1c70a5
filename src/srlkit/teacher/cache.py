"""An append-only store of teacher responses: persisted as they arrive, read back on resume.

Why append-only JSONL: a teacher run costs money and hours, and may be killed at any moment
(``kill -9``, a pre-empted node). Each response is one line, written and flushed by one writer
under a lock the moment it arrives, so what was paid for is on disk. A kill can only leave a
torn *last* line; reopening drops it (and truncates the file to the last complete line before
appending), so the request it belonged to is asked again and nothing is counted twice.

Each line is keyed by :func:`request_key`: teacher, prompt version, sampling parameters, record
id and sample index. Changing any of them makes new keys, so a changed prompt or temperature
never reuses an old answer, while an unchanged rerun finds every answer in the store.

Flushing (not ``fsync``) per line protects against a killed process, the failure that
matters here; a power cut may lose the last lines, which are then simply asked again.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from srlkit.io import DataError

if TYPE_CHECKING:
    from typing_extensions import Self

logger = logging.getLogger(__name__)


def request_key(identity: dict[str, Any] | str, record_id: str, sample: int) -> str:
    """The cache key of one request: a hash of everything that determines its answer.

    ``identity`` (teacher, prompt version, sampling) may be passed pre-serialised with
    :func:`identity_text`, as a run does once for all its requests.
    """
    text = identity if isinstance(identity, str) else identity_text(identity)
    blob = f"{text}\x00{record_id}\x00{sample}"
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:32]


def identity_text(identity: dict[str, Any]) -> str:
    """The canonical JSON of a request identity (sorted keys), hashed into every key."""
    return json.dumps(identity, sort_keys=True, ensure_ascii=False)


class ResponseCache:
    """``key -> entry`` for every response on disk, plus :meth:`append` for new ones.

    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "responses.jsonl")
    >>> with ResponseCache(path) as cache:
    ...     cache.append({"key": "k1", "text": "1. **A** x"})
    >>> ResponseCache(path).get("k1")["text"]
    '1. **A** x'
    """

    def __init__(self, path: str | os.PathLike[str]):
        self.path = Path(path)
        self.entries: dict[str, dict[str, Any]] = {}
        self.torn_lines = 0
        self._lock = threading.Lock()
        self._handle: Any = None
        self._load()

    def _load(self) -> None:
        if not self.path.is_file():
            return
        data = self.path.read_bytes()
        good_end = 0
        for line_no, line in enumerate(data.split(b"\n"), start=1):
            end = good_end + len(line) + 1
            if not line.strip():
                good_end = min(end, len(data))
                continue
            try:
                entry = orjson.loads(line)
            except orjson.JSONDecodeError:
                if end >= len(data):  # the last line: torn by a kill, ask again
                    self.torn_lines += 1
                    break
                raise DataError(
                    self.path, "corrupt response cache line (not JSON)", line_no
                ) from None
            if not isinstance(entry, dict) or not isinstance(entry.get("key"), str):
                raise DataError(self.path, "response cache line has no 'key'", line_no)
            if end > len(data):  # complete JSON but no newline yet: keep it, add the newline
                self._truncate_to(len(data), add_newline=True)
                good_end = len(data) + 1
            else:
                good_end = end
            self.entries[entry["key"]] = entry
        if self.torn_lines:
            logger.warning("%s: dropped a torn last line (the run was killed mid-write)", self.path)
            self._truncate_to(good_end)

    def _truncate_to(self, size: int, add_newline: bool = False) -> None:
        with open(self.path, "r+b") as f:
            f.truncate(size)
            if add_newline:
                f.seek(0, os.SEEK_END)
                f.write(b"\n")

    def __len__(self) -> int:
        return len(self.entries)

    def __contains__(self, key: str) -> bool:
        return key in self.entries

    def get(self, key: str) -> dict[str, Any] | None:
        return self.entries.get(key)

    def append(self, entry: dict[str, Any]) -> None:
        """Persist one entry (a dict with a ``key``) now; safe to call from many threads."""
        line = orjson.dumps(entry) + b"\n"
        with self._lock:
            if self._handle is None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                # Kept open across appends (closed in close()), so no context manager here.
                self._handle = open(self.path, "ab")  # noqa: SIM115
            self._handle.write(line)
            self._handle.flush()
            self.entries[entry["key"]] = entry

    def close(self) -> None:
        with self._lock:
            if self._handle is not None:
                self._handle.flush()
                os.fsync(self._handle.fileno())
                self._handle.close()
                self._handle = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

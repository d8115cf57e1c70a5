"""An append-only, resumable file of finished samples.

Why append-only with a flush per chunk: an evaluation of a 7B model with 32 samples per problem
runs for hours; when it is interrupted, everything already generated is on disk and a rerun
skips it. A crash can leave at most one partial last line; it is cut off on resume (it was
never a finished sample). A malformed line anywhere else means the file was damaged by
something else, and we stop with its location rather than guess.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from srlkit.io import DataError

logger = logging.getLogger(__name__)


class SampleStore:
    """Records keyed by the values of ``key_fields``, read back on open and appended on write."""

    def __init__(self, path: str | os.PathLike[str], key_fields: Sequence[str]):
        self.path = Path(path)
        self.key_fields = tuple(key_fields)
        self.records: dict[tuple[Any, ...], dict[str, Any]] = {}
        self.truncated_partial_line = False
        if self.path.exists():
            self._load()

    def key(self, record: dict[str, Any]) -> tuple[Any, ...]:
        return tuple(record[f] for f in self.key_fields)

    def __contains__(self, key: tuple[Any, ...]) -> bool:
        return key in self.records

    def __len__(self) -> int:
        return len(self.records)

    def _load(self) -> None:
        data = self.path.read_bytes()
        complete_end = data.rfind(b"\n") + 1  # bytes after the last newline: an unfinished write
        lines = data[:complete_end].split(b"\n")
        for line_no, raw in enumerate(lines, start=1):
            if not raw.strip():
                continue
            try:
                rec = json.loads(raw.decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError) as exc:
                raise DataError(
                    self.path,
                    f"damaged sample record ({exc}); delete the line or the file",
                    line_no,
                ) from exc
            if not isinstance(rec, dict) or any(f not in rec for f in self.key_fields):
                raise DataError(
                    self.path, f"expected a sample record with fields {self.key_fields}", line_no
                )
            self.records[self.key(rec)] = rec
        if complete_end < len(data):
            tail = data[complete_end:]
            try:
                rec = json.loads(tail.decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError):
                rec = None
            if isinstance(rec, dict) and all(f in rec for f in self.key_fields):
                self.records[self.key(rec)] = rec  # complete record, only its newline was lost
                with open(self.path, "ab") as f:
                    f.write(b"\n")
            else:
                logger.warning(
                    "%s: dropping a partial last line (%d bytes) left by an interrupted run",
                    self.path,
                    len(tail),
                )
                with open(self.path, "r+b") as f:
                    f.truncate(complete_end)
                self.truncated_partial_line = True
        logger.info("%s: resuming with %d finished samples", self.path, len(self.records))

    def append(self, records: Iterable[dict[str, Any]]) -> None:
        """Write records, then flush and fsync, so a kill right after loses none of them."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a", encoding="utf-8") as f:
            for rec in records:
                f.write(json.dumps(rec, ensure_ascii=False) + "\n")
                self.records[self.key(rec)] = rec
            f.flush()
            os.fsync(f.fileno())

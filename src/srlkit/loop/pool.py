"""The expert pool of ``srl loop``: every trajectory SRL trains on, with where it came from.

An entry is a trajectory in the data contract plus its provenance: the ``source`` (``self``:
sampled from the student and verified; ``teacher``: sampled from the first round's teacher;
``expert``: a trajectory of the pool's expert files), the ``round`` it entered, the ``model``
that wrote it, the ``verifier`` that let it in, and its training ``weight``. Entries are unique
by content (:func:`srlkit.data.build.content_hash`, task and steps; ids and metadata do not
count), so the same solution sampled twice, or sampled and also in the expert files, is one
entry. Each round's pool is written whole (``pool.jsonl``), so the pool every model was
trained on stays on disk.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from srlkit.data.build import content_hash
from srlkit.data.schema import Trajectory
from srlkit.io import iter_jsonl, write_jsonl

SOURCES = ("expert", "teacher", "self")


@dataclass
class PoolEntry:
    """One trajectory of the pool and its provenance."""

    trajectory: Trajectory
    source: str
    round: int
    model: str
    verifier: str
    weight: float
    problem_id: str | None = None

    @property
    def key(self) -> str:
        return content_hash(self.trajectory).hex()

    def to_dict(self) -> dict[str, Any]:
        blob = asdict(self)
        blob["trajectory"] = self.trajectory.to_dict()
        blob["key"] = self.key
        return blob

    @classmethod
    def from_dict(cls, blob: dict[str, Any]) -> PoolEntry:
        fields = {k: v for k, v in blob.items() if k not in ("trajectory", "key")}
        return cls(trajectory=Trajectory.from_dict(blob["trajectory"]), **fields)


def merge(pool: list[PoolEntry], new: Iterable[PoolEntry]) -> tuple[list[PoolEntry], int]:
    """``pool`` plus the entries of ``new`` whose content it lacks; and how many were repeats."""
    seen = {entry.key for entry in pool}
    merged, repeats = list(pool), 0
    for entry in new:
        if entry.key in seen:
            repeats += 1
            continue
        seen.add(entry.key)
        merged.append(entry)
    return merged, repeats


def write_pool(path: Path, pool: list[PoolEntry]) -> None:
    write_jsonl(path, (entry.to_dict() for entry in pool))


def read_pool(path: Path) -> list[PoolEntry]:
    return [PoolEntry.from_dict(blob) for _, blob in iter_jsonl(path)]


def copies(entry: PoolEntry) -> int:
    """How many times ``entry`` is in a round's training set: ``floor(weight)``, plus one more
    for a share ``frac(weight)`` of entries chosen by content hash (the same on every rerun)."""
    whole = math.floor(entry.weight)
    share = entry.weight - whole
    draw = int.from_bytes(hashlib.sha256(entry.key.encode()).digest()[:8], "big") / 2**64
    return whole + (1 if draw < share else 0)


def training_trajectories(pool: list[PoolEntry]) -> Iterator[Trajectory]:
    """The trajectories a round trains on: every entry as often as its weight says, each copy
    with its own id (``#2``, ``#3``, ...) so the builder keeps them apart."""
    for entry in pool:
        for copy in range(copies(entry)):
            trajectory = entry.trajectory
            if copy:
                trajectory = Trajectory.from_dict(
                    {**trajectory.to_dict(), "id": f"{trajectory.id}#{copy + 1}"}
                )
            yield trajectory


def counts(pool: list[PoolEntry]) -> dict[str, int]:
    """Entries by source (every source named, zeros included)."""
    out = dict.fromkeys(SOURCES, 0)
    for entry in pool:
        out[entry.source] += 1
    return out

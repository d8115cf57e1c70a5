"""The one reader of srlkit's data: step instances, trajectories and problem records.

Every consumer (``srl train``, ``srl eval-steps``, ``srl data show``, the demo, SFT) reads through
this module, so a form that one of them accepts, all of them accept. A *source* is any of:

- a build folder of ``srl data build`` (``train.jsonl`` / ``train.parquet``,
  ``train.trajectories.jsonl``, likewise for ``validation``): the split picks the file;
- a JSONL file, a JSON array file or a parquet file;
- a Hugging Face hub dataset id, ``ORG/NAME``, optionally ``ORG/NAME:CONFIG``, optionally followed
  by ``@SPLIT`` (any split expression ``datasets`` accepts, e.g. ``@train[:1000]``); without
  ``@SPLIT`` the consumer's split is used. A local path of that name always wins.

Two reading modes. **Strict** (no summary given): the first bad record raises
:class:`~srlkit.io.DataError` naming the file and line. **Counting** (a :class:`ReadSummary`
given): bad records are dropped and counted with their reason, and
``records_in == kept + dropped`` holds at the end, which training writes to
``data_summary.json``.

>>> summary = ReadSummary("runs/data")
>>> summary.add(); summary.add(); summary.drop("'target' missing or empty")
>>> summary.to_dict()
{'path': 'runs/data', 'records_in': 2, 'kept': 1, 'dropped': {"'target' missing or empty": 1}}
"""

from __future__ import annotations

import logging
import os
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from srlkit.data.files import DEFAULT_MAX_RECORD_BYTES, RawRecord, iter_raw_records
from srlkit.data.hub import hub_records, parse_hub_id
from srlkit.data.schema import (
    StepInstance,
    Trajectory,
)
from srlkit.io import DataError

logger = logging.getLogger(__name__)

SPLITS = ("train", "validation")
TRAJECTORIES_SUFFIX = ".trajectories.jsonl"


@dataclass
class ReadSummary:
    """Counts for one source: ``records_in == kept + sum(dropped.values())``."""

    path: str
    records_in: int = 0
    kept: int = 0
    dropped: Counter = field(default_factory=Counter)

    def add(self) -> None:
        """One more record read and (for now) kept."""
        self.records_in += 1
        self.kept += 1

    def drop(self, reason: str, n: int = 1) -> None:
        """``n`` records already counted as kept are dropped for ``reason``."""
        self.dropped[reason] += n
        self.kept -= n

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "records_in": self.records_in,
            "kept": self.kept,
            "dropped": dict(self.dropped),
        }


def _parquet_records(path: Path) -> Iterator[RawRecord]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        batches = pq.ParquetFile(path).iter_batches()
        index = 0
        for batch in batches:
            for rec in batch.to_pylist():
                index += 1
                yield RawRecord(path, index, rec)
    except (OSError, pa.ArrowException) as exc:
        raise DataError(path, f"unreadable parquet file ({exc})") from None


def resolve_file(source: str | os.PathLike[str], split: str, trajectories: bool = False) -> Path:
    """The file a local source names: itself, or the split's file in a build folder."""
    p = Path(source)
    if p.is_dir():
        names = (
            [f"{split}{TRAJECTORIES_SUFFIX}"]
            if trajectories
            else [
                f"{split}.jsonl",
                f"{split}.parquet",
            ]
        )
        for name in names:
            if (p / name).is_file():
                return p / name
        raise DataError(
            p, f"no {' or '.join(names)} here (expected the output folder of 'srl data build')"
        )
    if not p.is_file():
        raise DataError(p, "no such file, folder or hub dataset")
    return p


def iter_records(
    source: str | os.PathLike[str],
    split: str = "train",
    summary: ReadSummary | None = None,
    trajectories: bool = False,
    max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES,
) -> Iterator[RawRecord]:
    """Every JSON object of ``source`` (see the module docstring for the forms).

    With ``summary``, unreadable lines are counted as dropped instead of raising, and every
    yielded record is counted as read and kept (the caller drops it again if it is unusable).
    """
    hub = parse_hub_id(str(source))
    if hub is not None:
        records: Iterator[RawRecord] = hub_records(hub, split)
        errors: list[DataError] = []
    else:
        path = resolve_file(source, split, trajectories)
        errors = []
        if path.suffix == ".parquet":
            records = _parquet_records(path)
        else:
            records = iter_raw_records(path, summary is not None, errors, max_record_bytes)
    for raw in records:
        if summary is not None:
            summary.add()
        yield raw
    if summary is not None:
        for err in errors:
            summary.records_in += 1
            summary.dropped[f"invalid line: {err.detail}"] += 1


def _where(raw: RawRecord) -> tuple[str, int | None]:
    return (str(raw.path), raw.line) if raw.line is not None else (raw.where, None)


def iter_instances(
    source: str | os.PathLike[str], split: str = "train", summary: ReadSummary | None = None
) -> Iterator[StepInstance]:
    """The step instances of ``source`` (a build folder's ``split``, a file, or a hub id)."""
    for raw in iter_records(source, split, summary):
        try:
            yield StepInstance.from_dict(raw.record, default_id=raw.where)
        except ValueError as exc:
            if summary is None:
                path, line = _where(raw)
                raise DataError(path, f"not a step instance: {exc}", line) from None
            summary.drop(str(exc))


def load_instances(
    source: str | os.PathLike[str], split: str = "train", as_dataset: bool = False
) -> Any:
    """The instances of ``split`` as a list of :class:`StepInstance`, or a ``datasets.Dataset``.

    The Dataset has the columns of :mod:`srlkit.data.schema` with ``metadata`` JSON-encoded
    (Arrow needs one type per column), ready for TRL's ``GRPOTrainer``.

    >>> instances = load_instances("runs/data", split="train")  # doctest: +SKIP
    """
    instances = list(iter_instances(source, split))
    if not as_dataset:
        return instances
    import datasets

    from srlkit.data.export import arrow_table

    return datasets.Dataset(arrow_table(instances))


def iter_trajectories(
    source: str | os.PathLike[str], split: str = "train", summary: ReadSummary | None = None
) -> Iterator[Trajectory]:
    """Trajectories in the data contract: a build folder's ``{split}.trajectories.jsonl``, or a
    file / hub dataset of :meth:`Trajectory.to_dict` records."""
    for raw in iter_records(source, split, summary, trajectories=True):
        try:
            trajectory = Trajectory.from_dict(raw.record)
            if not trajectory.steps:
                raise ValueError("trajectory has no steps")
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            reason = f"not a trajectory ({type(exc).__name__}: {exc})"
            if summary is None:
                path, line = _where(raw)
                raise DataError(path, reason, line) from None
            summary.drop(reason)
            continue
        yield trajectory

"""Loaders: every supported file family, auto-detected or named with ``--format``.

Detection looks at the first record of each file and tries the formats from the most specific
to the most general (the order of :data:`LOADERS`); the whole file is then read with that
loader. When nothing matches, the error lists what each format looks for.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from srlkit.data.files import (
    DEFAULT_MAX_RECORD_BYTES,
    RawRecord,
    expand_inputs,
)
from srlkit.data.hub import HubSource, iter_source_records
from srlkit.data.loaders.agent_chat import (
    NebiusLoader,
    OpenAIToolsLoader,
    SWEPlayLoader,
    SWESmithLoader,
)
from srlkit.data.loaders.base import Loader, LoaderOptions, RecordDropped
from srlkit.data.loaders.math import (
    BoxedLoader,
    GSM8KLoader,
    MathLoader,
    S1KLoader,
    StepsListLoader,
    answer_only_hint,
)
from srlkit.data.loaders.swe_agent import SWEAgentTrajLoader, TrajectoryJSONLoader
from srlkit.data.schema import Trajectory
from srlkit.io import DataError

# Most specific first: detection returns the first loader whose detect() accepts the record.
LOADERS: tuple[Loader, ...] = (
    TrajectoryJSONLoader(),
    SWEAgentTrajLoader(),
    NebiusLoader(),
    OpenAIToolsLoader(),
    SWEPlayLoader(),
    SWESmithLoader(),
    StepsListLoader(),
    GSM8KLoader(),
    S1KLoader(),
    BoxedLoader(),
    MathLoader(),
)
ALIASES = {
    "math500": "boxed",
    "minerva": "boxed",
    "swe_gym": "openai_tools",
    "openhands": "openai_tools",
    "traj": "swe_agent_traj",
    "trajectory": "srlkit",
}
FORMAT_NAMES: tuple[str, ...] = tuple(loader.name for loader in LOADERS)


def get_loader(name: str) -> Loader:
    """The loader called ``name`` (or one of its aliases, e.g. ``math500`` -> ``boxed``)."""
    name = ALIASES.get(name, name)
    for loader in LOADERS:
        if loader.name == name:
            return loader
    raise ValueError(f"unknown format {name!r}; known: {', '.join(FORMAT_NAMES + tuple(ALIASES))}")


def detect_loader(record: dict[str, Any], where: RawRecord | None = None) -> Loader:
    """The first loader that accepts ``record``; a DataError listing what was looked for otherwise."""
    for loader in LOADERS:
        if _detects(loader, record):
            return loader
    path = where.path if where else None
    line = where.line if where else None
    hint = answer_only_hint(record)
    if hint is not None:
        raise DataError(path, hint, line)
    looked = "; ".join(f"{loader.name}: {loader.looks_for}" for loader in LOADERS)
    fields = ", ".join(sorted(record)) or "none"
    raise DataError(
        path,
        f"unknown trajectory format (fields found: {fields}). Looked for - {looked}. Name one with --format.",
        line,
    )


def _record_loader(file_loader: Loader, raw: RawRecord) -> Loader:
    """The file's loader, unless this record plainly belongs to another format.

    Files that mix families (SWE-Gym and SWE-smith rows concatenated, MATH-500 rows with and
    without ``\\boxed``) then load correctly. A record no format recognises stays with the
    file's loader, whose error names the missing field precisely.
    """
    if _detects(file_loader, raw.record):
        return file_loader
    for loader in LOADERS:
        # The file's loader already said no; asking again would rescan every message.
        if loader is not file_loader and _detects(loader, raw.record):
            return loader
    return file_loader


def _detects(loader: Loader, record: dict[str, Any]) -> bool:
    """``loader.detect(record)``; a record of a shape the check trips over is not its format."""
    try:
        return bool(loader.detect(record))
    except MALFORMED_ERRORS:
        return False


@dataclass
class LoadOutcome:
    """One record's fate: a trajectory, or a drop reason (with the message for the log)."""

    raw: RawRecord | None
    trajectory: Trajectory | None = None
    dropped: str | None = None
    detail: str = ""
    format: str = ""


def load_file(
    path: str | os.PathLike[str] | HubSource,
    format: str | None = None,
    options: LoaderOptions | None = None,
    skip_invalid: bool = False,
    max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES,
) -> Iterator[LoadOutcome]:
    """Stream every record of one file (or hub dataset) as a :class:`LoadOutcome`
    (read = kept + dropped).

    Malformed records raise :class:`DataError` unless ``skip_invalid``; then they come out as
    outcomes dropped with reason ``invalid`` (unreadable JSON lines too, so they are counted).
    """
    options = options or LoaderOptions()
    loader = get_loader(format) if format else None
    errors: list[DataError] = []
    for raw in iter_source_records(path, skip_invalid, errors, max_record_bytes):
        while errors:
            err = errors.pop(0)
            yield LoadOutcome(
                None, dropped="invalid", detail=str(err), format=loader.name if loader else ""
            )
        if loader is None:
            try:
                loader = detect_loader(raw.record, raw)
            except DataError as err:
                if not skip_invalid:
                    raise
                yield LoadOutcome(raw, dropped="invalid", detail=str(err))
                continue  # detection tries again on the next record
        used = loader if format else _record_loader(loader, raw)
        try:
            yield LoadOutcome(raw, _load_one(used, raw, options), format=used.name)
        except RecordDropped as drop:
            yield LoadOutcome(
                raw, dropped=drop.reason, detail=f"{raw.where}: {drop.detail}", format=used.name
            )
        except DataError as err:
            if not skip_invalid:
                raise
            yield LoadOutcome(raw, dropped="invalid", detail=str(err), format=used.name)
    for err in errors:
        yield LoadOutcome(
            None, dropped="invalid", detail=str(err), format=loader.name if loader else ""
        )


MALFORMED_ERRORS = (TypeError, ValueError, KeyError, AttributeError, RecursionError, UnicodeError)
"""What a loader's code raises on a record of an unexpected shape (a number where text was
expected, a list where an object was): turned into a located :class:`DataError`, so one odd
record is a counted drop (with ``--skip-invalid``) or a one-line error, never a traceback."""


def _load_one(loader: Loader, raw: RawRecord, options: LoaderOptions) -> Trajectory:
    try:
        return loader.load(raw, options)
    except (DataError, RecordDropped):
        raise
    except MALFORMED_ERRORS as err:
        message = str(err).splitlines()[0][:300] if str(err) else type(err).__name__
        raise DataError(raw.path, f"{raw.prefix}malformed record: {message}", raw.line) from None


def load_trajectories(
    inputs: list[str | os.PathLike[str]] | str | os.PathLike[str],
    format: str | None = None,
    options: LoaderOptions | None = None,
    skip_invalid: bool = False,
) -> list[Trajectory]:
    """Every usable trajectory in ``inputs`` (files or directories), dropping the unusable ones.

    >>> trajs = load_trajectories("../shared/data/gsm8k/test.jsonl")  # doctest: +SKIP
    """
    if isinstance(inputs, (str, os.PathLike)):
        inputs = [inputs]
    out = []
    for path in expand_inputs(list(inputs)):
        out.extend(
            o.trajectory
            for o in load_file(Path(path), format, options, skip_invalid)
            if o.trajectory
        )
    return out


__all__ = [
    "ALIASES",
    "FORMAT_NAMES",
    "LOADERS",
    "LoadOutcome",
    "Loader",
    "LoaderOptions",
    "RecordDropped",
    "detect_loader",
    "expand_inputs",
    "get_loader",
    "load_file",
    "load_trajectories",
]

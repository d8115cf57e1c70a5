"""What every loader shares: its interface, its options, and the two ways a record can fail.

A loader turns one raw JSON record into a :class:`~srlkit.data.schema.Trajectory`. It can fail
in two different ways, and the difference matters for the statistics a user reads:

- the record is *malformed* (a field is missing or has the wrong type): that is bad input,
  raised as :class:`~srlkit.io.DataError` naming the record, the fields found and the fields
  accepted; the build stops unless ``--skip-invalid`` is given, then it is counted as dropped;
- the record is well-formed but *unusable* (its solution has one step, it has no action): it
  is dropped with a named reason (:class:`RecordDropped`) and counted, never an error.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar

from srlkit.data.files import RawRecord
from srlkit.data.schema import Trajectory
from srlkit.io import DataError

# Scalar fields worth carrying into trajectory metadata when a record has them.
METADATA_FIELDS = (
    "instance_id",
    "unique_id",
    "traj_id",
    "run_id",
    "resolved",
    "model",
    "model_name",
    "target",
    "exit_status",
    "category",
    "source",
    "source_type",
    "subject",
    "level",
    "type",
    "idx",
    "url",
)
ID_FIELDS = ("id", "instance_id", "unique_id", "traj_id", "idx")


class RecordDropped(Exception):
    """A well-formed record that yields no usable trajectory; ``reason`` is a short stats key."""

    def __init__(self, reason: str, detail: str = ""):
        self.reason = reason
        self.detail = detail
        super().__init__(f"{reason}: {detail}" if detail else reason)


@dataclass
class LoaderOptions:
    """User choices that apply to every loader (CLI flags of ``srl data build``).

    Field names left as ``None`` mean "use the loader's defaults"; the math loaders look for
    the first present field of their default list.
    """

    problem_field: str | None = field(
        default=None,
        metadata={"help": "math: field holding the problem (default: problem/question/prompt/...)"},
    )
    solution_field: str | None = field(
        default=None,
        metadata={"help": "math: field holding the solution (default: deepseek_attempt/...)"},
    )
    answer_field: str | None = field(
        default=None,
        metadata={
            "help": "math: field holding the final answer (default: answer/final_answer/...)"
        },
    )
    segment: str = field(
        default="auto", metadata={"help": "math: how solutions are cut into steps"}
    )
    step_regex: str | None = field(
        default=None,
        metadata={
            "help": "math: pattern matching where each step starts (group 'title' optional); "
            "implies --segment regex"
        },
    )
    min_steps: int = field(
        default=2, metadata={"help": "trajectories with fewer steps are dropped"}
    )


class Loader(ABC):
    """One input format. Subclasses set ``name``, ``kind``, ``description`` and implement two methods."""

    name: ClassVar[str] = ""
    kind: ClassVar[str] = ""
    description: ClassVar[str] = ""
    # What detection looks for, in words (listed when no format matches).
    looks_for: ClassVar[str] = ""

    @abstractmethod
    def detect(self, record: dict[str, Any]) -> bool:
        """True when ``record`` looks like this format (called on a file's first record)."""

    @abstractmethod
    def load(self, raw: RawRecord, options: LoaderOptions) -> Trajectory:
        """The record as a trajectory; raises DataError (malformed) or RecordDropped (unusable)."""


def missing_field(raw: RawRecord, what: str, accepted: tuple[str, ...] | list[str]) -> DataError:
    """The error for a record without a needed field: names the fields found and those accepted."""
    found = ", ".join(sorted(raw.record)) or "none"
    return DataError(
        raw.path,
        f"{raw.prefix}no {what} field (accepted: {', '.join(accepted)}; found: {found})",
        raw.line,
    )


def first_text_field(
    raw: RawRecord, names: tuple[str, ...] | list[str], what: str
) -> tuple[str, str]:
    """``(name, text)`` of the first of ``names`` present in the record, which must be non-empty text.

    A field that is present but empty ends the search (the record is dropped as
    ``empty_<what>``) rather than falling through to the next name: a MATH row with an empty
    ``solution`` would otherwise be read with its ``answer`` as the solution.
    """
    for name in names:
        value = raw.record.get(name)
        if isinstance(value, str):
            if value.strip():
                return name, value
            raise RecordDropped(f"empty_{what}", f"field {name!r} is empty")
        if value is not None:
            raise DataError(
                raw.path,
                f"{raw.prefix}field {name!r} should be text, found {type(value).__name__}",
                raw.line,
            )
    present = [n for n in names if n in raw.record]
    if present:
        raise RecordDropped(f"empty_{what}", f"field {present[0]!r} is empty")
    raise missing_field(raw, what, names)


def record_id(raw: RawRecord) -> str:
    """The record's own id when it has one, else ``<file stem>-<record number>``."""
    for name in ID_FIELDS:
        value = raw.record.get(name)
        if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value).strip():
            return str(value)
    return f"{raw.path.stem}-{raw.index}"


def record_metadata(raw: RawRecord, **extra: Any) -> dict[str, Any]:
    """Source location plus the record's short scalar fields (ids, labels, resolved flags)."""
    meta: dict[str, Any] = {"source_file": str(raw.path), "source_record": raw.index}
    if raw.line is not None:
        meta["source_line"] = raw.line
    for name in METADATA_FIELDS:
        value = raw.record.get(name)
        if isinstance(value, (bool, int, float)) or (
            isinstance(value, str) and 0 < len(value) <= 200
        ):
            meta[name] = value
    meta.update(extra)
    return meta


def require_list(raw: RawRecord, names: tuple[str, ...], what: str) -> tuple[str, list[Any]]:
    """``(name, list)`` for the first of ``names`` holding a list."""
    for name in names:
        value = raw.record.get(name)
        if isinstance(value, list):
            return name, value
        if value is not None:
            raise DataError(
                raw.path,
                f"{raw.prefix}field {name!r} should be a list of {what}, found {type(value).__name__}",
                raw.line,
            )
    raise missing_field(raw, what, names)

"""Build statistics: what was read, what was kept, what was dropped and why, in what shape.

The invariant a user can check is ``read == kept + sum(dropped.values())`` at the trajectory
level, always. Length summaries are exact but kept as value -> count histograms, so memory
depends on the number of *distinct* lengths, not on the number of instances (builds stream).
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from srlkit.io import DataError

STATS_FILE = "stats.json"

MAX_EXAMPLES_PER_REASON = 5


@dataclass
class Distribution:
    """Exact min / median / max / mean of integer values, from a histogram."""

    counts: Counter = field(default_factory=Counter)

    def add(self, value: int) -> None:
        self.counts[int(value)] += 1

    def add_many(self, values: Iterable[int]) -> None:
        """Add several values in one call (``Counter.update`` counts them in C)."""
        self.counts.update(map(int, values))

    def summary(self) -> dict[str, float | int | None]:
        n = sum(self.counts.values())
        if n == 0:
            return {"count": 0, "min": None, "median": None, "max": None, "mean": None}
        keys = sorted(self.counts)
        total = sum(k * c for k, c in self.counts.items())
        return {
            "count": n,
            "min": keys[0],
            "median": _median(keys, self.counts, n),
            "max": keys[-1],
            "mean": round(total / n, 2),
        }


def _median(keys: list[int], counts: Counter, n: int) -> float:
    lo_rank, hi_rank = (n - 1) // 2, n // 2
    seen, lo = 0, None
    for k in keys:
        seen += counts[k]
        if lo is None and seen > lo_rank:
            lo = k
        if seen > hi_rank:
            return (lo + k) / 2 if lo != k else float(k)
    raise AssertionError("unreachable: ranks are below the total count")


@dataclass
class SplitStats:
    trajectories: int = 0
    instances: int = 0


@dataclass
class BuildStats:
    """Everything ``srl data stats`` prints; written as ``stats.json`` next to the instances."""

    read: int = 0
    kept: int = 0
    dropped: Counter = field(default_factory=Counter)
    drop_examples: dict[str, list[str]] = field(default_factory=dict)
    formats: Counter = field(default_factory=Counter)
    segmentation: Counter = field(default_factory=Counter)
    instances_dropped: Counter = field(default_factory=Counter)
    splits: dict[str, SplitStats] = field(
        default_factory=lambda: {"train": SplitStats(), "validation": SplitStats()}
    )
    steps_per_trajectory: Distribution = field(default_factory=Distribution)
    prompt_chars: Distribution = field(default_factory=Distribution)
    target_chars: Distribution = field(default_factory=Distribution)
    prompt_tokens: Distribution = field(default_factory=Distribution)
    inputs: list[str] = field(default_factory=list)
    config: dict[str, Any] = field(default_factory=dict)

    def record_drop(self, reason: str, detail: str) -> None:
        self.read += 1
        self.dropped[reason] += 1
        examples = self.drop_examples.setdefault(reason, [])
        if len(examples) < MAX_EXAMPLES_PER_REASON and detail:
            examples.append(detail)

    def reconciles(self) -> bool:
        return self.read == self.kept + sum(self.dropped.values())

    def to_dict(self) -> dict[str, Any]:
        return {
            "trajectories": {
                "read": self.read,
                "kept": self.kept,
                "dropped": dict(sorted(self.dropped.items())),
                "dropped_total": sum(self.dropped.values()),
                "drop_examples": self.drop_examples,
                "by_format": dict(sorted(self.formats.items())),
                "segmentation": dict(sorted(self.segmentation.items())),
                "steps_per_trajectory": self.steps_per_trajectory.summary(),
            },
            "splits": {
                name: {"trajectories": s.trajectories, "instances": s.instances}
                for name, s in self.splits.items()
            },
            "instances": {
                "total": sum(s.instances for s in self.splits.values()),
                "dropped": dict(sorted(self.instances_dropped.items())),
                "prompt_chars": self.prompt_chars.summary(),
                "target_chars": self.target_chars.summary(),
                "prompt_tokens": self.prompt_tokens.summary(),
            },
            "inputs": self.inputs,
            "config": self.config,
        }


_COUNTS = ("dropped", "by_format", "segmentation")
_DISTRIBUTIONS = {
    "trajectories": ("steps_per_trajectory",),
    "instances": ("prompt_chars", "target_chars", "prompt_tokens"),
}


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _distribution_problem(d: Any, name: str) -> str | None:
    if not isinstance(d, dict) or not _is_int(d.get("count")):
        return f"{name} should be an object with an integer count"
    if d["count"] and not all(
        isinstance(d.get(k), (int, float)) and not isinstance(d.get(k), bool)
        for k in ("min", "median", "max", "mean")
    ):
        return f"{name} should have numeric min, median, max and mean"
    return None


def stats_problem(stats: Any) -> str | None:
    """What is wrong with the shape of a loaded ``stats.json`` (None when it is readable)."""
    if not isinstance(stats, dict):
        return f"expected a JSON object, found {type(stats).__name__}"
    t, splits, inst = stats.get("trajectories"), stats.get("splits"), stats.get("instances")
    if not isinstance(t, dict) or not all(
        _is_int(t.get(k)) for k in ("read", "kept", "dropped_total")
    ):
        return "'trajectories' should hold integer read, kept and dropped_total"
    for key in _COUNTS:
        if not isinstance(t.get(key), dict) or not all(_is_int(v) for v in t[key].values()):
            return f"'trajectories.{key}' should map names to counts"
    if not isinstance(t.get("drop_examples", {}), dict):
        return "'trajectories.drop_examples' should map reasons to lists of text"
    if not isinstance(splits, dict) or not all(
        isinstance(s, dict) and _is_int(s.get("trajectories")) and _is_int(s.get("instances"))
        for s in splits.values()
    ):
        return "'splits' should map split names to {trajectories, instances} counts"
    if not isinstance(inst, dict) or not _is_int(inst.get("total")):
        return "'instances' should hold an integer total"
    if not isinstance(inst.get("dropped"), dict):
        return "'instances.dropped' should map reasons to counts"
    for section, names in _DISTRIBUTIONS.items():
        for name in names:
            problem = _distribution_problem(stats[section].get(name), f"'{section}.{name}'")
            if problem:
                return problem
    return None


def read_stats(directory: str | os.PathLike[str]) -> dict[str, Any]:
    """The ``stats.json`` of a build folder, checked: a missing, torn or foreign file is one
    :class:`~srlkit.io.DataError` line, never a traceback in whoever prints it."""
    path = Path(directory) / STATS_FILE
    if not path.is_file():
        raise DataError(path, "not found (expected the output directory of 'srl data build')")
    try:
        stats = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, RecursionError, UnicodeDecodeError) as exc:
        raise DataError(path, f"unreadable stats file: {str(exc)[:200]}") from None
    problem = stats_problem(stats)
    if problem:
        raise DataError(path, f"not a build's stats file: {problem}")
    return stats

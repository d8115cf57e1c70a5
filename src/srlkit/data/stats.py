"""Build statistics: what was read, what was kept, what was dropped and why, in what shape.

The invariant a user can check is ``read == kept + sum(dropped.values())`` at the trajectory
level, always. Length summaries are exact but kept as value -> count histograms, so memory
depends on the number of *distinct* lengths, not on the number of instances (builds stream).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

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

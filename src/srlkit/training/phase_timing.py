"""Seconds spent per phase of a GRPO step, logged verl-style as ``timing_s/<phase>``.

Why: with dynamic sampling a step may generate several rounds, and on a slow reward (a judge,
a sandbox) the reward can outweigh generation; a user tuning ``max_generation_rounds`` or the
reward needs to see where the time goes, per step, in the same logs as the loss.

Phases of one optimizer step (summed over its gradient-accumulation micro-steps):

- ``generate``: the first generation round (TRL's generation and log-prob passes), reward excluded;
- ``reward``: the reward functions, over every round;
- ``refill``: the extra rounds dynamic sampling asked for, reward excluded;
- ``update``: everything else in the step (forward, backward, optimizer).

>>> times = PhaseTimes()
>>> times.add("generate", 1.5); times.add("reward", 0.5); times.add("refill", 1.0)
>>> times.as_metrics(step_seconds=4.0)
{'timing_s/generate': 1.5, 'timing_s/reward': 0.5, 'timing_s/refill': 1.0, 'timing_s/update': 1.0}
"""

from __future__ import annotations

from dataclasses import dataclass, field

PHASES = ("generate", "reward", "refill")
METRIC_PREFIX = "timing_s/"


@dataclass
class PhaseTimes:
    """Accumulated seconds per phase; ``update`` is what the step's wall time leaves over."""

    seconds: dict[str, float] = field(default_factory=lambda: dict.fromkeys(PHASES, 0.0))

    def add(self, phase: str, seconds: float) -> None:
        if phase not in self.seconds:
            raise ValueError(f"unknown phase {phase!r}; expected one of {PHASES}")
        self.seconds[phase] += seconds

    def as_metrics(self, step_seconds: float) -> dict[str, float]:
        """The phases plus ``update = step_seconds - the rest`` (never below 0)."""
        metrics = {METRIC_PREFIX + name: value for name, value in self.seconds.items()}
        metrics[METRIC_PREFIX + "update"] = max(step_seconds - sum(self.seconds.values()), 0.0)
        return metrics

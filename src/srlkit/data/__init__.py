"""Data: expert trajectories, their steps, and the step-wise instances SRL trains on.

Nothing in this package imports torch; it is usable from any trainer and from the CLI.
"""

from srlkit.data.schema import Step, StepInstance, Trajectory

__all__ = ["Step", "StepInstance", "Trajectory"]

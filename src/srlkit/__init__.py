"""srlkit: Supervised Reinforcement Learning from expert trajectories.

The package is layered so that the cheap parts stay cheap:

- ``srlkit.data``: trajectories -> steps -> step instances (plain Python, no torch).
- ``srlkit.rewards``: format check, step similarity, outcome reward (plain Python, no torch).
- ``srlkit.training``: SRL / RLVR (GRPO with dynamic sampling) and SFT, a thin layer over TRL.
- ``srlkit.evaluation``: math benchmarks and step-level validation.
- ``srlkit.cli``: the ``srl`` command.
"""

__version__ = "0.1.0"

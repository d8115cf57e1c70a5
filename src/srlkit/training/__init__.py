"""Training: a thin layer over TRL (GRPO for SRL and RLVR, SFT) plus what TRL lacks.

What TRL lacks and srlkit adds lives in small modules here: the dynamic-sampling keep mask and
refill loop (``dynamic_sampling``), the group-advantage maths (``grpo_advantages``) and the GRPO
trainer that wires them in (``grpo``). Nothing is imported eagerly, so ``import srlkit.training``
stays cheap for the CLI; import the submodule you need.
"""

"""The one list of methods the demo compares: ``srl demo``, its seeds table and its report read it.

Each method is a ``srl train`` run (or none, for the base student) started from the base student
or from another method's model, so a curriculum (SRL -> RLVR) is a method whose ``start`` is
``srl``. Every RL method gets the same steps and GRPO settings (SRL four times the prompts per
step, the paper's batch ratio, see :class:`srlkit.demo.stages.GRPOSettings`); what differs is the algorithm, the data
file it trains on and the flags listed here, which are exactly the flags the printed ``srl
train`` command carries.

- the demo's default comparison: :data:`DEFAULT_METHODS` (base, RLVR, SRL, SRL -> RLVR);
- the miniature paper table (``--methods table``): :data:`TABLE_METHODS`, adding SFT, R3,
  SFT -> RLVR and the paper's two ablations.
"""

from __future__ import annotations

from dataclasses import dataclass, field

BASE = "base"


@dataclass(frozen=True)
class MethodSpec:
    """How one compared model is made.

    ``algorithm`` is the ``srl train`` method (``None``: the base student itself); ``data`` the
    demo data file it trains on (``instances``, ``solve`` or ``sft``, see
    :mod:`srlkit.demo.data`); ``start`` the method whose model it starts from; ``flags`` extra
    ``srl train`` options (``--name value``) on top of the demo's settings for the algorithm.
    """

    name: str
    label: str
    algorithm: str | None
    data: str = ""
    start: str = BASE
    flags: dict[str, str] = field(default_factory=dict)

    @property
    def trains(self) -> bool:
        return self.algorithm is not None


METHODS: dict[str, MethodSpec] = {
    m.name: m
    for m in (
        MethodSpec(BASE, "base", None),
        MethodSpec("sft", "SFT", "sft", "sft"),
        MethodSpec("rlvr", "RLVR", "rlvr", "solve"),
        MethodSpec("r3", "R3", "r3", "trajectories"),
        MethodSpec("sft_rlvr", "SFT->RLVR", "rlvr", "solve", start="sft"),
        MethodSpec("srl", "SRL", "srl", "instances"),
        MethodSpec("srl_rlvr", "SRL->RLVR", "rlvr", "solve", start="srl"),
        MethodSpec(
            "srl_no_ds",
            "SRL without dynamic sampling",
            "srl",
            "instances",
            flags={"dynamic_sampling": "false"},
        ),
        MethodSpec(
            "srl_whole",
            "whole-solution similarity",
            "rlvr",
            "solve",
            flags={
                "answer_field": "solution",
                "dynamic_sampling_rule": "std",
                "reward_funcs": "srlkit.demo.rewards.whole_solution_reward",
            },
        ),
    )
}
"""Every method, in table order (the order of every table and figure)."""

DEFAULT_METHODS = ("base", "rlvr", "srl", "srl_rlvr")
TABLE_METHODS = tuple(METHODS)
METHOD_SETS = {"default": DEFAULT_METHODS, "table": TABLE_METHODS}

CONTRASTS: tuple[tuple[str, str], ...] = (
    ("srl", "base"),
    ("srl", "rlvr"),
    ("srl_rlvr", "srl"),
    ("srl_rlvr", "rlvr"),
    ("srl", "sft"),
    ("srl", "r3"),
)
"""Pairs ``(a, b)`` whose accuracy difference ``a - b`` the reading states, when both ran: the
issue's three (SRL above the base and RLVR, SRL -> RLVR at least SRL), the paper's strongest
method against RLVR, and SRL against the table's other baselines."""


def resolve_methods(spec: str | list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """Method names from ``default``, ``table`` or a comma list, with every start they need,
    in table order; an unknown name raises a one-line ``ValueError``."""
    names: list[str] = []
    tokens = spec.split(",") if isinstance(spec, str) else list(spec)
    for token in (t.strip() for t in tokens):
        if not token:
            continue
        if token in METHOD_SETS:
            names += METHOD_SETS[token]
        elif token in METHODS:
            names.append(token)
        else:
            raise ValueError(
                f"unknown method {token!r}; expected one of {sorted(METHODS)} or "
                f"{sorted(METHOD_SETS)}"
            )
    wanted = set(names) | {BASE}
    changed = True
    while changed:
        starts = {METHODS[n].start for n in wanted}
        changed = not starts <= wanted
        wanted |= starts
    return tuple(n for n in METHODS if n in wanted)


def label(name: str) -> str:
    """The method's name in tables and figures (the name itself for an unknown one)."""
    spec = METHODS.get(name)
    return spec.label if spec else name

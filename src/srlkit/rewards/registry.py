"""Rewards by name: one string in a YAML recipe selects a reward, a mapping weights a composite.

Built-in names (each a factory taking the reward's options as keyword arguments):

- ``"srl_step"``: :func:`srlkit.rewards.srl.make_srl_step_reward` (``format_penalty``,
  ``lenient``, ``metric``, ``autojunk``);
- ``"outcome"``: :func:`srlkit.rewards.outcome.outcome_reward` (``timeout_s``);
- ``"format"``: :func:`srlkit.rewards.format.format_reward` (``lenient``).

Anything else is read as a dotted import path to a user's TRL-style reward function,
``"my_pkg.rewards:length_penalty"`` or ``"my_pkg.rewards.length_penalty"``.

A spec for :func:`build_reward_funcs` is a name, a list of names (weight 1.0 each), or a
mapping ``{name: weight}`` / ``{name: {"weight": w, **options}}``. The weights go to TRL's
``GRPOConfig.reward_weights`` in the same order as the functions.

>>> funcs, weights = build_reward_funcs({"srl_step": 1.0, "format": 0.1})
>>> [f.__name__ for f in funcs], weights
(['srl_step', 'format'], [1.0, 0.1])
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from srlkit.rewards.format import format_reward
from srlkit.rewards.outcome import outcome_reward
from srlkit.rewards.srl import make_srl_step_reward

RewardFunc = Callable[..., list]


def _with_options(fn: RewardFunc, name: str) -> Callable[..., RewardFunc]:
    """A factory binding keyword options to ``fn`` and naming the result ``name``."""

    def factory(**options: Any) -> RewardFunc:
        if not options:
            bound = fn
        else:
            bound = functools.partial(fn, **options)
            functools.update_wrapper(bound, fn)
        if getattr(bound, "__name__", None) != name:
            bound = functools.partial(bound)
            functools.update_wrapper(bound, fn)
            bound.__name__ = name
        return bound

    return factory


REWARDS: dict[str, Callable[..., RewardFunc]] = {
    "srl_step": make_srl_step_reward,
    "outcome": _with_options(outcome_reward, "outcome"),
    "format": _with_options(format_reward, "format"),
}


def register_reward(name: str, factory: Callable[..., RewardFunc]) -> None:
    """Add a named reward; ``factory(**options)`` must return a TRL-style reward function."""
    if name in REWARDS:
        raise ValueError(f"reward {name!r} is already registered")
    REWARDS[name] = factory


def _import_dotted(path: str) -> Any:
    module_name, sep, attr = path.partition(":")
    if not sep:
        module_name, _, attr = path.rpartition(".")
    if not module_name or not attr:
        raise ValueError(
            f"unknown reward {path!r}: not a registered name {sorted(REWARDS)} nor a dotted path"
        )
    try:
        module = importlib.import_module(module_name)
    except ImportError as err:
        raise ValueError(f"reward {path!r}: cannot import module {module_name!r} ({err})") from err
    try:
        return getattr(module, attr)
    except AttributeError:
        raise ValueError(
            f"reward {path!r}: module {module_name!r} has no attribute {attr!r}"
        ) from None


def get_reward(name_or_dotted_path: str, **options: Any) -> RewardFunc:
    """The reward function registered as ``name`` (options passed to its factory), or imported."""
    if name_or_dotted_path in REWARDS:
        return REWARDS[name_or_dotted_path](**options)
    fn = _import_dotted(name_or_dotted_path)
    if not callable(fn):
        raise TypeError(f"reward {name_or_dotted_path!r} is not callable")
    return _with_options(fn, getattr(fn, "__name__", name_or_dotted_path))(**options)


def _entries(
    spec: str | Sequence[str] | Mapping[str, Any],
) -> list[tuple[str, float, dict[str, Any]]]:
    if isinstance(spec, str):
        return [(spec, 1.0, {})]
    if isinstance(spec, Mapping):
        entries = []
        for name, value in spec.items():
            if isinstance(value, Mapping):
                options = dict(value)
                weight = options.pop("weight", 1.0)
            else:
                options, weight = {}, value
            if isinstance(weight, bool) or not isinstance(weight, (int, float)):
                raise TypeError(f"reward {name!r}: weight must be a number, got {weight!r}")
            entries.append((str(name), float(weight), options))
        return entries
    if isinstance(spec, Sequence) and all(isinstance(s, str) for s in spec):
        return [(name, 1.0, {}) for name in spec]
    raise TypeError(
        f"reward spec must be a name, a list of names or a {{name: weight}} mapping, got {spec!r}"
    )


def build_reward_funcs(
    spec: str | Sequence[str] | Mapping[str, Any],
) -> tuple[list[RewardFunc], list[float]]:
    """Reward functions and their weights for TRL's ``reward_funcs`` / ``reward_weights``."""
    entries = _entries(spec)
    if not entries:
        raise ValueError("reward spec is empty")
    funcs = [get_reward(name, **options) for name, _, options in entries]
    return funcs, [weight for _, weight, _ in entries]

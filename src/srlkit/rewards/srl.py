"""The SRL step reward: similarity of the model's action to the expert's next step.

``r = similarity(action, target)`` when the completion passes the format check, else a fixed
penalty (-1.0 in the paper). Only the action is scored, never the monologue. For agent steps
(``kind == "agent"``) both sides are first rewritten into the canonical action form the data
pipeline stores targets in, so a tool call written as OpenAI JSON, a Hermes ``<tool_call>`` or
an OpenHands ``<function=...>`` block scores the same.

Works unchanged as a TRL reward function (``completions`` plus the dataset columns ``target``
and ``kind`` as keyword arguments); :func:`make_srl_step_reward` fixes the options.

>>> srl_step_reward(["<think>sum</think>2 + 3 = 5", "2 + 3 = 5"], target=["2 + 3 = 5"] * 2)
[1.0, -1.0]
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

from srlkit.data.actions import canonicalize_action_text
from srlkit.data.schema import KIND_AGENT
from srlkit.rewards.format import parse_completion
from srlkit.rewards.similarity import DEFAULT_AUTOJUNK, DEFAULT_METRIC, batch_similarity

DEFAULT_FORMAT_PENALTY = -1.0

RewardFunc = Callable[..., list]


def _per_item(value: Any, n: int, name: str) -> list[Any]:
    """A dataset column as one value per completion (TRL passes lists; plain callers may pass one)."""
    if value is None or isinstance(value, str):
        return [value] * n
    values = list(value)
    if len(values) != n:
        raise ValueError(f"{name}: {len(values)} values for {n} completions")
    return values


def _comparable(text: str, kind: str | None) -> str:
    return canonicalize_action_text(text) if kind == KIND_AGENT else text


def srl_step_reward(
    completions: Sequence[Any],
    target: Sequence[str] | str,
    kind: Sequence[str | None] | str | None = None,
    *,
    format_penalty: float = DEFAULT_FORMAT_PENALTY,
    lenient: bool = False,
    metric: str = DEFAULT_METRIC,
    autojunk: bool = DEFAULT_AUTOJUNK,
    **kwargs: Any,
) -> list[float]:
    """One reward per completion: similarity of its action to ``target``, or ``format_penalty``.

    ``kind`` ("math" / "agent") selects canonical action comparison for agent steps; other
    keyword arguments (further dataset columns, TRL's ``trainer_state`` ...) are ignored.
    """
    n = len(completions)
    targets = _per_item(target, n, "target")
    kinds = _per_item(kind, n, "kind")
    rewards = [float(format_penalty)] * n
    scored, predictions, references = [], [], []
    for i, (completion, ref, k) in enumerate(zip(completions, targets, kinds)):
        parsed = parse_completion(completion, lenient=lenient)
        if not parsed.ok:
            continue
        scored.append(i)
        predictions.append(_comparable(parsed.action, k))
        references.append(_comparable(str(ref), k))
    for i, score in zip(scored, batch_similarity(predictions, references, metric, autojunk)):
        rewards[i] = score
    return rewards


def make_srl_step_reward(
    format_penalty: float = DEFAULT_FORMAT_PENALTY,
    lenient: bool = False,
    metric: str = DEFAULT_METRIC,
    autojunk: bool = DEFAULT_AUTOJUNK,
) -> RewardFunc:
    """:func:`srl_step_reward` with its options fixed, named ``srl_step`` for TRL's logs."""
    fn = functools.partial(
        srl_step_reward, format_penalty=format_penalty, lenient=lenient, metric=metric, autojunk=autojunk
    )
    functools.update_wrapper(fn, srl_step_reward)
    fn.__name__ = "srl_step"
    return fn

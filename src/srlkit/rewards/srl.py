"""The SRL step reward: similarity of the model's action to the expert's next step.

``r = similarity(action, target)`` when the completion passes the format check, else a fixed
penalty (-1.0 in the paper). Only the action is scored, never the monologue. For agent steps
(``kind == "agent"``) both sides are first rewritten into the canonical action form the data
pipeline stores targets in, so a tool call written as OpenAI JSON, a Hermes ``<tool_call>`` or
an OpenHands ``<function=...>`` block scores the same.

For instances of the ``continuation`` layout (the prompt opened the model's own answer with the
expert's earlier steps; dataset column ``continuation`` true) only the first step the model
writes is the action, by :func:`srlkit.rewards.format.parse_continuation`: the model goes on
writing its answer, and what follows the step is neither rewarded nor penalised.

Works unchanged as a TRL reward function (``completions`` plus the dataset columns ``target``,
``kind`` and, when present, ``continuation`` as keyword arguments); :func:`make_srl_step_reward` fixes the options.

>>> srl_step_reward(["<think>sum</think>2 + 3 = 5", "2 + 3 = 5"], target=["2 + 3 = 5"] * 2)
[1.0, -1.0]
"""

from __future__ import annotations

import functools
import logging
import math
from collections.abc import Callable, Sequence
from typing import Any

from srlkit.data.actions import canonicalize_action_text
from srlkit.data.schema import KIND_AGENT
from srlkit.rewards.format import parse_step
from srlkit.rewards.similarity import DEFAULT_AUTOJUNK, DEFAULT_METRIC, batch_similarity

logger = logging.getLogger(__name__)

DEFAULT_FORMAT_PENALTY = -1.0
DEFAULT_MAX_STEPS = 100_000_000
"""Work budget per comparison (see :func:`srlkit.rewards.similarity.batch_similarity`), about
0.5 s on one core: real steps need a few million at most; a pair over budget scores 0.0."""
DEFAULT_MAX_ACTION_CHARS = 16_384
"""Actions longer than this score 0.0 without being compared. Matching costs up to
O(len(action) * len(target)), so this bounds the time any model output can take; and an
action far longer than the expert's step could score at most 2 * len(target) / (len(action) +
len(target)) anyway (under 0.4 for a 6,400-character target)."""

RewardFunc = Callable[..., list]


def _per_item(value: Any, n: int, name: str) -> list[Any]:
    """A dataset column as one value per completion (TRL passes lists; plain callers may pass one)."""
    if value is None or isinstance(value, (str, bool)):
        return [value] * n
    values = list(value)
    if len(values) != n:
        raise ValueError(f"{name}: {len(values)} values for {n} completions")
    return values


def comparable_action(text: str, kind: str | None) -> str:
    """The string the reward compares: the canonical action form for agent steps, else ``text``.

    Public so that anything showing *why* a step got its reward (``srl report``) compares
    exactly what the reward compared.
    """
    return canonicalize_action_text(text) if kind == KIND_AGENT else text


def srl_step_reward(
    completions: Sequence[Any],
    target: Sequence[str] | str,
    kind: Sequence[str | None] | str | None = None,
    continuation: Sequence[bool] | bool | None = None,
    *,
    format_penalty: float = DEFAULT_FORMAT_PENALTY,
    lenient: bool = False,
    metric: str = DEFAULT_METRIC,
    autojunk: bool = DEFAULT_AUTOJUNK,
    max_action_chars: int = DEFAULT_MAX_ACTION_CHARS,
    max_steps: int = DEFAULT_MAX_STEPS,
    **kwargs: Any,
) -> list[float]:
    """One reward per completion: similarity of its action to ``target``, or ``format_penalty``.

    ``kind`` ("math" / "agent") selects canonical action comparison for agent steps; other
    ``continuation`` (per completion, or one value for all) marks prompts that opened the
    model's answer: the first step written is scored. Other keyword arguments (further dataset
    columns, TRL's ``trainer_state`` ...) are ignored.
    Actions longer than ``max_action_chars``, and pairs needing more than ``max_steps`` of
    matching work, score 0.0 and are logged: together they bound the time of any output.
    """
    n = len(completions)
    targets = _per_item(target, n, "target")
    kinds = _per_item(kind, n, "kind")
    continues = [False] * n if continuation is None else _per_item(continuation, n, "continuation")
    rewards = [float(format_penalty)] * n
    scored, predictions, references = [], [], []
    for i, (completion, ref, k) in enumerate(zip(completions, targets, kinds)):
        parsed = parse_step(completion, bool(continues[i]), lenient=lenient)
        if not parsed.ok:
            continue
        if len(parsed.action) > max_action_chars:
            rewards[i] = 0.0
            continue
        scored.append(i)
        predictions.append(comparable_action(parsed.action, k))
        references.append(comparable_action(str(ref), k))
    scores = batch_similarity(predictions, references, metric, autojunk, max_steps=max_steps)
    over_budget = 0
    for i, score in zip(scored, scores):
        if math.isnan(score):
            over_budget += 1
            score = 0.0
        rewards[i] = score
    if over_budget:
        logger.warning(
            "srl_step: %d of %d actions exceeded the matching budget; scored 0.0", over_budget, n
        )
    return rewards


def make_srl_step_reward(
    format_penalty: float = DEFAULT_FORMAT_PENALTY,
    lenient: bool = False,
    metric: str = DEFAULT_METRIC,
    autojunk: bool = DEFAULT_AUTOJUNK,
    max_action_chars: int = DEFAULT_MAX_ACTION_CHARS,
    max_steps: int = DEFAULT_MAX_STEPS,
) -> RewardFunc:
    """:func:`srl_step_reward` with its options fixed, named ``srl_step`` for TRL's logs."""
    fn = functools.partial(
        srl_step_reward,
        format_penalty=format_penalty,
        lenient=lenient,
        metric=metric,
        autojunk=autojunk,
        max_action_chars=max_action_chars,
        max_steps=max_steps,
    )
    functools.update_wrapper(fn, srl_step_reward)
    fn.__name__ = "srl_step"
    return fn

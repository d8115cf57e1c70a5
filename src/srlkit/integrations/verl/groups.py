"""Which prompt groups carry no learning signal, for an engine that holds groups as uid -> rewards.

verl keeps a prompt's rollouts under its ``uid`` and a group may come up short (a failed
request), so groups are ragged; each is judged alone by
:func:`srlkit.training.dynamic_sampling.keep_mask`, the rule ``srl train`` applies. No verl
import here: the rule is testable anywhere.
"""

from __future__ import annotations

import math

from srlkit.training.dynamic_sampling import (
    DEFAULT_CORRECT_THRESHOLD,
    DEFAULT_STD_EPSILON,
    RULE_STD,
    keep_mask,
)


def flat_groups(
    values_by_uid: dict[str, list[float | None]],
    rule: str = RULE_STD,
    epsilon: float = DEFAULT_STD_EPSILON,
    correct_threshold: float = DEFAULT_CORRECT_THRESHOLD,
) -> set[str]:
    """The uids whose group carries no learning signal, by srlkit's :func:`keep_mask`.

    Groups may differ in size (a failed rollout leaves a group short), so each is judged alone.

    >>> sorted(flat_groups({"a": [0.5, 0.5, 0.505], "b": [0.0, 1.0]}))
    ['a']
    """
    dropped = set()
    for uid, values in values_by_uid.items():
        row = [math.nan if v is None else float(v) for v in values]
        if not bool(keep_mask([row], rule, epsilon, correct_threshold)[0]):
            dropped.add(uid)
    return dropped

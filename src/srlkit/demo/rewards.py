"""The paper's second ablation as a reward a user would write: similarity of the whole solution.

``srl train rlvr --answer_field solution --reward_funcs srlkit.demo.rewards.whole_solution_reward``
trains on whole problems, like RLVR, but rewards the similarity of everything the model wrote
(thoughts removed) to the expert's whole solution: one reward per solution instead of one per
step. TRL hands the dataset's ``answer`` column (here the expert solution) to the reward.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

_THINK_BLOCK_RE = re.compile(r"<think>.*?</think>", re.DOTALL)


def whole_solution_reward(
    completions: Sequence[Any], answer: Sequence[str], **kwargs: Any
) -> list[float]:
    """Similarity of each whole written solution to the expert's; -1.0 when nothing is written
    outside thoughts (the format-failure value of the step reward)."""
    from srlkit.rewards.format import completion_text
    from srlkit.rewards.similarity import step_similarity

    rewards = []
    for completion, reference in zip(completions, answer, strict=True):
        text = _THINK_BLOCK_RE.sub("", completion_text(completion)).strip()
        text = re.sub(r"\n+", "\n", text)
        rewards.append(step_similarity(text, reference) if text else -1.0)
    return rewards

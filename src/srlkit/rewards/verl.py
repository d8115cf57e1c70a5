"""The same rewards behind verl's custom-reward interface (the paper's authors trained with verl).

verl calls ``compute_score(data_source, solution_str, ground_truth, extra_info)`` per response
(naive reward manager) or ``compute_score(data_sources, solution_strs, ground_truths,
extra_infos)`` for a whole batch (batch reward manager). Point its config at this file::

    custom_reward_function:
      path: /path/to/site-packages/srlkit/rewards/verl.py   # python -c "import srlkit.rewards.verl as m; print(m.__file__)"
      name: compute_score          # or compute_score_batch with reward_model.reward_manager=batch

Which reward is computed is read from ``extra_info["reward"]``: ``"srl_step"`` (the default;
``ground_truth`` is the expert step, ``extra_info["kind"]`` selects canonical agent-action
comparison) or ``"outcome"`` (``ground_truth`` is the gold answer). verl needs a number, so an
unparseable gold answer scores 0.0 and is flagged by ``gold_unparseable: 1.0`` in the returned
dict, which verl logs beside the score (every dict has the same keys, as verl requires).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from srlkit.rewards.outcome import score_answers
from srlkit.rewards.srl import srl_step_reward

REWARD_KEY = "reward"
KIND_KEY = "kind"


def _outcome_dict(score: float | None) -> dict[str, float]:
    return {"score": 0.0 if score is None else score, "gold_unparseable": float(score is None)}


def compute_score_batch(
    data_sources: Sequence[str],
    solution_strs: Sequence[str],
    ground_truths: Sequence[str],
    extra_infos: Sequence[dict[str, Any] | None] | None = None,
    **kwargs: Any,
) -> list[dict[str, float]]:
    """verl batch reward: one ``{"score": ...}`` dict per response, in order."""
    n = len(solution_strs)
    # verl's batch manager passes numpy object arrays, whose truth value is an error: no `or`.
    infos = [info or {} for info in (extra_infos if extra_infos is not None else [None] * n)]
    groups: dict[str, list[int]] = {"srl_step": [], "outcome": []}
    for i, info in enumerate(infos):
        name = info.get(REWARD_KEY, "srl_step")
        if name not in groups:
            raise ValueError(
                f"extra_info['reward'] of response {i} must be 'srl_step' or 'outcome', got {name!r}"
            )
        groups[name].append(i)
    results: list[dict[str, float]] = [{} for _ in range(n)]
    step_idx, outcome_idx = groups["srl_step"], groups["outcome"]
    step_scores = srl_step_reward(
        [solution_strs[i] for i in step_idx],
        target=[str(ground_truths[i]) for i in step_idx],
        kind=[infos[i].get(KIND_KEY) for i in step_idx],
    )
    for i, score in zip(step_idx, step_scores):
        results[i] = {"score": score, "gold_unparseable": 0.0}  # same keys for every response
    outcome = score_answers(
        [solution_strs[i] for i in outcome_idx], [ground_truths[i] for i in outcome_idx]
    )
    for i, result in zip(outcome_idx, outcome):
        results[i] = _outcome_dict(result.score)
    return results


def compute_score(
    data_source: str,
    solution_str: str,
    ground_truth: str,
    extra_info: dict[str, Any] | None = None,
    **kwargs: Any,
) -> dict[str, float]:
    """verl per-response reward: ``{"score": ...}`` (plus ``gold_unparseable`` for outcome)."""
    return compute_score_batch([data_source], [solution_str], [ground_truth], [extra_info])[0]

"""Rewards for SRL and RLVR: the format check, step similarity, the outcome judge, a registry.

Plain Python (no torch), so the same functions serve TRL, verl and evaluation. Every reward is
a TRL reward function: ``f(completions, **dataset_columns) -> list[float]``.
"""

from srlkit.rewards.format import ParsedCompletion, format_reward, parse_completion
from srlkit.rewards.outcome import (
    OutcomeScore,
    extract_answer,
    outcome_reward,
    score_answer,
    score_answers,
)
from srlkit.rewards.registry import build_reward_funcs, get_reward, register_reward
from srlkit.rewards.similarity import batch_similarity, step_similarity
from srlkit.rewards.srl import make_srl_step_reward, srl_step_reward

__all__ = [
    "OutcomeScore",
    "ParsedCompletion",
    "batch_similarity",
    "build_reward_funcs",
    "extract_answer",
    "format_reward",
    "get_reward",
    "make_srl_step_reward",
    "outcome_reward",
    "parse_completion",
    "register_reward",
    "score_answer",
    "score_answers",
    "srl_step_reward",
    "step_similarity",
]

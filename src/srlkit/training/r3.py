"""R3, the SRL paper's reverse-curriculum baseline: outcome-reward RL from expert prefixes.

Why it exists: on hard problems an outcome reward is almost never earned from the start, so
RLVR gets no signal. R3 (Xi et al., 2024, "Training Large Language Models for Reasoning through
Reverse Curriculum Reinforcement Learning") starts each episode part-way through an expert
solution: first just before the answer (where the reward is easy to earn), then earlier stage
by stage, until the last stage is the plain problem. The SRL paper compares against it, so
``srl train r3`` trains it with the same GRPO trainer, reward and dynamic sampling as RLVR; only
the prompts differ.

Prompt of one episode: the problem in the RLVR prompt template, rendered with the model's chat
template and the assistant turn opened, then ``prefix_open`` (e.g. an empty think block for a
model that always thinks first) and the expert's first k steps. The model writes the rest. The
prompt is handed to TRL as *text*, because TRL renders conversational prompts with a fresh
generation prompt and cannot continue an assistant turn already begun.

Stages: with S stages and a solution of N steps (the last one gives the answer, never part of a
prefix), stage s gives round((N-1) * (S-1-s) / (S-1)) expert steps; stage 0 the most, stage S-1
none. Rows are ordered stage by stage (the trainer must not shuffle); when the run has a step
budget (``max_steps``) every stage gets an equal share of it, cycling through the problems.
"""

from __future__ import annotations

import logging
import math
import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from srlkit.data.schema import COL_ANSWER, COL_PROMPT, Trajectory
from srlkit.io import DataError

logger = logging.getLogger(__name__)

COL_STAGE = "r3_stage"
COL_PREFIX_STEPS = "r3_prefix_steps"


def prefix_lengths(num_steps: int, stages: int) -> list[int]:
    """Expert steps given at each stage, for a solution of ``num_steps`` steps (answer included).

    >>> prefix_lengths(7, 4)
    [6, 4, 2, 0]
    """
    if stages < 1:
        raise ValueError(f"r3 needs at least one stage, got {stages}")
    given = max(0, num_steps - 1)
    if stages == 1:
        return [0]
    return [round(given * (stages - 1 - s) / (stages - 1)) for s in range(stages)]


def episode_prompt(
    tokenizer: Any,
    trajectory: Trajectory,
    given: int,
    template: str,
    prefix_open: str = "",
) -> str:
    """The text an episode starts from: chat-rendered problem + opened assistant turn + prefix."""
    user = template.replace("{problem}", trajectory.task.strip())
    messages = [{"role": "user", "content": user}]
    if getattr(tokenizer, "chat_template", None):
        head = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    else:
        head = user + "\n\n"
    steps = "".join(
        step.math_text(i) + "\n" for i, step in enumerate(trajectory.steps[:given], start=1)
    )
    return head + prefix_open + steps


def r3_rows(
    trajectories: Sequence[Trajectory],
    tokenizer: Any,
    template: str,
    stages: int,
    prefix_open: str = "",
    rows_per_stage: int | None = None,
    seed: int = 0,
) -> list[dict[str, Any]]:
    """Training rows (``prompt`` text, ``answer``, stage, prefix length), ordered stage by stage.

    ``rows_per_stage`` (default: one row per trajectory) cycles through the trajectories, in a
    fresh random order each pass, so a stage can be longer or shorter than the data.
    """
    if not trajectories:
        raise ValueError("r3 needs at least one trajectory")
    rng = random.Random(seed)
    per_stage = rows_per_stage or len(trajectories)
    rows: list[dict[str, Any]] = []
    for stage in range(stages):
        order: list[Trajectory] = []
        while len(order) < per_stage:
            batch = list(trajectories)
            rng.shuffle(batch)
            order += batch
        for traj in order[:per_stage]:
            given = prefix_lengths(len(traj.steps), stages)[stage]
            rows.append(
                {
                    COL_PROMPT: episode_prompt(tokenizer, traj, given, template, prefix_open),
                    COL_ANSWER: str(traj.final_answer),
                    COL_STAGE: stage,
                    COL_PREFIX_STEPS: given,
                }
            )
    return rows


def rows_per_stage(train_args: Any, stages: int, num_trajectories: int) -> int:
    """An equal share of the step budget per stage, or one pass over the data without a budget."""
    max_steps = int(getattr(train_args, "max_steps", -1) or -1)
    if max_steps <= 0:
        return num_trajectories
    accumulation = int(getattr(train_args, "gradient_accumulation_steps", 1) or 1)
    batch = int(train_args.per_device_train_batch_size) * accumulation
    prompts_per_step = max(1, batch // int(train_args.num_generations))
    return max(1, math.ceil(max_steps * prompts_per_step / stages))


def load_r3_rows(
    path: str | Path, tokenizer: Any, train_args: Any, template: str, split: str = "train"
) -> tuple[list[dict[str, Any]], Any]:
    """Trajectories with a final answer (a build folder, a trajectory file or a hub id, read by
    the one reader) -> R3 rows; returns ``(rows, summary)``."""
    from srlkit.data.reader import ReadSummary, iter_trajectories

    summary = ReadSummary(str(path))
    trajectories: list[Trajectory] = []
    for traj in iter_trajectories(path, split, summary):
        if traj.final_answer is None or not str(traj.final_answer).strip():
            summary.drop("trajectory has no final_answer")
        else:
            trajectories.append(traj)
    if not trajectories:
        raise DataError(path, f"no trajectories usable for r3 (dropped: {dict(summary.dropped)})")
    stages = int(train_args.r3_stages)
    per_stage = rows_per_stage(train_args, stages, len(trajectories))
    rows = r3_rows(
        trajectories,
        tokenizer,
        template,
        stages,
        train_args.r3_prefix_open,
        per_stage,
        int(train_args.seed),
    )
    logger.info(
        "r3: %d trajectories -> %d stages x %d episodes", len(trajectories), stages, per_stage
    )
    return rows, summary

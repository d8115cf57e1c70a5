"""A real learning test: on a toy step task the SRL step reward rises within a few GRPO steps.

The task: every prompt asks for the next step of "add 2 and 3"; the expert step is
``2 + 3 = 5``. The tiny model starts random (its outputs score ~0.17 similarity). Its chat
template has no thinking, so the prompt is taken to end with an empty, closed think block (what
Qwen3 renders with ``enable_thinking=False``) and the completion is the action alone; the reward
re-attaches that block and scores with :func:`srlkit.rewards.srl.srl_step_reward` unchanged.
"""

from __future__ import annotations

import pytest

pytest.importorskip("trl")

from datasets import Dataset

from srlkit.data.schema import COL_PROMPT, COL_TARGET
from srlkit.rewards.srl import srl_step_reward
from srlkit.training.grpo import SRLGRPOConfig, SRLGRPOTrainer

TARGET = "2 + 3 = 5"
CLOSED_THINK = "<think></think>"


def step_reward(completions, target, **kwargs):
    """The SRL reward on completions whose (empty) think block sits in the prompt."""
    texts = [c[0]["content"] if isinstance(c, list) else c for c in completions]
    return srl_step_reward([CLOSED_THINK + t for t in texts], target)


@pytest.mark.slow
def test_srl_step_reward_rises(tiny_model_dir, tmp_path):
    n = 8
    dataset = Dataset.from_dict(
        {
            COL_PROMPT: [
                [{"role": "user", "content": f"Problem {i}: add 2 and 3. Next step?"}]
                for i in range(n)
            ],
            COL_TARGET: [TARGET] * n,
        }
    )
    args = SRLGRPOConfig(
        str(tmp_path / "out"),
        use_cpu=True,
        bf16=False,
        per_device_train_batch_size=16,
        num_generations=8,
        max_completion_length=6,
        max_steps=12,
        learning_rate=5e-2,
        temperature=1.0,
        logging_steps=1,
        report_to=[],
        save_strategy="no",
        disable_tqdm=True,
        seed=0,
    )
    trainer = SRLGRPOTrainer(
        model=str(tiny_model_dir), reward_funcs=step_reward, args=args, train_dataset=dataset
    )
    trainer.train()
    rewards = [h["reward"] for h in trainer.state.log_history if "reward" in h]
    assert len(rewards) == 12
    first, last = sum(rewards[:3]) / 3, sum(rewards[-3:]) / 3
    assert last > first + 0.1, f"step reward did not rise: {[round(r, 3) for r in rewards]}"

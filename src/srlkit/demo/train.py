"""SRL, RLVR and R3 runs on the demo's tasks, through the toolkit's own GRPO trainer.

Why a thin wrapper: ``srl train`` reads recipes and files; the demo and the paper table build
their data in memory and run many short trainings, so they call
:class:`srlkit.training.grpo.SRLGRPOTrainer` directly with the toolkit's SRL / RLVR / R3 configs
(:mod:`srlkit.training.config`, whose defaults follow the paper) and override only what the
tiny CPU setting needs: a much larger learning rate (the paper's 5e-7 is for a 7B model), short
completions, a few prompts per step. Every metric TRL logs (step reward, dynamic-sampling kept
fraction, ...) is returned for the report.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from srlkit.data.schema import COL_ANSWER, COL_PROMPT, COL_TARGET, StepInstance
from srlkit.demo.prompts import THINK_OPEN, solve_messages
from srlkit.demo.tasks import ChainProblem

logger = logging.getLogger(__name__)

_THINK_BLOCK_RE = re.compile(r"<think>.*?</think>", re.DOTALL)


@dataclass(frozen=True)
class GRPOSettings:
    """The knobs of one GRPO run on the demo tasks (defaults: the demo's SRL run)."""

    steps: int = 40
    prompts_per_step: int = 4
    num_generations: int = 8
    learning_rate: float = 1e-4
    max_completion_length: int = 24
    temperature: float = 1.0
    dynamic_sampling: bool = True
    dynamic_sampling_epsilon: float | None = None  # None: the trainer's default
    max_generation_rounds: int = 4
    num_iterations: int = 1
    beta: float = 0.0
    r3_stages: int = 4
    seed: int = 0
    show_progress: bool = True

    @property
    def rollouts(self) -> int:
        """Rollouts a run of these settings is budgeted (dynamic sampling may generate more)."""
        return self.steps * self.prompts_per_step * self.num_generations


@dataclass
class TrainResult:
    """Where the trained model went and what TRL logged on the way."""

    model_dir: Path
    history: list[dict[str, Any]]

    def series(self, key: str) -> list[float]:
        """One logged metric over the steps (entries that lack it are skipped)."""
        return [float(h[key]) for h in self.history if key in h]


def whole_solution_reward(
    completions: Sequence[Any], target: Sequence[str], **kwargs: Any
) -> list[float]:
    """Ablation reward: similarity of the whole written solution (thoughts removed) to the expert's.

    This is the paper's "similarity on the whole solution in one step" ablation: one reward per
    solution instead of one per step. A completion with no text outside thoughts scores -1, the
    format-failure value of the step reward.
    """
    from srlkit.rewards.format import completion_text
    from srlkit.rewards.similarity import step_similarity

    rewards = []
    for completion, reference in zip(completions, target, strict=True):
        text = _THINK_BLOCK_RE.sub("", completion_text(completion)).strip()
        text = re.sub(r"\n+", "\n", text)
        rewards.append(step_similarity(text, reference) if text else -1.0)
    return rewards


def srl_dataset(instances: Sequence[StepInstance], model_dir: str | os.PathLike[str]):
    """Step instances as ``srl train srl`` feeds them to TRL: the same rows, prompts rendered
    with the chat template of the model in ``model_dir``."""
    from datasets import Dataset
    from transformers import AutoTokenizer

    from srlkit.training.datasets import render_text_prompts, srl_row

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    return Dataset.from_list(render_text_prompts([srl_row(i) for i in instances], tokenizer))


def solve_dataset(problems: Sequence[ChainProblem], with_solution: bool = False):
    """Whole problems in the evaluation prompt, with the gold answer (and expert solution)."""
    from datasets import Dataset

    columns: dict[str, list[Any]] = {
        COL_PROMPT: [solve_messages(p.question) for p in problems],
        COL_ANSWER: [p.answer for p in problems],
    }
    if with_solution:
        columns[COL_TARGET] = [p.solution_text() for p in problems]
    return Dataset.from_dict(columns)


def r3_dataset(problems: Sequence[ChainProblem], tokenizer, settings: GRPOSettings):
    """R3 episodes (:mod:`srlkit.training.r3`): the solve prompt, then the expert's first steps.

    Stages get an equal share of the step budget, nearest the answer first; the student's own
    empty think block opens the assistant turn, as in its solutions.
    """
    from datasets import Dataset

    from srlkit.evaluation.prompts import DEFAULT_INSTRUCTION, DEFAULT_TEMPLATE
    from srlkit.training.r3 import r3_rows

    template = DEFAULT_TEMPLATE.replace("{instruction}", DEFAULT_INSTRUCTION)
    per_stage = max(1, settings.steps * settings.prompts_per_step // settings.r3_stages)
    rows = r3_rows(
        [p.trajectory() for p in problems],
        tokenizer,
        template,
        settings.r3_stages,
        THINK_OPEN,
        per_stage,
        settings.seed,
    )
    return Dataset.from_list(rows)


def run_grpo(
    model_dir: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    dataset,
    reward: Callable[..., list[float]],
    settings: GRPOSettings,
    method: str = "srl",
) -> TrainResult:
    """Train ``model_dir`` with GRPO on ``dataset``; the result is saved in ``out_dir/model``."""
    from transformers import AutoTokenizer

    from srlkit.training.config import TRAIN_CONFIG_CLASSES
    from srlkit.training.grpo import SRLGRPOTrainer

    if method not in ("srl", "rlvr", "r3"):
        raise ValueError(f"run_grpo trains srl, rlvr or r3, not {method!r}")
    config_class = TRAIN_CONFIG_CLASSES[method]
    extra: dict[str, Any] = {}
    if method == "r3":
        extra["r3_stages"] = settings.r3_stages
        extra["r3_prefix_open"] = THINK_OPEN
    if settings.dynamic_sampling_epsilon is not None:
        extra["dynamic_sampling_epsilon"] = settings.dynamic_sampling_epsilon
    args = config_class(
        output_dir=str(out_dir),
        use_cpu=True,
        bf16=False,
        per_device_train_batch_size=settings.prompts_per_step * settings.num_generations,
        num_generations=settings.num_generations,
        max_completion_length=settings.max_completion_length,
        max_steps=settings.steps,
        learning_rate=settings.learning_rate,
        temperature=settings.temperature,
        dynamic_sampling=settings.dynamic_sampling,
        max_generation_rounds=settings.max_generation_rounds,
        num_iterations=settings.num_iterations,
        beta=settings.beta,
        logging_steps=1,
        report_to=[],
        save_strategy="no",
        eval_strategy="no",
        disable_tqdm=not settings.show_progress,
        seed=settings.seed,
        **extra,
    )
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    trainer = SRLGRPOTrainer(
        model=str(model_dir),
        reward_funcs=reward,
        args=args,
        train_dataset=dataset,
        processing_class=tokenizer,
    )
    if settings.show_progress:
        _quiet_progress(trainer)
    else:
        # With its bar off, transformers prints every step's metrics instead; they stay in the
        # log history only (the demo's workers and the paper table run many trainings).
        from transformers.trainer_callback import PrinterCallback

        trainer.remove_callback(PrinterCallback)
    trainer.train()
    final = Path(out_dir) / "model"
    trainer.save_model(str(final))
    tokenizer.save_pretrained(final)
    history = [dict(h) for h in trainer.state.log_history]
    return TrainResult(final, history)


def _quiet_progress(trainer) -> None:
    """Keep the trainer's progress bar but not its per-step metric dicts.

    transformers prints every log event (30 dicts of 30 numbers each for the demo) under the bar;
    a newcomer should see progress, and the same numbers are in the run's log history, which
    the demo plots in its report.
    """
    from transformers.trainer_callback import ProgressCallback

    class BarOnlyProgress(ProgressCallback):
        def on_log(self, args, state, control, logs=None, **kwargs):
            return None

    trainer.remove_callback(ProgressCallback)
    trainer.add_callback(BarOnlyProgress())

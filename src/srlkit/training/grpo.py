"""GRPO with dynamic sampling: TRL's GRPOTrainer plus the SRL paper's group filter and refill.

Why a subclass and not a fork: TRL 1.16 has everything else (generation with HF or vLLM,
reward gathering, the clipped loss, LoRA, accelerate); it lacks dynamic sampling (TRL issue
#3708). ``SRLGRPOTrainer`` has exactly ``GRPOTrainer``'s constructor, so code that builds a
``GRPOTrainer`` switches by changing the class and passing an ``SRLGRPOConfig``.

What changes, and only when training with ``dynamic_sampling=True``:

1. After each generation round (TRL's ``_generate_and_score_completions``), the keep mask is
   computed from the rewards *gathered from all processes* (so a group whose rollouts sit on
   several processes is judged whole, and every process takes the same decision).
2. While fewer than B informative groups are found (B = ``generation_batch_size //
   num_generations``, TRL's prompts per generation batch), another round is generated for
   fresh prompts drawn from the training set, up to ``max_generation_rounds`` rounds: B prompts
   (``refill_size="full"``) or as many as the keep rate seen so far says are needed
   (``"adaptive"``, see :func:`~srlkit.training.dynamic_sampling.refill_groups`).
3. The first B informative groups become the batch, re-laid out in TRL's process layout, with
   advantages recomputed over exactly these groups. If the rounds ran out, dropped groups fill
   the missing slots only to keep tensor shapes; their completion mask and advantage are
   zeroed, so they add nothing to the loss, and the loss is rescaled so that they do not count
   in its normaliser either (see ``_loss_scale``).
4. Per step, ``dynamic_sampling/*`` metrics go into TRL's metrics dict, so every ``report_to``
   backend sees them, with the seconds of each phase (``timing_s/generate``, ``reward``,
   ``refill``, ``update``; :mod:`srlkit.training.phase_timing`).

The subclass relies on TRL internals (private methods and attributes, listed and checked in
:mod:`srlkit.training.trl_contract`); constructing it checks them, so a TRL release that moved
one fails at once, naming it, rather than mid-training.

When the first round alone fills the batch (nothing dropped) the trainer returns TRL's own
batch untouched: the cost of the feature is then one small std computation per step.

>>> from srlkit.training.grpo import SRLGRPOConfig, SRLGRPOTrainer  # doctest: +SKIP
>>> args = SRLGRPOConfig("out", num_generations=8, dynamic_sampling_epsilon=0.01)  # doctest: +SKIP
>>> SRLGRPOTrainer(model="Qwen/Qwen2.5-7B-Instruct", reward_funcs=srl_step_reward,
...                args=args, train_dataset=instances).train()  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import functools
import logging
import math
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from datasets import IterableDataset
from trl import GRPOConfig, GRPOTrainer

from srlkit.training import dynamic_sampling as ds
from srlkit.training import rollout_log
from srlkit.training.grpo_advantages import combine_rewards, grpo_advantages
from srlkit.training.grpo_batch import check_supported, gather_batch, take_rows
from srlkit.training.options import DynamicSamplingOptions
from srlkit.training.phase_timing import PhaseTimes
from srlkit.training.trl_contract import check_trainer

logger = logging.getLogger(__name__)

METRIC_PREFIX = "dynamic_sampling/"
LOSS_SCALE_KEY = "dynamic_sampling_loss_scale"
# TRL loss types whose normaliser counts sequences (rows): padding rows must be rescaled away.
# The token-sum types ("dapo", "cispo", "vespo") divide by `num_items_in_batch`, which we
# recompute over real tokens only; "bnpo" divides each micro-batch by its own real tokens.
ROW_NORMALISED_LOSSES = ("grpo", "sapo", "dr_grpo", "luspo")


@dataclass
class SRLGRPOConfig(DynamicSamplingOptions, GRPOConfig):
    """``GRPOConfig`` plus dynamic sampling; every field doubles as a YAML key and a CLI flag.

    The added fields are :class:`~srlkit.training.options.DynamicSamplingOptions` (declared
    there, without TRL, so ``srl train --help`` is instant); they come after TRL's, so the
    first positional argument is still ``output_dir``.
    """


class SRLGRPOTrainer(GRPOTrainer):
    """``GRPOTrainer`` with dynamic sampling (same constructor; configure via ``SRLGRPOConfig``).

    After every generation, ``last_dynamic_sampling`` holds the plan of that step
    (:class:`~srlkit.training.dynamic_sampling.FillPlan`) and ``last_keep_masks`` the keep mask
    of each round, for inspection and tests.
    """

    last_dynamic_sampling: ds.FillPlan | None = None
    last_keep_masks: list[list[bool]] | None = None

    @functools.wraps(GRPOTrainer.__init__)  # TRL's exact signature (and help) for users
    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        check_trainer(self)

    # ---- configuration -------------------------------------------------------------------
    def _dynamic_sampling_on(self) -> bool:
        return bool(getattr(self.args, "dynamic_sampling", False))

    def get_train_dataloader(self):
        """Validate the dynamic-sampling setup once, before any generation, then defer to TRL."""
        if self._dynamic_sampling_on():
            if self.args.max_generation_rounds > 1 and isinstance(
                self.train_dataset, IterableDataset
            ):
                raise ValueError(
                    "dynamic sampling refills batches with prompts drawn from the training set by index, "
                    "which an IterableDataset cannot do: pass a map-style datasets.Dataset, or set "
                    "max_generation_rounds=1 to filter without refill"
                )
            if self._is_vlm:
                raise ValueError(
                    "dynamic sampling does not support vision-language inputs; set dynamic_sampling=False"
                )
        elif not isinstance(self.args, SRLGRPOConfig):
            logger.info(
                "plain GRPOConfig given: dynamic sampling is off (use SRLGRPOConfig to turn it on)"
            )
        return super().get_train_dataloader()

    # ---- hooks into TRL ------------------------------------------------------------------
    def training_step(self, model, inputs, num_items_in_batch):
        """TRL's step, with the seconds of each phase logged once per optimizer step."""
        start = time.perf_counter()
        output = super().training_step(model, inputs, num_items_in_batch)
        self._step_seconds = getattr(self, "_step_seconds", 0.0) + time.perf_counter() - start
        if self._step % self.current_gradient_accumulation_steps == 0:
            times = self._phase_times()
            for name, value in times.as_metrics(self._step_seconds).items():
                self._metrics["train"][name].append(value)
            self._times, self._step_seconds = PhaseTimes(), 0.0
        return output

    def _phase_times(self) -> PhaseTimes:
        if getattr(self, "_times", None) is None:
            self._times = PhaseTimes()
        return self._times

    def _calculate_rewards(self, inputs, prompts, completions, completion_ids_list):
        """TRL's rewards, gathered from all processes; kept so the keep mask can use them."""
        start = time.perf_counter()
        rewards_per_func = super()._calculate_rewards(
            inputs, prompts, completions, completion_ids_list
        )
        self._round_reward_seconds = time.perf_counter() - start
        if self.model.training:
            self._phase_times().add("reward", self._round_reward_seconds)
        self._round_rewards_per_func = rewards_per_func
        # The keep mask of the round, computed once here: the refill loop and the rollout log read it.
        self._round_keep_mask = (
            self._keep_mask(rewards_per_func).tolist()
            if self.model.training and self._dynamic_sampling_on()
            else None
        )
        rollout_log.observe(self, inputs, completions, rewards_per_func, self._round_keep_mask)
        return rewards_per_func

    def _timed_round(self, inputs, phase: str) -> dict[str, Any]:
        """One TRL generation round, its time (reward excluded) counted as ``phase``."""
        self._round_reward_seconds = 0.0
        start = time.perf_counter()
        output = super()._generate_and_score_completions(inputs)
        if self.model.training:
            elapsed = time.perf_counter() - start - self._round_reward_seconds
            self._phase_times().add(phase, max(elapsed, 0.0))
        return output

    def _generate_and_score_completions(self, inputs):
        """Generate, filter and refill until B informative groups (training only)."""
        if not (self.model.training and self._dynamic_sampling_on()):
            return self._timed_round(inputs, "generate")
        rounds: list[tuple[dict[str, Any], torch.Tensor]] = []
        keep_masks: list[list[bool]] = []

        def generate_round(round_index: int, groups: int) -> list[bool]:
            rows = groups * self.num_generations // self.accelerator.num_processes
            batch = inputs if round_index == 0 else self._refill_inputs(round_index, rows, groups)
            output = self._timed_round(batch, "generate" if round_index == 0 else "refill")
            rounds.append((output, self._round_rewards_per_func))
            keep_masks.append(self._round_keep_mask)
            return keep_masks[-1]

        batch_groups = self.args.generation_batch_size // self.num_generations
        processes = self.accelerator.num_processes
        plan = ds.fill_batch(
            generate_round,
            batch_groups,
            self.args.max_generation_rounds,
            getattr(self.args, "refill_size", ds.REFILL_FULL),
            granularity=processes // math.gcd(self.num_generations, processes),
        )
        self.last_dynamic_sampling, self.last_keep_masks = plan, keep_masks
        self._log_plan(plan)
        if plan.is_first_round_whole:
            return rounds[0][0]  # TRL's own batch: nothing to change
        return self._assemble(plan, rounds)

    def evaluate(self, *args, **kwargs):
        """TRL's validation; with ``eval_greedy`` its rollouts are decoded greedily."""
        if not getattr(self.args, "eval_greedy", False):
            return super().evaluate(*args, **kwargs)
        with self._greedy_generation():
            return super().evaluate(*args, **kwargs)

    @contextlib.contextmanager
    def _greedy_generation(self):
        """Swap TRL's sampling settings for greedy ones (HF or vLLM), restoring them after.

        Only the generation settings change: ``self.temperature`` also scales the logits of the
        log-probability pass, and must stay the training temperature there.
        """
        from transformers import GenerationConfig

        # TRL sets vllm_generation with vLLM, generation_kwargs/_config without (trl_contract).
        vllm = self.vllm_generation if self.use_vllm else None
        saved_kwargs = None if self.use_vllm else self.generation_kwargs
        saved_config = None if self.use_vllm else self.generation_config
        saved_temperature = vllm.temperature if vllm is not None else None
        try:
            if vllm is not None:
                vllm.temperature = 0.0  # vLLM's greedy decoding
            if saved_kwargs is not None:
                sampling = ("temperature", "top_p", "top_k", "min_p")
                greedy = {k: v for k, v in saved_kwargs.items() if k not in sampling}
                greedy["do_sample"] = False
                self.generation_kwargs = greedy
                self.generation_config = GenerationConfig(**greedy, disable_compile=True)
            yield
        finally:
            if vllm is not None:
                vllm.temperature = saved_temperature
            if saved_kwargs is not None:
                self.generation_kwargs, self.generation_config = saved_kwargs, saved_config

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        """TRL's loss, rescaled when padding groups sit in the batch (scale 1 otherwise)."""
        loss = super().compute_loss(model, inputs, return_outputs, num_items_in_batch)
        scale = inputs.get(LOSS_SCALE_KEY)
        return loss if scale is None else loss * scale

    # ---- pieces --------------------------------------------------------------------------
    def _keep_mask(self, rewards_per_func: torch.Tensor) -> torch.Tensor:
        """Keep mask over the round's groups from the gathered, weight-summed rewards."""
        rewards = combine_rewards(rewards_per_func, self.reward_weights)
        return ds.keep_mask(
            rewards.view(-1, self.num_generations),
            rule=self.args.dynamic_sampling_rule,
            epsilon=self.args.dynamic_sampling_epsilon,
            correct_threshold=self.args.dynamic_sampling_correct_threshold,
        )

    def _refill_inputs(
        self, round_index: int, local_rows: int, n_prompts: int | None = None
    ) -> list[dict[str, Any]]:
        """This process's rows of a refill round: ``n_prompts`` fresh prompts (default B), each repeated G times.

        Prompts are drawn without replacement by a generator seeded from (seed, global step,
        micro-step, round), identically on every process and reproducibly after a resume; the
        rows are laid out as TRL's RepeatSampler lays them out (prompt-contiguous, process p
        taking the p-th contiguous slice).
        """
        dataset = self._refill_dataset()
        n_prompts = n_prompts or self.args.generation_batch_size // self.num_generations
        micro_step = self._step % max(self.args.gradient_accumulation_steps, 1)
        seed = np.random.SeedSequence(
            [self.args.seed, self.state.global_step, micro_step, round_index]
        )
        generator = torch.Generator().manual_seed(int(seed.generate_state(1)[0]))
        perms = [
            torch.randperm(len(dataset), generator=generator)
            for _ in range(-(-n_prompts // len(dataset)))
        ]
        prompt_indices = torch.cat(perms)[:n_prompts].repeat_interleave(self.num_generations)
        start = self.accelerator.process_index * local_rows
        return [dataset[int(i)] for i in prompt_indices[start : start + local_rows]]

    def _refill_dataset(self):
        """The training set as the dataloader sees it (unused columns removed if asked)."""
        if getattr(self, "_refill_dataset_cache", None) is None:
            dataset = self.train_dataset
            if self.args.remove_unused_columns:
                dataset = self._remove_unused_columns(dataset, description="training")
            self._refill_dataset_cache = dataset
        return self._refill_dataset_cache

    def _log_plan(self, plan: ds.FillPlan) -> None:
        for name, value in plan.metrics(self.num_generations).items():
            self._metrics["train"][METRIC_PREFIX + name].append(value)
        if plan.exhausted:
            logger.warning(
                "dynamic sampling: %d of %d informative groups after %d generation rounds "
                "(max_generation_rounds); the step trains on those, the rest is masked out",
                len(plan.selected),
                plan.batch_groups,
                plan.rounds,
            )

    def _assemble(
        self, plan: ds.FillPlan, rounds: list[tuple[dict[str, Any], torch.Tensor]]
    ) -> dict[str, Any]:
        """The step's batch from the selected groups, in TRL's layout, padding masked out."""
        check_supported(rounds[0][0])
        G, pad_id = self.num_generations, self._tokenizer.pad_token_id
        outputs = [out for out, _ in rounds]
        if self.accelerator.num_processes > 1:
            outputs = [gather_batch(out, self.accelerator, pad_id) for out in outputs]
        groups = plan.selected + plan.padding
        rows = [(r, g * G + i) for r, g in groups for i in range(G)]
        is_padding = torch.tensor(
            [k >= len(plan.selected) for k, _ in enumerate(groups) for _ in range(G)]
        )
        local = len(rows) // self.accelerator.num_processes
        start = self.accelerator.process_index * local
        fixed = ("importance_sampling_ratio",) if self._sequence_level_is() else ()
        batch = take_rows(
            outputs, rows[start : start + local], pad_id, self.pad_to_multiple_of, fixed
        )
        local_padding = is_padding[start : start + local].to(batch["completion_mask"].device)
        batch["completion_mask"] = batch["completion_mask"] * (~local_padding).unsqueeze(1).to(
            batch["completion_mask"].dtype
        )
        rewards = torch.cat([rounds[r][1][g * G : (g + 1) * G] for r, g in groups])
        advantages = grpo_advantages(
            rewards,
            self.reward_weights,
            G,
            self.scale_rewards,
            self.multi_objective_aggregation,
            is_padding,
        )
        batch["advantages"] = advantages[start : start + local].to(batch["completion_mask"].device)
        batch["num_items_in_batch"] = self._real_tokens(outputs, rows, is_padding)
        batch[LOSS_SCALE_KEY] = self._loss_scale(len(rows), int((~is_padding).sum()))
        return batch

    def _real_tokens(self, outputs, rows, is_padding) -> torch.Tensor:
        """Loss tokens of the whole (global) batch, padding rows excluded: the token normaliser."""
        per_round = []
        for out in outputs:
            mask = (
                out["completion_mask"]
                if out.get("tool_mask") is None
                else out["completion_mask"] * out["tool_mask"]
            )
            per_round.append(mask.sum(dim=1).cpu())
        tokens = torch.stack([per_round[r][row] for r, row in rows])
        return tokens[~is_padding].sum().to(self.accelerator.device)

    def _loss_scale(self, total_rows: int, real_rows: int) -> torch.Tensor:
        """Factor that removes padding rows from a per-sequence loss normaliser.

        TRL's row-normalised losses average over every row of every micro-batch, so the
        gradient is (1 / total_rows) * sum over real rows; multiplying by total / real makes it
        (1 / real_rows) * sum, what TRL computes on a batch of only the real rows. 0 when no
        row is real (the step then has no loss at all).
        """
        scale = 1.0
        if self.loss_type in ROW_NORMALISED_LOSSES:
            scale = total_rows / real_rows if real_rows else 0.0
        return torch.tensor(scale, device=self.accelerator.device)

    def _sequence_level_is(self) -> bool:
        return self.vllm_importance_sampling_mode in ("sequence_mask", "sequence_truncate")

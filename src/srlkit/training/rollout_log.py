"""A bounded, sampled log of what the model wrote and why it got its reward: ``rollouts.jsonl``.

Why: after a run the first question is "what did the model actually write?". TRL keeps the
last batch's completions for its console table; nothing on disk pairs a rollout with its
expert step, its parsed action, each reward function's part and the dynamic-sampling
decision. This module writes exactly that, one JSON line per prompt group, into the run folder,
and ``srl report`` renders it.

Bounded and cheap, so it can stay on: per logging step at most ``rollout_log_groups`` groups
are written (half from groups dynamic sampling kept, half from groups it dropped, when both
exist), texts are cut to ``rollout_log_max_chars``, and all parsing happens only for the
groups written. During training the trainer only hands over references to data it already
holds (:func:`observe`); the records are built once per step, in ``on_step_end``. The
validation pass logs its first ``rollout_log_groups`` groups, the same prompts every time, so
a prompt's answers can be compared across checkpoints.

For the step reward the record stores the two strings the reward compared (after its format
parsing and, for agent steps, canonicalisation), with the matcher's settings, so a report
recomputes the matching blocks from exactly what was scored.

Multi-process: the main process writes the groups whose rollouts it generated; rewards and
keep decisions come from the gathered tensor, so they are those every process used.
"""

from __future__ import annotations

import functools
import json
import logging
import math
import random
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from transformers import TrainerCallback

from srlkit.data.schema import COL_CONTINUATION
from srlkit.io import atomic_write, iter_jsonl
from srlkit.rewards.format import completion_text, parse_step
from srlkit.rewards.outcome import _final_text, extract_answer
from srlkit.rewards.srl import DEFAULT_MAX_STEPS, comparable_action
from srlkit.training import dynamic_sampling as ds
from srlkit.training.grpo_advantages import combine_rewards

logger = logging.getLogger(__name__)

ROLLOUTS_FILE = "rollouts.jsonl"
SPLIT_TRAIN, SPLIT_EVAL = "train", "eval"


@dataclass(frozen=True)
class MatchSettings:
    """How the step reward compared an action with its target (read from the reward function)."""

    lenient: bool = False
    autojunk: bool = False
    metric: str = "sequence_matcher"
    max_action_chars: int = 16_384
    max_steps: int = DEFAULT_MAX_STEPS


def match_settings(reward_funcs: list[Any]) -> MatchSettings | None:
    """The options of the SRL step reward among ``reward_funcs``, or None when it is absent.

    Recognises :func:`srlkit.rewards.srl.srl_step_reward` itself and its option-bound forms
    (``make_srl_step_reward(...)``, the registry's ``srl_step``), which are ``functools.partial``.
    """
    from srlkit.rewards.srl import srl_step_reward

    for func in reward_funcs:
        bound = isinstance(func, functools.partial)
        if (func.func if bound else func) is not srl_step_reward:
            continue
        options = dict(func.keywords) if bound else {}
        defaults = MatchSettings()
        return MatchSettings(
            lenient=bool(options.get("lenient", defaults.lenient)),
            autojunk=bool(options.get("autojunk", defaults.autojunk)),
            metric=str(options.get("metric", defaults.metric)),
            max_action_chars=int(options.get("max_action_chars", defaults.max_action_chars)),
            max_steps=int(options.get("max_steps", defaults.max_steps)),
        )
    return None


def abridge(text: str, max_chars: int) -> str:
    """``text`` cut to about ``max_chars``: its head and tail around a marked gap."""
    if max_chars <= 0 or len(text) <= max_chars:
        return text
    head = max_chars * 2 // 3
    tail = max_chars - head
    return f"{text[:head]}\n[... {len(text) - head - tail} characters cut ...]\n{text[-tail:]}"


def prompt_text(prompt: Any) -> str:
    """The last user message of a conversational prompt (where the task is), else the text."""
    if isinstance(prompt, str):
        return prompt
    if isinstance(prompt, list):
        users = [m for m in prompt if isinstance(m, dict) and m.get("role") == "user"]
        message = users[-1] if users else (prompt[-1] if prompt else {})
        content = message.get("content", "") if isinstance(message, dict) else message
        return content if isinstance(content, str) else json.dumps(content, ensure_ascii=False)
    return str(prompt)


def _finite(value: float) -> float | None:
    return round(float(value), 6) if math.isfinite(value) else None


def rollout_entry(
    completion: Any,
    row: dict[str, Any],
    rewards: dict[str, float | None],
    reward: float | None,
    match: MatchSettings | None,
    max_chars: int,
) -> dict[str, Any]:
    """One rollout: its text, parsed action, format verdict, rewards, and what was compared."""
    try:
        text = completion_text(completion)
    except TypeError:
        text = str(completion)
    lenient = match.lenient if match is not None else False
    parsed = parse_step(completion, bool(row.get(COL_CONTINUATION)), lenient=lenient)
    entry: dict[str, Any] = {
        "completion": abridge(text, max_chars),
        "action": abridge(parsed.action, max_chars),
        "format_ok": parsed.ok,
        "format_reason": parsed.reason,
        "reward": reward,
        "rewards": rewards,
    }
    target = row.get("target")
    comparable = match is not None and target is not None and parsed.ok
    if comparable and len(parsed.action) <= match.max_action_chars:
        kind = row.get("kind")
        entry["compared"] = {
            "prediction": comparable_action(parsed.action, kind),
            "reference": comparable_action(str(target), kind),
        }
    elif comparable:  # the reward scored it 0.0 without comparing: say so, as the reward did
        entry["not_compared"] = (
            f"the action has {len(parsed.action)} characters, over the step reward's limit of "
            f"{match.max_action_chars}: scored 0.0 without comparing"
        )
    if row.get("answer") is not None:
        try:
            entry["extracted"] = extract_answer(_final_text(completion))
        except TypeError:
            entry["extracted"] = None
    return entry


@dataclass(eq=False)
class _Round:
    """References to one generation round's data (nothing is copied or parsed until written)."""

    split: str
    step: int
    index: int
    inputs: list[dict[str, Any]]
    completions: list[Any]
    rewards_NF: torch.Tensor  # gathered, all processes
    combined_N: torch.Tensor
    kept_groups: list[bool] | None
    offset: int  # this process's first global row


class RolloutLog(TrainerCallback):
    """Collects rounds from the trainer and writes sampled groups to ``<run_dir>/rollouts.jsonl``."""

    def __init__(self, trainer: Any, groups: int, max_chars: int):
        self.trainer = trainer
        self.path = Path(trainer.args.output_dir) / ROLLOUTS_FILE
        self.groups = groups
        self.max_chars = max_chars
        self.G = trainer.num_generations
        self.names = list(trainer.reward_func_names)
        self.match = match_settings(list(trainer.reward_funcs))
        self.pending: list[_Round] = []
        self.eval_groups_left = groups
        self.seconds = 0.0  # time spent here, for the overhead benchmark
        self._drop_rows_after(trainer.state.global_step)

    # ---- collection (inside the generation loop: references only) --------------------------
    def observe(
        self, inputs, completions, rewards_per_func: torch.Tensor, kept: list[bool] | None
    ) -> None:
        start = time.perf_counter()
        trainer = self.trainer
        training = trainer.model.training
        step = trainer.state.global_step + (1 if training else 0)
        if training and not self._is_logging_step(step):
            return
        if not training and self.eval_groups_left <= 0:
            return
        combined = combine_rewards(rewards_per_func, trainer.reward_weights).detach().cpu()
        index = sum(1 for r in self.pending if r.split == SPLIT_TRAIN and r.step == step)
        self.pending.append(
            _Round(
                SPLIT_TRAIN if training else SPLIT_EVAL,
                step,
                index,
                inputs,
                completions,
                rewards_per_func.detach().cpu(),
                combined,
                kept,
                trainer.accelerator.process_index * len(completions),
            )
        )
        if not training:
            self.eval_groups_left -= len(completions) // self.G
        self.seconds += time.perf_counter() - start

    def _is_logging_step(self, step: int) -> bool:
        every = self.trainer.args.logging_steps
        return every < 2 or step % int(every) == 0

    # ---- writing (once per step / validation pass) -----------------------------------------
    def on_step_end(self, args, state, control, **kwargs):
        self._flush(SPLIT_TRAIN)

    def on_evaluate(self, args, state, control, **kwargs):
        self._flush(SPLIT_EVAL)
        self.eval_groups_left = self.groups

    def on_train_end(self, args, state, control, **kwargs):
        self._flush(None)

    def _flush(self, split: str | None) -> None:
        start = time.perf_counter()
        rounds = [r for r in self.pending if split is None or r.split == split]
        self.pending = [r for r in self.pending if r not in rounds]
        if rounds and self.trainer.accelerator.is_main_process:
            records = self._sample(rounds)
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.path, "a", encoding="utf-8") as f:
                f.writelines(json.dumps(rec, ensure_ascii=False) + "\n" for rec in records)
        self.seconds += time.perf_counter() - start

    def _sample(self, rounds: list[_Round]) -> list[dict[str, Any]]:
        """Up to ``groups`` complete local groups per step: kept and dropped alike when possible."""
        candidates = []
        for r in rounds:
            n_local = len(r.completions)
            for local_start in range(-(r.offset % self.G) % self.G, n_local - self.G + 1, self.G):
                candidates.append((r, (r.offset + local_start) // self.G, local_start))
        chosen: list[tuple[_Round, int, int]] = []
        by_step: dict[tuple[str, int], list] = {}
        for cand in candidates:
            by_step.setdefault((cand[0].split, cand[0].step), []).append(cand)
        for (split, step), cands in by_step.items():
            if split == SPLIT_EVAL:
                chosen += cands[: self.groups]
                continue
            rng = random.Random(step)
            kept = [c for c in cands if c[0].kept_groups is None or c[0].kept_groups[c[1]]]
            dropped = [c for c in cands if c not in kept]
            n_dropped = min(len(dropped), self.groups // 2)
            n_kept = min(len(kept), self.groups - n_dropped)
            n_dropped = min(len(dropped), self.groups - n_kept)
            picked = rng.sample(kept, n_kept) + rng.sample(dropped, n_dropped)
            chosen += sorted(picked, key=lambda c: (c[0].index, c[1]))
        return [self._group_record(r, g, s) for r, g, s in chosen]

    def _group_record(self, r: _Round, group: int, local_start: int) -> dict[str, Any]:
        rows = range(local_start, local_start + self.G)
        global_rows = slice(group * self.G, (group + 1) * self.G)
        combined = r.combined_N[global_rows]
        std = float(ds.group_population_std(combined.view(1, -1))[0])
        first = r.inputs[local_start]
        rollouts = []
        for local, glob in zip(rows, range(global_rows.start, global_rows.stop)):
            parts = {n: _finite(float(r.rewards_NF[glob, i])) for i, n in enumerate(self.names)}
            rollouts.append(
                rollout_entry(
                    r.completions[local],
                    r.inputs[local],
                    parts,
                    _finite(float(r.combined_N[glob])),
                    self.match,
                    self.max_chars,
                )
            )
        finite = combined[torch.isfinite(combined)]
        record = {
            "split": r.split,
            "step": r.step,
            "round": r.index,
            "group": group,
            "id": first.get("id"),
            "prompt": abridge(prompt_text(first.get("prompt")), self.max_chars),
            "target": None if first.get("target") is None else str(first["target"]),
            "answer": None if first.get("answer") is None else str(first["answer"]),
            "kind": first.get("kind"),
            "reward_mean": _finite(float(finite.mean())) if finite.numel() else None,
            "reward_std": round(std, 6),
            "kept": None if r.kept_groups is None else bool(r.kept_groups[group]),
            "rollouts": rollouts,
        }
        if self.match is not None:
            record["matcher"] = {
                "autojunk": self.match.autojunk,
                "metric": self.match.metric,
                "max_steps": self.match.max_steps,
            }
        return record

    def _drop_rows_after(self, global_step: int) -> None:
        """On (re)start, cut what a previous attempt logged after the checkpoint we resume from."""
        if not self.path.exists() or not self.trainer.accelerator.is_main_process:
            return
        kept = [rec for _, rec in iter_jsonl(self.path, skip_invalid=True)]
        keep = [rec for rec in kept if rec.get("step", 0) <= global_step]
        if len(keep) == len(kept):
            return
        with atomic_write(self.path) as f:
            for rec in keep:
                f.write(json.dumps(rec, ensure_ascii=False) + "\n")
        logger.info(
            "%s: kept %d of %d groups logged up to step %d",
            self.path,
            len(keep),
            len(kept),
            global_step,
        )


def observe(
    trainer: Any,
    inputs,
    completions,
    rewards_per_func: torch.Tensor,
    kept: list[bool] | None = None,
) -> None:
    """The trainer's one call: hand a scored generation round to the run's rollout log.

    ``kept`` is the round's keep mask over its groups, as the trainer computed it (None when
    dynamic sampling is off, and in validation); the log records it, never recomputes it.

    Creates the log (and registers it as a callback) on first use; does nothing when the
    trainer's config sets ``rollout_log_groups`` to 0 or lacks it (a plain ``GRPOConfig``).
    """
    groups = int(getattr(trainer.args, "rollout_log_groups", 0) or 0)
    if groups <= 0:
        return
    log = getattr(trainer, "_rollout_log", None)
    if log is None:
        log = RolloutLog(trainer, groups, int(getattr(trainer.args, "rollout_log_max_chars", 4000)))
        trainer._rollout_log = log
        trainer.add_callback(log)
    log.observe(inputs, completions, rewards_per_func, kept)

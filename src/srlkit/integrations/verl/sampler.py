"""The SRL paper's dynamic-sampling rule inside verl's own refill loop: a verl replay buffer.

Why a replay buffer and not a reward metric: in verl 0.9.x the trainer (``trainer.use_v1``,
the default) scores each rollout on its own as it finishes (its reward loop calls the reward
function once per trajectory), and its group filter (``algorithm.filter_groups``) evicts a
prompt group only when ``np.std`` of the chosen metric over the group is exactly 0. A reward
function never sees a whole group, so it cannot report a metric whose std is 0 exactly when the
reward's std is at most epsilon. The replay buffer does see whole groups (it classifies a
prompt once all its rollouts finished), and verl loads a user's subclass of it by path
(``trainer.v1.sampler.custom_sampler``). This class changes only the classification:

* ``srl_rule: std`` (SRL): drop a group iff the population std of its rewards is <= epsilon;
* ``srl_rule: outcome`` (RLVR, DAPO): drop it iff every rollout is right or every one wrong;

decided by :func:`srlkit.training.dynamic_sampling.keep_mask`, the function ``srl train`` uses,
so verl and TRL runs keep the same groups. Eviction, the refill credit (2 prompts per evicted
one, verl's sync rule), the draining of in-flight requests and the surplus discard stay verl's.

Configuration (verl's custom sampler receives only ``trainer.v1.sampler.sampler_kwargs``, not
``algorithm.filter_groups``, so the keys verl would have passed are given there; the recipe
fills them by interpolation)::

    trainer.v1.sampler.custom_sampler: {path: <this file>, name: SRLReplayBuffer}
    trainer.v1.sampler.sampler_kwargs:
      srl_rule: std                 # or outcome
      srl_epsilon: 0.01
      filter_groups_metric: reward  # verl's canonical reward (rm_scores summed over tokens)
      train_batch_size: ${data.train_batch_size}
      max_inflight_gen_batches: 1
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from typing import Any

from srlkit.integrations.verl import require_verl
from srlkit.integrations.verl.groups import flat_groups
from srlkit.training.dynamic_sampling import (
    DEFAULT_CORRECT_THRESHOLD,
    DEFAULT_STD_EPSILON,
    RULE_STD,
    RULES,
)

logger = logging.getLogger(__name__)

_replay_buffer = require_verl("verl.trainer.ppo.v1.replay_buffer")
ReplayBuffer = _replay_buffer.ReplayBuffer

# verl names this class reads besides the public constructor: checked at construction, so a
# verl upgrade that renames one fails at start-up with the name, not mid-run.
VERL_CONTRACT = (
    "finished_keys",
    "partitions",
    "_dapo_classification_cache",
    "filter_groups_metric",
)
REWARD_METRIC = _replay_buffer.FILTER_GROUPS_REWARD_METRIC  # "reward": the canonical rm_scores


class SRLReplayBuffer(ReplayBuffer):
    """verl's sync/async replay buffer with the SRL keep rule (see the module docstring)."""

    def __init__(self, *args: Any, sampler_kwargs: Any = None, **kwargs: Any):
        options = dict(sampler_kwargs or {})
        self.srl_rule = str(options.pop("srl_rule", RULE_STD))
        self.srl_epsilon = float(options.pop("srl_epsilon", DEFAULT_STD_EPSILON))
        self.srl_correct_threshold = float(
            options.pop("srl_correct_threshold", DEFAULT_CORRECT_THRESHOLD)
        )
        if self.srl_rule not in RULES:
            raise ValueError(f"srl_rule must be one of {RULES}, got {self.srl_rule!r}")
        if self.srl_epsilon < 0:
            raise ValueError(f"srl_epsilon must be >= 0, got {self.srl_epsilon}")
        kwargs.setdefault(
            "filter_groups_metric", options.pop("filter_groups_metric", REWARD_METRIC)
        )
        if "train_batch_size" in options:
            # What verl's trainer passes its built-in buffer when filtering is on.
            kwargs.setdefault("train_batch_size", int(options.pop("train_batch_size")))
            kwargs.setdefault("gen_batch_size", 1)
            kwargs.setdefault(
                "max_inflight_gen_batches", int(options.pop("max_inflight_gen_batches", 1))
            )
        super().__init__(*args, sampler_kwargs=options, **kwargs)
        missing = [name for name in VERL_CONTRACT if not hasattr(self, name)]
        if missing:
            raise RuntimeError(
                f"verl's ReplayBuffer no longer has {missing}; SRLReplayBuffer was written for "
                "verl 0.9.x (docs/verl.md)"
            )
        logger.info(
            "SRL dynamic sampling in verl: rule %s, epsilon %g, metric %r",
            self.srl_rule,
            self.srl_epsilon,
            self.filter_groups_metric,
        )

    def _group_values(self, partition_id: str, uids: set[str]) -> dict[str, list[float | None]]:
        """Each finished group's metric values, read from verl's TransferQueue like verl does."""
        keys = [k for k in self.partitions[partition_id] if k.split("_")[0] in uids]
        values: dict[str, list[float | None]] = defaultdict(list)
        if not keys:
            return values
        canonical = self.filter_groups_metric == REWARD_METRIC
        field = "rm_scores" if canonical else "extra_fields"
        data = _replay_buffer.tq.kv_batch_get(
            keys=keys, partition_id=partition_id, select_fields=[field]
        )
        for key, value in zip(keys, list(data[field]), strict=True):
            uid = key.split("_")[0]
            if canonical:
                values[uid].append(float(value.sum().item()))
                continue
            extra = getattr(value, "data", value)
            info = extra.get("reward_extra_info", {}) if isinstance(extra, dict) else {}
            if self.filter_groups_metric not in info:
                raise RuntimeError(
                    f"rollout {key} has no {self.filter_groups_metric!r} in reward_extra_info"
                )
            values[uid].append(info[self.filter_groups_metric])
        return values

    def _dapo_filtered_keys(self, partition_id: str) -> tuple[set[str], Counter]:
        """Finished groups to evict: those :func:`flat_groups` finds flat (verl's hook, whose
        built-in rule is "std exactly 0"). Returns the uids and {group mean: count} for verl's
        diagnostic metric. A group is classified once, when all its rollouts have finished."""
        if partition_id == "val" or self.filter_groups_metric is None:
            return set(), Counter()
        finished = self.finished_keys[partition_id]
        cache = self._dapo_classification_cache[partition_id]
        for uid in cache.keys() - finished:
            del cache[uid]
        new = finished - cache.keys()
        values = self._group_values(partition_id, new)
        missing = new - values.keys()
        if missing:
            raise RuntimeError(f"finished groups without rollouts: {sorted(missing)[:5]}")
        dropped = flat_groups(
            {uid: values[uid] for uid in new},
            self.srl_rule,
            self.srl_epsilon,
            self.srl_correct_threshold,
        )
        for uid in new:
            scores = [float(v) for v in values[uid] if v is not None]
            cache[uid] = round(sum(scores) / max(len(scores), 1), 4) if uid in dropped else None
        flat = {uid: mean for uid, mean in cache.items() if mean is not None}
        return set(flat), Counter(flat.values())

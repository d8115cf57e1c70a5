"""The options of ``srl train`` that srlkit declares: its own, and the paper's values for TRL's.

Why a module of its own: ``srl train srl --help`` must answer in under a second, and the
trainer configs (:mod:`srlkit.training.config`) subclass TRL's, whose import takes seconds
(torch, transformers). The fields here are plain dataclasses that import neither; the configs
inherit them (``class SRLConfig(GRPOPaperDefaults, SRLGRPOConfig)``), so the help and the
parser read the very same fields, defaults and help texts.

- :class:`RunArguments`: what to train on, rewards, prompts, resuming (srlkit);
- :class:`GRPOPaperDefaults`, :class:`RLVRPaperDefaults`, :class:`SFTPaperDefaults`: TRL options
  with the paper's values as defaults (lr 5e-7, 8 rollouts, temperature 1.0, KL 0, grad-norm 1.0,
  no warmup for SRL/RLVR; lr 5e-6, cosine, warmup 0.3, 3 epochs for SFT), and every choice the
  paper leaves open (lengths, scheduler, loss normalisation, logging and checkpoint cadence)
  made explicit, with its reason in the field's help;
- :class:`DynamicSamplingOptions`: what srlkit adds to TRL's GRPO (the paper's group filter and
  refill, the rollout log, greedy validation); :class:`R3Options`: the R3 curriculum.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from srlkit.training import dynamic_sampling as ds

METHODS = ("srl", "rlvr", "r3", "sft")

DEFAULT_RLVR_PROMPT = (
    "{problem}\n\nPlease reason step by step, and put your final answer within \\boxed{}."
)


def _help(text: str) -> dict[str, str]:
    return {"help": text}


def _parent_post_init(self: Any, cls: type) -> None:
    """Run the ``__post_init__`` that follows ``cls`` in ``self``'s classes (TRL's, when the
    options are mixed into a TRL config; none for the plain options class)."""
    parent = getattr(super(cls, self), "__post_init__", None)
    if parent is not None:
        parent()


@dataclass
class RunArguments:
    """srlkit's own options: what to train on, how prompts are built and filtered, resuming."""

    train_file: str | None = field(
        default=None,
        metadata={
            "help": "Training data: a `srl data build` folder (its train split), a JSONL, JSON "
            "array or parquet file, or a hub dataset id ORG/NAME[:CONFIG][@SPLIT]. srl: step "
            "instances; rlvr: problems with an answer column; sft: trajectories."
        },
    )
    eval_file: str | None = field(
        default=None,
        metadata={
            "help": "Validation data in the same forms (a build folder gives its validation "
            "split). Enables validation every `eval_steps` and "
            "best-checkpoint selection on `metric_for_best_model`."
        },
    )
    max_train_samples: int | None = field(
        default=None, metadata={"help": "Use only the first N training records (after filtering)."}
    )
    max_eval_samples: int | None = field(
        default=None,
        metadata={"help": "Use only the first N validation records (after filtering)."},
    )
    max_prompt_length: int | None = field(
        default=2048,
        metadata={
            "help": "srl/rlvr: prompts longer than this many tokens (chat template applied) are dropped and "
            "counted in data_summary.json. Dropped, not truncated: cutting the problem or the earlier "
            "steps would silently train on a different task. None keeps every prompt."
        },
    )
    reward_funcs: dict | str | None = field(
        default=None,
        metadata={
            "help": "Rewards by registry name, comma-separated, optionally weighted as name:weight "
            "(e.g. 'srl_step' or 'outcome:1.0,format:0.1'), or a mapping with reward options "
            '(YAML, or JSON on the command line: \'{"srl_step": {"lenient": true}}\'). '
            "Default: srl_step for srl, outcome for rlvr."
        },
    )
    problem_field: str | None = field(
        default=None,
        metadata={
            "help": "rlvr: column holding the problem text. Default: the first of prompt, problem, question."
        },
    )
    answer_field: str = field(
        default="answer",
        metadata={"help": "rlvr: column holding the gold answer (passed to the outcome reward)."},
    )
    rlvr_prompt_template: str = field(
        default=DEFAULT_RLVR_PROMPT,
        metadata={
            "help": "rlvr: user message built from a plain-text problem; `{problem}` is replaced. The "
            "default asks, as the evaluation prompt does in other words, for step-by-step reasoning "
            "and the final answer in \\boxed{}, so RLVR trains on the format it is scored in."
        },
    )
    sft_mode: str = field(
        default="full",
        metadata={
            "help": "sft: 'full' trains on the whole expert trajectory (thinking/thoughts and steps, "
            "observations as user turns for agents); 'outline' on the solution steps only.",
            "choices": ["full", "outline"],
        },
    )
    resume: str = field(
        default="auto",
        metadata={
            "help": "'auto': continue from the latest checkpoint in output_dir when there is one "
            "(a re-run of an interrupted command resumes); 'never': start fresh (fails if checkpoints "
            "exist, so nothing is overwritten by accident); or a checkpoint path."
        },
    )


@dataclass
class GRPOPaperDefaults:
    """The paper's settings (TRL options given the paper's values; open choices made explicit)"""

    learning_rate: float = field(default=5e-7, metadata=_help("Paper: 5e-7 for SRL and RLVR."))
    lr_scheduler_type: str = field(
        default="constant",
        metadata=_help(
            "Paper: not given; constant (no decay) is verl's actor default, which the authors used."
        ),
    )
    warmup_steps: float = field(default=0, metadata=_help("Paper: no warmup."))
    max_grad_norm: float = field(default=1.0, metadata=_help("Paper: gradient-norm clip 1.0."))
    beta: float = field(
        default=0.0, metadata=_help("KL coefficient. Paper: 0 (no reference model is loaded).")
    )
    num_generations: int | None = field(
        default=8, metadata=_help("Rollouts per prompt (G). Paper: 8.")
    )
    temperature: float = field(default=1.0, metadata=_help("Sampling temperature. Paper: 1.0."))
    top_p: float = field(
        default=1.0, metadata=_help("Paper: not given; 1.0 samples the full distribution.")
    )
    epsilon: float = field(
        default=0.2,
        metadata=_help("PPO clip range. Paper: not given; 0.2 is the common default."),
    )
    loss_type: str = field(
        default="dapo",
        metadata=_help(
            "Loss normalisation. Paper writes per-sequence 1/|o_i| ('grpo') but ran verl, whose default "
            "is token-mean over the batch ('dapo', also free of GRPO's length bias). Set 'grpo' for the formula as printed."
        ),
    )
    scale_rewards: str = field(
        default="group",
        metadata=_help("Advantage = (r - group mean) / group std, as in the paper."),
    )
    num_iterations: int = field(
        default=1,
        metadata=_help(
            "Policy updates per generated batch. Paper: not given; 1 keeps training on-policy."
        ),
    )
    max_completion_length: int | None = field(
        default=1024,
        metadata=_help(
            "Paper: not given. 1024 tokens holds a <think> block and one step; RLVR recipes use more."
        ),
    )
    logging_steps: float = field(
        default=1, metadata=_help("Log every step: a GRPO step is expensive and informative.")
    )
    eval_strategy: str = field(
        default="steps",
        metadata=_help(
            "Validate every eval_steps when eval_file is set (switched off when it is not)."
        ),
    )
    eval_steps: float | None = field(default=50, metadata=_help("Steps between validations."))
    save_steps: float = field(
        default=50,
        metadata=_help(
            "Steps between checkpoints (keep equal to eval_steps for best-checkpoint selection)."
        ),
    )
    metric_for_best_model: str | None = field(
        default="reward",
        metadata=_help(
            "Validation metric that picks the best checkpoint: mean reward (SRL: step reward; RLVR: accuracy)."
        ),
    )
    greater_is_better: bool | None = field(
        default=True, metadata=_help("Higher validation reward is better.")
    )


@dataclass
class RLVRPaperDefaults(GRPOPaperDefaults):
    """The paper's settings for RLVR (TRL options given the paper's values)"""

    max_completion_length: int | None = field(
        default=2048,
        metadata=_help("Paper: not given. Whole solutions are longer than single steps."),
    )
    dynamic_sampling_rule: str = field(
        default="outcome",
        metadata={
            "help": "Paper's RLVR filter: keep a group iff 0 < #correct < G ('std' keeps any reward spread).",
            "choices": ["std", "outcome"],
        },
    )


@dataclass
class R3Options:
    """R3: the curriculum of expert prefixes (srlkit)"""

    r3_stages: int = field(
        default=4,
        metadata={
            "help": "Curriculum stages: stage 0 starts just before the answer step, the last stage "
            "from the plain problem; each gets an equal share of max_steps."
        },
    )
    r3_prefix_open: str = field(
        default="",
        metadata={
            "help": "Text written into the assistant turn before the expert steps, e.g. an empty "
            "think block for a model that always thinks first."
        },
    )
    shuffle_dataset: bool | None = field(
        default=False,
        metadata=_help("Off: the rows are ordered stage by stage (the curriculum)."),
    )

    def __post_init__(self) -> None:
        _parent_post_init(self, R3Options)
        if self.r3_stages < 1:
            raise ValueError(f"r3_stages must be >= 1, got {self.r3_stages}")
        if self.shuffle_dataset:
            raise ValueError("r3 needs shuffle_dataset false: its rows are the curriculum order")


@dataclass
class SFTPaperDefaults:
    """The paper's SFT settings (TRL options given the paper's values)"""

    learning_rate: float = field(default=5e-6, metadata={"help": "Paper: 5e-6."})
    lr_scheduler_type: str = field(default="cosine", metadata={"help": "Paper: cosine."})
    warmup_steps: float = field(
        default=0.3,
        metadata={"help": "Paper: warmup ratio 0.3 (a float < 1 is a ratio of total steps)."},
    )
    num_train_epochs: float = field(default=3.0, metadata={"help": "Paper: 3 epochs."})
    max_length: int | None = field(
        default=4096,
        metadata={"help": "Paper: not given. Sequences longer than this are truncated by TRL."},
    )
    logging_steps: float = field(default=1, metadata={"help": "Log every step."})
    eval_strategy: str = field(
        default="steps", metadata={"help": "Validate every eval_steps when eval_file is set."}
    )
    eval_steps: float | None = field(default=50, metadata={"help": "Steps between validations."})
    save_steps: float = field(default=50, metadata={"help": "Steps between checkpoints."})
    metric_for_best_model: str | None = field(
        default="loss", metadata={"help": "Best checkpoint by validation loss."}
    )
    greater_is_better: bool | None = field(
        default=False, metadata={"help": "Lower validation loss is better."}
    )


@dataclass
class DynamicSamplingOptions:
    """Dynamic sampling, rollout log, greedy validation (srlkit's additions to TRL's GRPO)"""

    dynamic_sampling: bool = field(
        default=True,
        metadata={
            "help": "Drop prompt groups that carry no learning signal and refill the batch (SRL paper)."
        },
    )
    dynamic_sampling_rule: str = field(
        default=ds.RULE_STD,
        metadata={
            "help": "'std' (SRL): keep a group iff the population std of its rewards > epsilon. "
            "'outcome' (RLVR/DAPO): keep iff 0 < #correct < #scorable rollouts.",
            "choices": list(ds.RULES),
        },
    )
    dynamic_sampling_epsilon: float = field(
        default=ds.DEFAULT_STD_EPSILON,
        metadata={
            "help": "Rule 'std': keep a group iff its reward std is strictly greater than this."
        },
    )
    dynamic_sampling_correct_threshold: float = field(
        default=ds.DEFAULT_CORRECT_THRESHOLD,
        metadata={
            "help": "Rule 'outcome': a rollout is correct when its (weighted) reward is >= this."
        },
    )
    max_generation_rounds: int = field(
        default=5,
        metadata={
            "help": "Most generation rounds per step while filling the batch with informative groups; "
            "after the last one the step trains on what it has (logged). 1 = filter without refill."
        },
    )
    rollout_log_groups: int = field(
        default=4,
        metadata={
            "help": "Prompt groups per logging step (and per validation pass) written with all their "
            "rollouts, parsed actions, rewards and keep decisions to rollouts.jsonl in output_dir "
            "(read by `srl report`). 0 turns the log off."
        },
    )
    rollout_log_max_chars: int = field(
        default=4000,
        metadata={"help": "Longest prompt / completion text kept per rollout in rollouts.jsonl."},
    )

    refill_size: str = field(
        default=ds.REFILL_FULL,
        metadata={
            "help": "Prompts per refill round. 'full': B, the batch's prompt count (verl DAPO). "
            "'adaptive': ceil(missing / keep rate so far in the step), capped at B; the last "
            "allowed round is always full. Fewer rollouts per kept rollout, possibly more rounds.",
            "choices": list(ds.REFILL_SIZES),
        },
    )
    eval_greedy: bool = field(
        default=False,
        metadata={
            "help": "Validate with greedy decoding instead of sampling at the training temperature: "
            "a deterministic validation score for best-checkpoint selection (set "
            "num_generations_eval 1 then: greedy rollouts of one prompt are identical)."
        },
    )

    def __post_init__(self):
        _parent_post_init(self, DynamicSamplingOptions)
        if self.refill_size not in ds.REFILL_SIZES:
            raise ValueError(
                f"refill_size must be one of {ds.REFILL_SIZES}, got {self.refill_size!r}"
            )
        if self.dynamic_sampling_rule not in ds.RULES:
            raise ValueError(
                f"dynamic_sampling_rule must be one of {ds.RULES}, got {self.dynamic_sampling_rule!r}"
            )
        if self.dynamic_sampling_epsilon < 0:
            raise ValueError(
                f"dynamic_sampling_epsilon must be >= 0, got {self.dynamic_sampling_epsilon}"
            )
        if self.max_generation_rounds < 1:
            raise ValueError(
                f"max_generation_rounds must be >= 1, got {self.max_generation_rounds}"
            )


PAPER_DEFAULTS: dict[str, type] = {
    "srl": GRPOPaperDefaults,
    "rlvr": RLVRPaperDefaults,
    "r3": RLVRPaperDefaults,
    "sft": SFTPaperDefaults,
}


def help_groups(method: str) -> list[tuple[str | None, type]]:
    """The option groups ``srl train METHOD --help`` lists: srlkit's first, then the paper's."""
    groups: list[tuple[str | None, type]] = [(None, RunArguments)]
    if method == "r3":
        groups.append((None, R3Options))
    groups.append((None, PAPER_DEFAULTS[method]))
    if method != "sft":
        groups.append((None, DynamicSamplingOptions))
    return groups

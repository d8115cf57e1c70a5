"""Run configuration: one set of dataclasses is the YAML recipe schema *and* the CLI flags.

Why this shape: TRL and open-r1 users write ``--config recipe.yaml --learning_rate 1e-6``; we
keep that exact pattern (TRL's ``TrlParser`` over three dataclasses: run arguments, trainer
config, TRL's ``ModelConfig``). The trainer configs subclass TRL's with the paper's values as
defaults (lr 5e-7, 8 rollouts, temperature 1.0, KL 0, grad-norm 1.0, no warmup for SRL/RLVR;
lr 5e-6, cosine, warmup 0.3, 3 epochs for SFT) and every choice the paper leaves open (lengths,
scheduler, loss normalisation, logging and checkpoint cadence) set explicitly here, with its
reason in the field's help, so ``srl train srl --help`` documents the method.

Relative paths in a recipe (``train_file``, ``eval_file``, a local ``model_name_or_path``)
resolve against the recipe's folder first, then the working directory, then the repository.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from trl import ModelConfig, TrlParser

from srlkit.io import ConfigError, DataError
from srlkit.training.trainers import grpo_classes, sft_classes

METHODS = ("srl", "rlvr", "r3", "sft")
PATH_KEYS = ("train_file", "eval_file", "model_name_or_path")
REPO_ROOT = Path(__file__).resolve().parents[3]

DEFAULT_RLVR_PROMPT = (
    "{problem}\n\nPlease reason step by step, and put your final answer within \\boxed{}."
)

_GRPOBase, _ = grpo_classes()
_SFTBase, _ = sft_classes()


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
    reward_funcs: str | None = field(
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
            "default is the evaluation prompt (step by step, final answer in \\boxed{}), so RLVR trains "
            "on the format it is scored in."
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


def _grpo_help(text: str) -> dict[str, str]:
    return {"help": text}


@dataclass
class GRPOTrainConfig(_GRPOBase):
    """GRPO settings shared by SRL and RLVR; defaults follow the paper, open choices are explicit."""

    learning_rate: float = field(default=5e-7, metadata=_grpo_help("Paper: 5e-7 for SRL and RLVR."))
    lr_scheduler_type: str = field(
        default="constant",
        metadata=_grpo_help(
            "Paper: not given; constant (no decay) is verl's actor default, which the authors used."
        ),
    )
    warmup_steps: float = field(default=0, metadata=_grpo_help("Paper: no warmup."))
    max_grad_norm: float = field(default=1.0, metadata=_grpo_help("Paper: gradient-norm clip 1.0."))
    beta: float = field(
        default=0.0, metadata=_grpo_help("KL coefficient. Paper: 0 (no reference model is loaded).")
    )
    num_generations: int | None = field(
        default=8, metadata=_grpo_help("Rollouts per prompt (G). Paper: 8.")
    )
    temperature: float = field(
        default=1.0, metadata=_grpo_help("Sampling temperature. Paper: 1.0.")
    )
    top_p: float = field(
        default=1.0, metadata=_grpo_help("Paper: not given; 1.0 samples the full distribution.")
    )
    epsilon: float = field(
        default=0.2,
        metadata=_grpo_help("PPO clip range. Paper: not given; 0.2 is the common default."),
    )
    loss_type: str = field(
        default="dapo",
        metadata=_grpo_help(
            "Loss normalisation. Paper writes per-sequence 1/|o_i| ('grpo') but ran verl, whose default "
            "is token-mean over the batch ('dapo', also free of GRPO's length bias). Set 'grpo' for the formula as printed."
        ),
    )
    scale_rewards: str = field(
        default="group",
        metadata=_grpo_help("Advantage = (r - group mean) / group std, as in the paper."),
    )
    num_iterations: int = field(
        default=1,
        metadata=_grpo_help(
            "Policy updates per generated batch. Paper: not given; 1 keeps training on-policy."
        ),
    )
    max_completion_length: int | None = field(
        default=1024,
        metadata=_grpo_help(
            "Paper: not given. 1024 tokens holds a <think> block and one step; RLVR recipes use more."
        ),
    )
    logging_steps: float = field(
        default=1, metadata=_grpo_help("Log every step: a GRPO step is expensive and informative.")
    )
    eval_strategy: str = field(
        default="steps",
        metadata=_grpo_help(
            "Validate every eval_steps when eval_file is set (switched off when it is not)."
        ),
    )
    eval_steps: float | None = field(default=50, metadata=_grpo_help("Steps between validations."))
    save_steps: float = field(
        default=50,
        metadata=_grpo_help(
            "Steps between checkpoints (keep equal to eval_steps for best-checkpoint selection)."
        ),
    )
    metric_for_best_model: str | None = field(
        default="reward",
        metadata=_grpo_help(
            "Validation metric that picks the best checkpoint: mean reward (SRL: step reward; RLVR: accuracy)."
        ),
    )
    greater_is_better: bool | None = field(
        default=True, metadata=_grpo_help("Higher validation reward is better.")
    )


@dataclass
class SRLConfig(GRPOTrainConfig):
    """GRPO on step instances with the step-similarity reward (the paper's SRL)."""


@dataclass
class RLVRConfig(GRPOTrainConfig):
    """GRPO on problems with the outcome (final-answer) reward; the paper's RLVR baseline."""

    max_completion_length: int | None = field(
        default=2048,
        metadata=_grpo_help("Paper: not given. Whole solutions are longer than single steps."),
    )
    dynamic_sampling_rule: str = field(
        default="outcome",
        metadata={
            "help": "Paper's RLVR filter: keep a group iff 0 < #correct < G ('std' keeps any reward spread).",
            "choices": ["std", "outcome"],
        },
    )


@dataclass
class R3Config(RLVRConfig):
    """RLVR from expert prefixes, nearest the end first (R3, the paper's reverse-curriculum baseline).

    Reads trajectories (records with ``steps`` and ``final_answer``); see srlkit.training.r3.
    """

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
        metadata=_grpo_help("Off: the rows are ordered stage by stage (the curriculum)."),
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.r3_stages < 1:
            raise ValueError(f"r3_stages must be >= 1, got {self.r3_stages}")
        if self.shuffle_dataset:
            raise ValueError("r3 needs shuffle_dataset false: its rows are the curriculum order")


@dataclass
class SFTTrainConfig(_SFTBase):
    """SFT on expert trajectories; defaults are the paper's SFT baseline."""

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


TRAIN_CONFIG_CLASSES: dict[str, type] = {
    "srl": SRLConfig,
    "rlvr": RLVRConfig,
    "r3": R3Config,
    "sft": SFTTrainConfig,
}


@dataclass
class MethodArgs:
    """A parsed run: the three dataclasses plus the recipe-form mapping that reproduces it."""

    method: str
    run: RunArguments
    train: Any
    model: ModelConfig
    given: dict[str, Any]


def build_parser(method: str, prog: str | None = None) -> TrlParser:
    if method not in TRAIN_CONFIG_CLASSES:
        raise ValueError(f"unknown method {method!r}; expected one of {', '.join(METHODS)}")
    return TrlParser(
        dataclass_types=[RunArguments, TRAIN_CONFIG_CLASSES[method], ModelConfig],
        prog=prog or f"srl train {method}",
        description=TRAIN_CONFIG_CLASSES[method].__doc__,
    )


def load_recipe(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a YAML recipe into a mapping, resolving relative data/model paths; sets its ``env``."""
    path = Path(path)
    try:
        with open(path, encoding="utf-8") as f:
            data = yaml.safe_load(f) or {}
    except FileNotFoundError:
        raise DataError(path, "recipe not found") from None
    except yaml.YAMLError as exc:
        line = getattr(getattr(exc, "problem_mark", None), "line", None)
        raise DataError(path, f"invalid YAML: {exc}", None if line is None else line + 1) from None
    if not isinstance(data, dict):
        raise DataError(
            path, f"expected a YAML mapping of option: value, found {type(data).__name__}"
        )
    for key, value in (data.pop("env", None) or {}).items():
        os.environ[str(key)] = str(value)
    return resolve_paths(data, path.parent)


def resolve_paths(data: dict[str, Any], base: Path) -> dict[str, Any]:
    """Make relative input paths absolute: recipe folder, then working directory, then repo root.

    A value that exists in none of them is left as written (a hub id such as
    ``Qwen/Qwen2.5-7B-Instruct``, or a file a later stage will create).
    """
    out = dict(data)
    for key in PATH_KEYS:
        value = out.get(key)
        if not isinstance(value, str) or not value or os.path.isabs(value):
            continue
        for root in (base, Path.cwd(), REPO_ROOT):
            candidate = (root / value).resolve()
            if candidate.exists():
                out[key] = str(candidate)
                break
    return out


def _explicit_cli_values(parser: argparse.ArgumentParser, argv: list[str]) -> dict[str, Any]:
    """The options the command line set explicitly (parsed once with every default suppressed)."""
    saved = [(action, action.default, action.required) for action in parser._actions]
    try:
        for action, _, _ in saved:
            action.default = argparse.SUPPRESS
            action.required = False
        namespace, _ = parser.parse_known_args(argv)
    finally:
        for action, default, required in saved:
            action.default, action.required = default, required
    return vars(namespace)


def parse_method_args(
    method: str, argv: list[str], recipe: dict[str, Any] | None = None, prog: str | None = None
) -> MethodArgs:
    """Parse ``[--config recipe.yaml] [--field value ...]`` for one method.

    ``recipe`` (a mapping) is applied before ``--config``; command-line flags win over both.
    Unknown recipe keys raise :class:`DataError` naming the recipe and the keys.

    >>> args = parse_method_args("srl", ["--output_dir", "/tmp/run", "--bf16", "false"])  # doctest: +SKIP
    >>> args.train.learning_rate  # doctest: +SKIP
    5e-07
    """
    argv = list(argv)
    config: dict[str, Any] = dict(recipe or {})
    source = "<recipe>"
    if "--config" in argv:
        i = argv.index("--config")
        if i + 1 >= len(argv):
            raise ConfigError("--config needs a path to a YAML recipe")
        source = argv[i + 1]
        config.update(load_recipe(source))
        del argv[i : i + 2]
    recorded = config.pop("method", method)  # saved run configs record their method
    if recorded != method:
        raise DataError(
            source, f"this config is for `srl train {recorded}`, not `srl train {method}`"
        )
    parser = build_parser(method, prog)
    unknown = parser.set_defaults_with_config(**config)
    if unknown:
        keys = sorted({u[2:] for u in unknown[::2]})
        raise DataError(source, f"unknown option(s) for `srl train {method}`: {', '.join(keys)}")
    explicit = _explicit_cli_values(parser, argv)
    try:
        run, train, model = parser.parse_args_into_dataclasses(args=argv)
    except ValueError as err:  # TRL/transformers option checks, e.g. num_generations vs batch
        raise DataError(source, f"invalid options for `srl train {method}`: {err}") from None
    given = {**config, **explicit}
    return MethodArgs(method=method, run=run, train=train, model=model, given=given)

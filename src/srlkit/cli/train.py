"""``srl train {srl,rlvr,r3,sft,pipeline}``: train with a YAML recipe plus ``--option value`` overrides.

Each method is a :class:`~srlkit.cli.options.Command` like every other srl command; its options
are three dataclasses (:mod:`srlkit.training.config`) read by the one option parser
(:mod:`srlkit.options`). ``srl train srl --help`` lists srlkit's and the paper's options with
their defaults at once (it imports no TRL); ``--help_all`` adds every transformers/TRL option.
The trainer is imported inside the handler: ``srl --help`` never imports torch.

Multi-GPU: the same command runs under accelerate, e.g.
``accelerate launch --config_file recipes/accelerate/multi_gpu.yaml -m srlkit.cli.main train srl --config ...``.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence
from typing import Any

from srlkit.cli.options import Command, add_commands
from srlkit.options import HELP_FLAGS, format_help, split_config

logger = logging.getLogger(__name__)

HELP_ALL_FLAG = "--help_all"

METHOD_HELP = {
    "srl": "GRPO on step instances with the step-similarity reward (SRL)",
    "rlvr": "GRPO on problems with the outcome (final-answer) reward (RLVR)",
    "r3": "RLVR from expert prefixes, nearest the end first (the paper's R3 baseline)",
    "sft": "supervised fine-tuning on expert trajectories (full or outline)",
    "pipeline": "a curriculum in one config: SRL then RLVR from the best SRL checkpoint (or SFT then RLVR)",
}

_MORE = (
    "Every transformers/TRL option is accepted too, as a flag or a recipe key: the model "
    "(--model_name_or_path, --use_peft, --lora_r, --dtype), the run (--output_dir, --max_steps, "
    "--per_device_train_batch_size, --gradient_accumulation_steps, --bf16, --seed, --report_to, "
    "--use_vllm ...). `{prog} --help_all` lists them all with their defaults (it loads TRL: a few "
    "seconds). Recipes: recipes/*/{method}/config.yaml; options and their reasons: docs/training.md."
)


def method_help(method: str, prog: str) -> str:
    """``srl train METHOD --help``: srlkit's options, then the paper's, with defaults; no TRL import."""
    from srlkit.training.options import help_groups

    return format_help(
        prog,
        METHOD_HELP[method][0].upper() + METHOD_HELP[method][1:] + ".",
        help_groups(method),
        f"{prog} [--config RECIPE.yaml] [--option value ...]",
        epilog=_MORE.format(prog=prog, method=method),
    )


def parse_method(argv: Sequence[str], command: Command) -> Any:
    """The options of ``srl train METHOD`` (a :class:`~srlkit.training.config.MethodArgs`)."""
    method = command.prog.rsplit(" ", 1)[1]
    if HELP_ALL_FLAG in argv:
        from srlkit.training.config import build_parser

        build_parser(method, command.prog).print_help()
        raise SystemExit(0)
    if any(token in HELP_FLAGS for token in argv):
        sys.stdout.write(method_help(method, command.prog))
        raise SystemExit(0)
    from srlkit.training.config import parse_method_args

    return parse_method_args(method, list(argv), prog=command.prog)


def run_method(args: Any) -> int:
    from srlkit.training.runner import run

    result = run(args)
    print(f"run folder: {result.output_dir}")
    print(f"best checkpoint: {result.best_checkpoint or '(no validation)'}")
    return 0


PIPELINE_USAGE = (
    "usage: srl train pipeline --config PIPELINE.yaml [--option value] [--STAGE.option value]\n\n"
    + "A curriculum"
    + METHOD_HELP["pipeline"][len("a curriculum") :]
    + ".\n\n  --config PIPELINE.yaml\n      the pipeline recipe (stages: [srl, rlvr], output_dir, ...)"
    "\n\nTop-level recipe options apply to every stage; a stage's section (srl:, sft:, rlvr:)\n"
    "overrides them; `srl train STAGE --help` lists a stage's options. See docs/training.md and\n"
    "recipes/*/srl_rlvr/config.yaml.\n"
)


def parse_pipeline(argv: Sequence[str], command: Command) -> tuple[str, list[str]]:
    """``(recipe path, the other flags)`` of ``srl train pipeline``."""
    if any(token in HELP_FLAGS for token in argv):
        sys.stdout.write(PIPELINE_USAGE)
        raise SystemExit(0)
    config_path, rest = split_config(argv)
    if config_path is None:
        sys.stderr.write(PIPELINE_USAGE)
        raise SystemExit(2)
    return config_path, rest


def run_pipeline_command(parsed: tuple[str, list[str]]) -> int:
    from srlkit.training.pipeline import run_pipeline

    config_path, rest = parsed
    for stage in run_pipeline(config_path, rest):
        print(f"{stage['stage']}: {stage['output_dir']} -> next model {stage['next_model']}")
    return 0


COMMANDS = {
    **{
        method: Command(f"srl train {method}", help_text, parse_method, run_method)
        for method, help_text in METHOD_HELP.items()
        if method != "pipeline"
    },
    "pipeline": Command(
        "srl train pipeline", METHOD_HELP["pipeline"], parse_pipeline, run_pipeline_command
    ),
}


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "train",
        help="train a model: srl, rlvr, r3, sft or a pipeline (srl train METHOD --help for its options)",
        description="Train with a YAML recipe (--config) and --option value overrides.",
    )
    methods = parser.add_subparsers(dest="method", metavar="METHOD")
    methods.required = True
    add_commands(methods, COMMANDS)

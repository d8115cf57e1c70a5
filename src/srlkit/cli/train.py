"""``srl train {srl,rlvr,r3,sft,pipeline}``: train with a YAML recipe plus ``--option value`` overrides.

Each method's options are its config dataclasses (``srlkit.training.config``), parsed by TRL's
``TrlParser``, so ``srl train srl --help`` lists every option with its default and the reason
for it. The option parser is built inside the handler: ``srl --help`` never imports torch.

Multi-GPU: the same command runs under accelerate, e.g.
``accelerate launch --config_file recipes/accelerate/multi_gpu.yaml -m srlkit.cli.main train srl --config ...``.
"""

from __future__ import annotations

import argparse
import logging
from typing import Any

from srlkit.cli.options import PassThroughParser

logger = logging.getLogger(__name__)

METHOD_HELP = {
    "srl": "GRPO on step instances with the step-similarity reward (SRL)",
    "rlvr": "GRPO on problems with the outcome (final-answer) reward (RLVR)",
    "r3": "RLVR from expert prefixes, nearest the end first (the paper's R3 baseline)",
    "sft": "supervised fine-tuning on expert trajectories (full or outline)",
    "pipeline": "a curriculum in one config: SRL then RLVR from the best SRL checkpoint (or SFT then RLVR)",
}


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "train",
        help="train a model: srl, rlvr, r3, sft or a pipeline (srl train METHOD --help for its options)",
        description="Train with a YAML recipe (--config) and --option value overrides.",
    )
    methods = parser.add_subparsers(dest="method", metavar="METHOD", parser_class=PassThroughParser)
    methods.required = True
    for name, help_text in METHOD_HELP.items():
        sub = methods.add_parser(name, help=help_text, add_help=False)
        sub.set_defaults(func=handle_train)


def handle_train(args: argparse.Namespace) -> int:
    argv = list(args.rest_argv)
    if args.method == "pipeline":
        return _handle_pipeline(argv)
    from srlkit.training.config import parse_method_args
    from srlkit.training.runner import run

    result = run(parse_method_args(args.method, argv))
    print(f"run folder: {result.output_dir}")
    print(f"best checkpoint: {result.best_checkpoint or '(no validation)'}")
    return 0


def _handle_pipeline(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help") or "--config" not in argv:
        print(
            "usage: srl train pipeline --config PIPELINE.yaml [--option value] [--STAGE.option value]\n\n"
            + METHOD_HELP["pipeline"]
            + ".\nTop-level recipe options apply to every stage; a stage's section (srl:, sft:, rlvr:)\n"
            "overrides them. See docs/training.md and recipes/*/srl_rlvr/config.yaml."
        )
        return 0 if argv and argv[0] in ("-h", "--help") else 2
    from srlkit.training.pipeline import run_pipeline

    i = argv.index("--config")
    config_path, rest = argv[i + 1], argv[:i] + argv[i + 2 :]
    for stage in run_pipeline(config_path, rest):
        print(f"{stage['stage']}: {stage['output_dir']} -> next model {stage['next_model']}")
    return 0

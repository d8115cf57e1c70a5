"""``srl loop``: a self-improving student, rounds of sample -> verify -> SRL -> evaluate.

    srl loop --config recipes/qwen2.5-7b-instruct/loop/config.yaml
    srl loop --task chain --out runs/loop        # the built-in task, with its comparisons
    srl loop --quick --out runs/loop-quick       # a few minutes on a CPU

Every option is a field of :class:`srlkit.loop.config.LoopConfig` (also a key of a ``--config``
recipe), plus the three of the built-in task below.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import warnings

from srlkit.cli.options import Command, add_commands
from srlkit.io import ConfigError
from srlkit.loop.config import LoopConfig

TASKS = ("chain",)


@dataclasses.dataclass
class LoopArguments(LoopConfig):
    """``srl loop [options]``: the loop's options, and the built-in task's.

    ``rounds`` and ``num_samples`` are None unless given, so a built-in task keeps its own
    unless the command line sets them."""

    rounds: int | None = dataclasses.field(
        default=None,
        metadata={
            "help": f"rounds of sample -> verify -> SRL -> eval (default {LoopConfig.rounds})"
        },
    )
    num_samples: int | None = dataclasses.field(
        default=None,
        metadata={
            "help": "solutions sampled per unsolved problem and round (default "
            f"{LoopConfig.num_samples})"
        },
    )

    task: str | None = dataclasses.field(
        default=None,
        metadata={
            "help": "run on a built-in task instead (chain: the demo's task, with the shipped "
            "student, SRL on the expert data and RLVR with the same rollouts as comparisons); "
            "of the options above only --out, --seed, --rounds, --num_samples, --verifier "
            "and --progress apply to it",
            "choices": list(TASKS),
        },
    )
    quick: bool = dataclasses.field(
        default=False,
        metadata={"help": "the built-in task in a few minutes (16 problems, 2 short rounds)"},
    )
    compare: bool = dataclasses.field(
        default=True, metadata={"help": "built-in task: also train and score the comparisons"}
    )
    threads: int | None = dataclasses.field(
        default=None, metadata={"help": "torch CPU threads (default: the idle cores)"}
    )


def register(subparsers: argparse._SubParsersAction) -> None:
    add_commands(subparsers, COMMANDS)


def _loop_config(args: LoopArguments) -> LoopConfig:
    names = {f.name for f in dataclasses.fields(LoopConfig)}
    # an option left None takes LoopConfig's default (rounds and num_samples are None until given)
    return LoopConfig(**{k: v for k, v in vars(args).items() if k in names and v is not None})


def handle(args: LoopArguments) -> int:
    import torch

    from srlkit.cli.demo import idle_cores

    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    warnings.filterwarnings("ignore", category=FutureWarning, module=r"transformers\.")
    torch.set_num_threads(args.threads if args.threads else idle_cores())
    if args.quick or args.task:
        return _task(args)
    config = _loop_config(args)
    try:
        config.validate()
    except ValueError as err:
        raise ConfigError(str(err)) from None
    from srlkit.loop.rounds import LoopRunner

    summary = LoopRunner(config).run()
    _print_curve(summary["curve"])
    print(f"\nPer-round numbers: {os.path.join(config.out, 'loop.json')}")
    print(f"Report: srl report {config.out} --out {os.path.join(config.out, 'report.html')}")
    return 0


def task_settings(args: LoopArguments):
    """The built-in task's settings for these options (the task's own, with the options that
    apply to it: seed, verifier, comparisons, and rounds / samples when given)."""
    from srlkit.demo.loop import TaskLoopSettings, quick_settings

    settings = quick_settings(args.seed) if args.quick else TaskLoopSettings(seed=args.seed)
    settings = dataclasses.replace(settings, compare=args.compare, verifier=args.verifier)
    for name in ("rounds", "num_samples"):  # given on the command line: they win over the task's
        if getattr(args, name) is not None:
            settings = dataclasses.replace(settings, **{name: getattr(args, name)})
    return settings


def _task(args: LoopArguments) -> int:
    from srlkit.demo.loop import run_task_loop
    from srlkit.report import ReportConfig, run_report

    settings = task_settings(args)
    out = args.out or ("runs/loop-quick" if args.quick else "runs/loop")
    results = run_task_loop(out, settings, progress=args.progress)
    page = run_report(
        ReportConfig(
            run_dirs=[os.path.join(out, "loop")],
            out=os.path.join(out, "report.html"),
            title="srl loop on the built-in task",
        )
    )
    _print_curve(results["loop"]["curve"])
    print()
    for line in results["reading"]:
        print(f"- {line}")
    print(f"\nResults: {os.path.join(out, 'loop_results.json')}; report: {page}")
    return 0


def _print_curve(curve: list[dict]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="srl loop: one row per round (0: the starting model)")
    for column in ("round", "accuracy", "newly solved", "solved", "pool"):
        table.add_column(column, justify="right")
    for point in curve:
        accuracy = point["accuracy"]
        table.add_row(
            str(point["round"]),
            "-" if accuracy is None else f"{accuracy * 100:.1f}%",
            str(point["newly_solved"]),
            str(point["solved_problems"]),
            str(point["pool_size"]),
        )
    Console().print(table)


COMMANDS = {
    "loop": Command(
        prog="srl loop",
        help="self-improving rounds: sample -> verify -> step instances -> SRL -> evaluate",
        options="srlkit.cli.loop:LoopArguments",
        run=handle,
    )
}

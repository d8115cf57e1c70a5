"""``srl demo``: the whole method on a built-in task, on a CPU, in minutes.

Builds (or reuses) a tiny base student that gets single steps of hard multi-step problems right
but whole solutions almost never; trains it with RLVR (outcome reward), SRL (step reward on
expert steps) and SRL then RLVR, each through the toolkit's GRPO trainer with dynamic sampling;
evaluates all four on the same held-out hard problems, prints the comparison and writes
``results.json`` and its report (``report.html``, by ``srl report``; and a Markdown summary,
``report.md``).
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import warnings
from pathlib import Path

from srlkit.cli.options import Command, add_commands

logger = logging.getLogger(__name__)

DEFAULT_OUT = "runs/demo"


@dataclasses.dataclass
class DemoArguments:
    """``srl demo [options]``: every option is also a key of a ``--config`` recipe."""

    out: str = dataclasses.field(
        default=DEFAULT_OUT, metadata={"help": "output folder (report, data, models)"}
    )
    seed: int = dataclasses.field(default=0, metadata={"help": "seed of the problems and of RL"})
    quick: bool = dataclasses.field(
        default=False,
        metadata={
            "help": "a few-minute version (smaller student, 2 steps per method), as CI runs it"
        },
    )
    train_problems: int | None = dataclasses.field(
        default=None, metadata={"help": "hard training problems (default 256; quick 16)"}
    )
    test_problems: int | None = dataclasses.field(
        default=None, metadata={"help": "held-out hard problems (default 256; quick 16)"}
    )
    steps: int | None = dataclasses.field(
        default=None, metadata={"help": "GRPO steps of RLVR and of SRL, each (default 40; quick 2)"}
    )
    samples: int = dataclasses.field(
        default=0, metadata={"help": "also report avg@N at temperature 1.0 (0: greedy only)"}
    )
    cache_dir: str | None = dataclasses.field(
        default=None,
        metadata={"help": "where base students are cached (default $XDG_CACHE_HOME/srlkit)"},
    )
    rebuild_student: bool = dataclasses.field(
        default=False, metadata={"help": "rebuild the base student even if cached"}
    )
    threads: int = dataclasses.field(
        default=2,
        metadata={"help": "torch CPU threads of the student's warm start (2: 1.5x faster than 1)"},
    )
    workers: int = dataclasses.field(
        default=2,
        metadata={
            "help": "processes that run the trainings and evaluations side by side (1: one by "
            "one, with progress bars)"
        },
    )


def register(subparsers: argparse._SubParsersAction) -> None:
    add_commands(subparsers, COMMANDS)


def build_config(args: DemoArguments):
    """The demo configuration for these command-line options."""
    from srlkit.demo.evaluate import EvalSettings
    from srlkit.demo.run import DemoConfig, quick_config

    config = quick_config(args.seed) if args.quick else DemoConfig(seed=args.seed)
    steps = {} if args.steps is None else {"steps": args.steps}
    changes = {
        "srl": dataclasses.replace(config.srl, seed=args.seed, **steps),
        "rlvr": dataclasses.replace(config.rlvr, seed=args.seed, **steps),
        "eval": EvalSettings(samples=args.samples, seed=args.seed),
    }
    if args.train_problems is not None:
        changes["train_problems"] = args.train_problems
    if args.test_problems is not None:
        changes["test_problems"] = args.test_problems
    return dataclasses.replace(config, **changes)


def handle(args: DemoArguments) -> int:
    import torch

    from srlkit.demo.report import HTML_REPORT, write_report
    from srlkit.demo.run import run_demo
    from srlkit.report import ReportConfig, run_report

    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    # transformers warns that TRL still uses its old gradient-checkpointing names; nothing a demo
    # user can act on, and it buries the progress bars.
    warnings.filterwarnings("ignore", category=FutureWarning, module=r"transformers\.")
    torch.set_num_threads(max(1, args.threads))
    config = build_config(args)
    results = run_demo(
        args.out,
        config,
        cache_dir=args.cache_dir,
        rebuild_student=args.rebuild_student,
        workers=args.workers,
    )
    summary = write_report(Path(args.out), results)
    page = run_report(
        ReportConfig(run_dirs=[args.out], out=str(Path(args.out) / HTML_REPORT), title="srl demo")
    )
    print_comparison(results)
    print(f"\nReport: {page}  (open in a browser; summary for terminals: {summary})")
    return 0


def print_comparison(results: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    from srlkit.demo.report import LABELS, reading

    n = results["data"]["test"]
    table = Table(title=f"{n} held-out hard problems (greedy)")
    for column in ("method", "accuracy ± SE", "fully correct", "exact next step", "rollouts"):
        table.add_column(column, justify="left" if column == "method" else "right")
    for name, label in LABELS.items():
        r = results[name]
        table.add_row(
            label,
            f"{r['accuracy']:.3f} ± {r['accuracy_se']:.3f}",
            f"{r['correct_chains']}/{r['n']}",
            f"{r.get('exact_step', 0):.3f}",
            str(r["rollouts"]),
        )
    Console().print(table)
    for line in reading(results):
        print(f"- {line}")
    print(f"Done in {results['total_s']:.0f} s.")


COMMANDS = {
    "demo": Command(
        "srl demo",
        "train a tiny student with RLVR, SRL and SRL->RLVR on built-in hard problems and compare",
        f"{__name__}:DemoArguments",
        handle,
        description=(__doc__ or "").strip().split("\n\n")[1].replace("\n", " "),
    ),
}

"""``srl demo``: the whole method on a built-in task, on a CPU, in minutes.

Starts from the shipped tiny base student, measures it to build the paper's regime (the mildest
hard split where its pass@8 is at most 1/32), then for each seed draws fresh training and test
problems at that difficulty, trains RLVR (outcome reward), SRL (step reward on expert steps) and
SRL then RLVR with ``srl train``, evaluates every model with ``srl eval`` and ``srl eval-steps``,
prints the comparison with paired errors and writes ``results.json`` and its report
(``report.html``, by ``srl report``; and a Markdown summary, ``report.md``).
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import warnings
from pathlib import Path

from srlkit.cli.options import Command, add_commands
from srlkit.rewards.similarity import METRICS

METRIC_NAMES = sorted(METRICS)

logger = logging.getLogger(__name__)

DEFAULT_OUT = "runs/demo"


@dataclasses.dataclass
class DemoArguments:
    """``srl demo [options]``: every option is also a key of a ``--config`` recipe."""

    out: str = dataclasses.field(
        default=DEFAULT_OUT, metadata={"help": "output folder (report, data, models)"}
    )
    seed: int = dataclasses.field(
        default=0, metadata={"help": "seed of the problems and of training (one seed)"}
    )
    seeds: str | None = dataclasses.field(
        default=None,
        metadata={
            "help": "several seeds, e.g. 0,1,2: the comparison over each seed's draw and "
            "training runs, with paired errors (overrides --seed)"
        },
    )
    methods: str = dataclasses.field(
        default="default",
        metadata={
            "help": "methods to compare: default (base, rlvr, srl, srl_rlvr), table (adds sft, "
            "r3, sft_rlvr and the ablations srl_no_ds, srl_whole) or a comma list"
        },
    )
    expert_style: str = dataclasses.field(
        default="worked",
        metadata={
            "help": "how the expert's training steps are written: worked (with the equation) or "
            "terse (the result only: correct, not imitable token by token)",
            "choices": ["worked", "terse"],
        },
    )
    quick: bool = dataclasses.field(
        default=False,
        metadata={"help": "a few-minute version (16 problems, 2 steps per method), as CI runs it"},
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
    regime_threshold: float | None = dataclasses.field(
        default=None,
        metadata={
            "help": "the regime's bound on the base's pass@8: the demo trains and tests on the "
            "mildest hard split at or below it (default 1/32; quick: the same)"
        },
    )
    step_metric: str | None = dataclasses.field(
        default=None,
        metadata={
            "help": "SRL's step similarity (srl train's srl_step metric; default levenshtein: "
            "the paper's sequence_matcher rewards cutting a two-digit value on this task, "
            "docs/demo.md)",
            "choices": METRIC_NAMES,
        },
    )
    samples: int = dataclasses.field(
        default=0, metadata={"help": "also report avg@N at temperature 1.0 (0: greedy only)"}
    )
    cache_dir: str | None = dataclasses.field(
        default=None,
        metadata={"help": "where base students are cached (default $XDG_CACHE_HOME/srlkit)"},
    )
    rebuild_student: bool = dataclasses.field(
        default=False,
        metadata={
            "help": "build the base student on this machine instead of using the shipped one "
            "(about 6 minutes; cached)"
        },
    )
    threads: int | None = dataclasses.field(
        default=None,
        metadata={
            "help": "torch CPU threads of a student's warm start (--rebuild_student); default: "
            "the cores the load average leaves idle, at least 1"
        },
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


def idle_cores() -> int:
    """Cores the last minute's load average leaves idle (at least 1).

    Why not always every core: on two cores a two-thread warm start ran 1.7x faster than one
    thread on an idle machine but 1.9x slower beside one busy process (OpenMP's threads wait
    for each other at every step; benchmarks/bench_warmstart_threads.py, docs/benchmarks.md).
    """
    cores = os.cpu_count() or 1
    try:
        load = os.getloadavg()[0]
    except OSError:  # not available on this platform
        return cores
    return max(1, min(cores, cores - round(load)))


def parse_seeds(args: DemoArguments) -> tuple[int, ...]:
    """``--seeds 0,1,2`` (or the one ``--seed``) as a tuple; a bad list is a one-line error."""
    if args.seeds is None:
        return (args.seed,)
    try:
        seeds = tuple(int(s) for s in str(args.seeds).split(",") if s.strip())
    except ValueError:
        raise SystemExit(
            f"srl demo: --seeds expects integers separated by commas, got {args.seeds!r}"
        )
    if not seeds or len(set(seeds)) != len(seeds):
        raise SystemExit(f"srl demo: --seeds expects distinct integers, got {args.seeds!r}")
    return seeds


def build_config(args: DemoArguments):
    """The demo configuration for these command-line options."""
    from srlkit.demo.methods import resolve_methods
    from srlkit.demo.run import DemoConfig, quick_config
    from srlkit.demo.stages import EvalSettings

    seeds = parse_seeds(args)
    try:
        methods = resolve_methods(args.methods)
    except ValueError as err:
        raise SystemExit(f"srl demo: --methods: {err}") from None
    config = quick_config(seeds) if args.quick else DemoConfig(seeds=seeds)
    changes: dict = {
        "methods": methods,
        "eval": EvalSettings(samples=args.samples),
        "expert_style": args.expert_style,
    }
    grpo = {"steps": args.steps, "step_metric": args.step_metric}
    grpo = {k: v for k, v in grpo.items() if v is not None}
    if grpo:
        changes["grpo"] = dataclasses.replace(config.grpo, **grpo)
    if args.regime_threshold is not None:
        if not 0.0 <= args.regime_threshold <= 1.0:
            raise SystemExit(
                f"srl demo: --regime_threshold must lie in [0, 1], got {args.regime_threshold}"
            )
        changes["regime_threshold"] = args.regime_threshold
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
    torch.set_num_threads(args.threads if args.threads else idle_cores())
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

    seeds = list(results["seeds"])
    first = results["seeds"][seeds[0]]
    n = first[results["methods"][0]["name"]]["n"]
    where = f"seed {seeds[0]}" if len(seeds) == 1 else f"mean over seeds {', '.join(seeds)}"
    table = Table(title=f"{n} held-out hard problems per seed, greedy ({where})")
    columns = ["method", "accuracy ± SE", "fully correct", "exact next step", "rollouts"]
    if len(seeds) > 1:
        columns.insert(2, "by seed")
    for column in columns:
        table.add_column(column, justify="left" if column == "method" else "right")
    for method in results["methods"]:
        r = results[method["name"]]
        row = [
            method["label"],
            f"{r['accuracy']:.3f} ± {r['accuracy_se']:.3f}",
            f"{r['correct_chains']}/{r['n']}",
            f"{r['exact_step']:.3f}",
            str(r["rollouts"]),
        ]
        if len(seeds) > 1:
            row.insert(2, " ".join(f"{v:.3f}" for v in r["accuracy_by_seed"].values()))
        table.add_row(*row)
    Console().print(table)
    for line in results["reading"]:
        print(f"- {line}")
    print(f"\nRerun any training of seed {seeds[0]} on its own (its `srl train` command):")
    for method in results["methods"]:
        commands = first[method["name"]]["commands"]
        if commands:
            print(f"  {method['label']}: {commands[-1]}")
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

"""``srl data``: build step instances from trajectory files, inspect them, write an example file.

srl data example --out data/example.jsonl
srl data build data/example.jsonl --out runs/data
srl data stats runs/data
srl data show runs/data -n 3
srl data export runs/data --format verl --out runs/verl/data

Every subcommand's options are a dataclass (the YAML recipe schema and the flags, see
:mod:`srlkit.cli.options`); ``srl data build --config recipe.yaml`` reads them from a file and
the build saves its resolved options as ``config.yaml`` beside its outputs.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass, field
from typing import Any

from srlkit.cli.options import Command, add_commands, save_options
from srlkit.cli.teacher import HELP, run_teacher_command
from srlkit.io import ConfigError
from srlkit.training.options import DEFAULT_RLVR_PROMPT


@dataclass
class StatsArguments:
    """``srl data stats DIR``."""

    dir: str | None = field(
        default=None, metadata={"help": "output folder of 'srl data build' (positional)"}
    )
    json: bool = field(default=False, metadata={"help": "print stats.json as it is"})


@dataclass
class ShowArguments:
    """``srl data show SOURCE [-n N]``."""

    source: str | None = field(
        default=None,
        metadata={
            "help": "build folder, .jsonl / .parquet file of instances, or hub id (positional)"
        },
    )
    n: int = field(default=3, metadata={"help": "how many instances", "aliases": ["-n"]})
    split: str = field(default="train", metadata={"help": "split of a build folder"})
    max_chars: int = field(
        default=1500, metadata={"help": "cut each message to this many characters (0 = no cut)"}
    )


@dataclass
class ExampleArguments:
    """``srl data example --out FILE``."""

    out: str | None = field(default=None, metadata={"help": "JSONL file to write (required)"})
    kind: str = field(default="math", metadata={"help": "math or agent"})
    n: int = field(default=40, metadata={"help": "number of trajectories", "aliases": ["-n"]})
    seed: int = field(default=0, metadata={"help": "random seed"})

    def __post_init__(self) -> None:
        if self.kind not in ("math", "agent"):
            raise ValueError(f"--kind must be math or agent, got {self.kind!r}")


@dataclass
class ExportArguments:
    """``srl data export SOURCE --format verl --out DIR``."""

    source: str | None = field(
        default=None,
        metadata={
            "help": "build folder or instance file (--task srl), or problems with gold answers "
            "(--task rlvr, e.g. the rlvr.jsonl of 'srl data rewrite --golds_only true') (positional)"
        },
    )
    out: str | None = field(
        default=None, metadata={"help": "folder for {split}.parquet (required)"}
    )
    format: str = field(
        default="verl", metadata={"help": "the engine's data schema", "choices": ["verl"]}
    )
    task: str = field(
        default="srl",
        metadata={
            "help": "srl: step instances (math or agent), rewarded by step similarity; rlvr: "
            "problems with a checkable gold, rewarded by the outcome",
            "choices": ["srl", "rlvr"],
        },
    )
    rlvr_prompt_template: str = field(
        default=DEFAULT_RLVR_PROMPT,
        metadata={
            "help": "rlvr: user message built from a plain-text problem, as `srl train rlvr`"
        },
    )
    problem_field: str | None = field(
        default=None, metadata={"help": "rlvr: column holding the problem text"}
    )
    answer_field: str = field(default="answer", metadata={"help": "rlvr: gold answer column"})


def register(subparsers: argparse._SubParsersAction) -> None:
    data = subparsers.add_parser(
        "data",
        help="build and inspect step-wise SRL instances",
        description="Build and inspect step-wise SRL instances (SUBCOMMAND --help for options).",
    )
    sub = data.add_subparsers(dest="data_command", metavar="SUBCOMMAND")
    sub.required = True
    add_commands(sub, COMMANDS)


def run_build(options: Any) -> int:
    from srlkit.data.build import build_dataset

    try:
        config = options.to_config()
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    stats = build_dataset(options.inputs, options.out, config, progress=True)
    save_options(options, options.out)
    print(format_stats(stats.to_dict()))
    parquet = ", *.parquet" if options.parquet else ""
    print(
        f"\nwrote {options.out}/train.jsonl, validation.jsonl{parquet}, "
        "*.trajectories.jsonl, stats.json, config.yaml"
    )
    return 0


def _read_stats(directory: str) -> dict[str, Any]:
    from srlkit.data.stats import read_stats

    return read_stats(directory)


def _dist(d: dict[str, Any]) -> str:
    if not d.get("count"):
        return "-"
    return f"min {d['min']}  median {d['median']:g}  max {d['max']}  mean {d['mean']:g}"


def format_stats(stats: dict[str, Any]) -> str:
    """The stats of a build as a few aligned lines (read = kept + dropped is shown explicitly)."""
    t, inst = stats["trajectories"], stats["instances"]
    lines = [
        f"trajectories read     {t['read']}  = kept {t['kept']} + dropped {t['dropped_total']}",
    ]
    for reason, n in t["dropped"].items():
        lines.append(f"  dropped {reason:<13} {n}")
        for ex in t.get("drop_examples", {}).get(reason, [])[:2]:
            lines.append(f"      e.g. {ex[:160]}")
    lines.append(
        "formats               " + ", ".join(f"{k} {v}" for k, v in t["by_format"].items())
    )
    lines.append(
        "segmentation          " + ", ".join(f"{k} {v}" for k, v in t["segmentation"].items())
    )
    lines.append(f"steps per trajectory  {_dist(t['steps_per_trajectory'])}")
    for name, s in stats["splits"].items():
        lines.append(f"{name:<21} {s['trajectories']} trajectories, {s['instances']} instances")
    dropped = ", ".join(f"{k} {v}" for k, v in inst["dropped"].items()) or "none"
    lines.append(f"instances             {inst['total']} (dropped: {dropped})")
    lines.append(f"prompt chars          {_dist(inst['prompt_chars'])}")
    lines.append(f"target chars          {_dist(inst['target_chars'])}")
    if inst["prompt_tokens"].get("count"):
        lines.append(f"prompt tokens         {_dist(inst['prompt_tokens'])}")
    return "\n".join(lines)


def run_stats(options: StatsArguments) -> int:
    stats = _read_stats(options.dir)
    print(json.dumps(stats, indent=2, ensure_ascii=False) if options.json else format_stats(stats))
    return 0


def _cut(text: str, limit: int) -> str:
    """``text`` in at most about ``limit`` characters: its start and, at twice the length, its
    end. The end of an SRL prompt is what defines the instance (the expert's steps so far),
    so a long problem statement is what gets cut, never the steps before the target.

    >>> _cut("P" * 50 + "1. step one", 20)
    'PPPPPP\\n... [41 characters cut] ...\\nPPP1. step one'
    """
    if limit <= 0 or len(text) <= limit:
        return text
    head = limit // 3
    tail = limit - head
    return f"{text[:head]}\n... [{len(text) - limit} characters cut] ...\n{text[-tail:]}"


def run_show(options: ShowArguments) -> int:
    from srlkit.data.reader import iter_instances

    shown = 0
    for inst in iter_instances(options.source, options.split):
        if shown >= options.n:
            break
        shown += 1
        print(f"=== {inst.id}  (step {inst.step_index} of {inst.num_steps}, {inst.kind}) ===")
        for message in inst.prompt:
            print(f"--- {message['role']} ---")
            print(_cut(message["content"], options.max_chars))
        print("--- target ---")
        print(_cut(inst.target, options.max_chars))
        print()
    if shown == 0:
        print(f"no instances in the {options.split} split")
    return 0


def run_export(options: ExportArguments) -> int:
    from srlkit.integrations.verl import export

    if options.task == "srl":
        results = export.export_srl(options.source, options.out)
    else:
        results = export.export_rlvr(
            options.source,
            options.out,
            options.rlvr_prompt_template,
            options.problem_field,
            options.answer_field,
        )
    export.write_summary(options.out, options.task, results)
    save_options(options, options.out)
    for r in results:
        drops = ", ".join(f"{k} {v}" for k, v in r.dropped.items()) or "none"
        build = "" if r.build_instances is None else f" (build: {r.build_instances} instances)"
        print(f"{r.split:<11} {r.records_in} read -> {r.rows} rows{build}; dropped: {drops}")
    print(
        f"wrote {options.out}/{{{','.join(r.split for r in results)}}}.parquet, export.json, config.yaml"
    )
    return 0


def run_example(options: ExampleArguments) -> int:
    from srlkit.data.example import write_example

    n = write_example(options.out, options.kind, options.n, options.seed)
    print(f"wrote {n} {options.kind} trajectories to {options.out}")
    print(f"next: srl data build {options.out} --out runs/data")
    return 0


COMMANDS = {
    "build": Command(
        "srl data build",
        "trajectory files -> train/validation step instances, trajectories and stats.json",
        "srlkit.data.build_options:BuildArguments",
        run_build,
        positionals=("inputs",),
        required=("inputs", "out"),
    ),
    "stats": Command(
        "srl data stats",
        "print the statistics of a build folder",
        f"{__name__}:StatsArguments",
        run_stats,
        positionals=("dir",),
        required=("dir",),
    ),
    "show": Command(
        "srl data show",
        "print instances for a person to read",
        f"{__name__}:ShowArguments",
        run_show,
        positionals=("source",),
        required=("source",),
    ),
    "export": Command(
        "srl data export",
        "step instances or RLVR problems -> another engine's training parquet (verl)",
        f"{__name__}:ExportArguments",
        run_export,
        positionals=("source",),
        required=("source", "out"),
    ),
    "generate": Command(
        "srl data generate",
        HELP["generate"],
        "srlkit.teacher.config:GenerateConfig",
        run_teacher_command,
        positionals=("inputs",),
    ),
    "rewrite": Command(
        "srl data rewrite",
        HELP["rewrite"],
        "srlkit.teacher.config:RewriteConfig",
        run_teacher_command,
        positionals=("inputs",),
    ),
    "example": Command(
        "srl data example",
        "write a small trajectory file generated by code (no data needed)",
        f"{__name__}:ExampleArguments",
        run_example,
        required=("out",),
    ),
}

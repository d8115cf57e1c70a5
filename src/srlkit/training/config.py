"""Run configuration: one set of dataclasses is the YAML recipe schema *and* the CLI flags.

Why this shape: TRL and open-r1 users write ``--config recipe.yaml --learning_rate 1e-6``; we
keep that exact pattern over three dataclasses (run arguments, trainer config, TRL's
``ModelConfig``), parsed by the one option parser of every srl command
(:func:`srlkit.options.parse_dataclasses`). The trainer configs are TRL's with the fields of
:mod:`srlkit.training.options` mixed in: the paper's values as defaults, every choice the paper
leaves open set explicitly with its reason in the field's help, and srlkit's own options, so
``srl train srl --help`` documents the method (and answers at once: that module imports no TRL).

Relative paths in a recipe (``train_file``, ``eval_file``, a local ``model_name_or_path``)
resolve against the recipe's folder first, then the working directory, then the repository.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trl import ModelConfig

from srlkit.io import DataError
from srlkit.options import parse_dataclasses, read_mapping, split_config
from srlkit.training.options import (
    DEFAULT_RLVR_PROMPT,
    METHODS,
    GRPOPaperDefaults,
    R3Options,
    RLVRPaperDefaults,
    RunArguments,
    SFTPaperDefaults,
)
from srlkit.training.trainers import grpo_classes, sft_classes

__all__ = [
    "DEFAULT_RLVR_PROMPT",
    "METHODS",
    "TRAIN_CONFIG_CLASSES",
    "GRPOTrainConfig",
    "MethodArgs",
    "R3Config",
    "RLVRConfig",
    "RunArguments",
    "SFTTrainConfig",
    "SRLConfig",
    "build_parser",
    "load_recipe",
    "parse_method_args",
    "resolve_paths",
]

PATH_KEYS = ("train_file", "eval_file", "model_name_or_path")
REPO_ROOT = Path(__file__).resolve().parents[3]

_GRPOBase, _ = grpo_classes()
_SFTBase, _ = sft_classes()


@dataclass
class GRPOTrainConfig(GRPOPaperDefaults, _GRPOBase):
    """GRPO settings shared by SRL and RLVR; defaults follow the paper, open choices are explicit."""


@dataclass
class SRLConfig(GRPOTrainConfig):
    """GRPO on step instances with the step-similarity reward (the paper's SRL)."""


@dataclass
class RLVRConfig(RLVRPaperDefaults, GRPOTrainConfig):
    """GRPO on problems with the outcome (final-answer) reward; the paper's RLVR baseline."""


@dataclass
class R3Config(R3Options, RLVRConfig):
    """RLVR from expert prefixes, nearest the end first (R3, the paper's reverse-curriculum baseline).

    Reads trajectories (records with ``steps`` and ``final_answer``); see srlkit.training.r3.
    """


@dataclass
class SFTTrainConfig(SFTPaperDefaults, _SFTBase):
    """SFT on expert trajectories; defaults are the paper's SFT baseline."""


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


def option_classes(method: str) -> list[type]:
    """The dataclasses of ``srl train METHOD``: run arguments, trainer config, TRL's ModelConfig."""
    if method not in TRAIN_CONFIG_CLASSES:
        raise ValueError(f"unknown method {method!r}; expected one of {', '.join(METHODS)}")
    return [RunArguments, TRAIN_CONFIG_CLASSES[method], ModelConfig]


def build_parser(method: str, prog: str | None = None) -> Any:
    """The full argument parser of a method (every TRL/transformers option): ``--help_all``."""
    import argparse

    from srlkit.options import build_parser as build_options_parser

    parser = build_options_parser(
        option_classes(method), prog or f"srl train {method}", TRAIN_CONFIG_CLASSES[method].__doc__
    )
    parser.formatter_class = argparse.ArgumentDefaultsHelpFormatter
    parser.add_argument("--config", metavar="RECIPE.yaml", help="read options from a YAML file")
    return parser


def load_recipe(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a YAML recipe into a mapping, resolving relative data/model paths; sets its ``env``."""
    path = Path(path)
    data = read_mapping(path)
    env = data.pop("env", None) or {}
    if not isinstance(env, dict):
        raise DataError(path, "env: expected a mapping of VARIABLE: value")
    for key, value in env.items():
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
    config_path, argv = split_config(argv)
    config: dict[str, Any] = dict(recipe or {})
    if config_path is not None:
        config.update(load_recipe(config_path))
    source = config_path or "<recipe>"
    recorded = config.pop("method", method)  # saved run configs record their method
    if recorded != method:
        raise DataError(
            source, f"this config is for `srl train {recorded}`, not `srl train {method}`"
        )
    prog = prog or f"srl train {method}"
    parsed = parse_dataclasses(option_classes(method), argv, prog, recipe=config, source=source)
    run, train, model = parsed.instances
    return MethodArgs(method=method, run=run, train=train, model=model, given=parsed.given)

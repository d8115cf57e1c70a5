"""One option style for every ``srl`` command: a config dataclass is the YAML recipe *and* the flags.

``srl train`` set the pattern with TRL's ``TrlParser``; the other commands follow it through
:func:`parse_options`, built on ``transformers.HfArgumentParser`` (which TrlParser extends):

- every field of the command's dataclass is a ``--snake_case`` flag (``--kebab-case`` is
  accepted too), with the field's ``metadata["help"]`` and its default in ``--help``;
- ``--config recipe.yaml`` reads the same field names from YAML; flags given on the command
  line override the recipe; an unknown recipe key is an error naming it;
- the leading words before the first flag fill the command's positional fields
  (``srl eval MODEL``, ``srl data build INPUT...``), or come from the recipe;
- :func:`save_options` writes the resolved options next to the command's outputs.

Importing this module does not import torch: ``HfArgumentParser`` is light.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import os
import typing
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import yaml

from srlkit.io import ConfigError, DataError, atomic_write

T = TypeVar("T")

RESOLVED_CONFIG_FILE = "config.yaml"


class PassThroughParser(argparse.ArgumentParser):
    """A subcommand parser that leaves every token after the subcommand's name to the
    command's own option parser (``rest_argv``), so ``srl data build --help`` is the dataclass
    parser's help, not argparse's."""

    def parse_known_args(self, args=None, namespace=None):
        namespace = namespace if namespace is not None else argparse.Namespace()
        for key, value in self._defaults.items():  # set_defaults(func=...)
            setattr(namespace, key, value)
        namespace.rest_argv = list(args or [])
        return namespace, []


@dataclasses.dataclass(frozen=True)
class Command:
    """One ``srl`` command: its options dataclass and the function that runs with them.

    ``options`` is ``"module:Class"``, imported only when the command runs, so ``srl --help``
    never imports the library behind every command.
    """

    prog: str
    help: str
    options: str
    run: Callable[[Any], int]
    positionals: tuple[str, ...] = ()
    required: tuple[str, ...] = ()
    description: str = ""

    def __call__(self, argv: Sequence[str]) -> int:
        module, _, name = self.options.partition(":")
        cls = getattr(importlib.import_module(module), name)
        parsed = parse_options(
            cls,
            argv,
            prog=self.prog,
            description=self.description or self.help[0].upper() + self.help[1:] + ".",
            positionals=self.positionals,
            required=self.required,
        )
        return self.run(parsed)


def add_commands(subparsers: Any, commands: dict[str, Command]) -> None:
    """Register each command under its name; its parser hands every token to the command."""
    for name, command in commands.items():
        add_command(subparsers, name, command.help).set_defaults(
            func=lambda args, command=command: command(args.rest_argv)
        )


def add_command(subparsers: Any, name: str, help_text: str) -> argparse.ArgumentParser:
    """Add ``name`` to ``subparsers`` as a :class:`PassThroughParser` (for command groups whose
    other members are ordinary parsers, like the top level of ``srl``)."""
    default_class = subparsers._parser_class
    subparsers._parser_class = PassThroughParser
    try:
        return subparsers.add_parser(name, help=help_text, add_help=False)
    finally:
        subparsers._parser_class = default_class


def _is_list_field(cls: type, name: str) -> bool:
    hints = typing.get_type_hints(cls)
    return typing.get_origin(hints[name]) is list


def read_recipe(path: str | os.PathLike[str], cls: type) -> dict[str, Any]:
    """The YAML mapping in ``path``, checked against the fields of ``cls``."""
    p = Path(path)
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        raise DataError(p, "recipe not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(p, f"unreadable recipe ({exc})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = None if mark is None else mark.line + 1
        raise DataError(p, f"invalid YAML: {getattr(exc, 'problem', exc)}", line) from None
    if not isinstance(data, dict):
        raise DataError(p, f"expected a mapping of option: value, found {type(data).__name__}")
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise DataError(p, f"unknown option(s): {', '.join(unknown)} (see --help)")
    return data


def _split_positionals(argv: list[str]) -> tuple[list[str], list[str]]:
    """Leading words (before the first ``-`` token) and the rest."""
    for i, token in enumerate(argv):
        if token.startswith("-"):
            return argv[:i], argv[i:]
    return argv, []


def _assign_positionals(
    cls: type, words: list[str], positionals: Sequence[str], usage: str
) -> dict[str, Any]:
    values: dict[str, Any] = {}
    remaining = list(words)
    for name in positionals:
        if not remaining:
            break
        if _is_list_field(cls, name):
            values[name], remaining = remaining, []
        else:
            values[name] = remaining.pop(0)
    if remaining:
        raise ConfigError(f"unexpected argument(s) {' '.join(remaining)!r}; usage: {usage}")
    return values


def build_parser(
    cls: type, prog: str, description: str, positionals: Sequence[str] = ()
) -> argparse.ArgumentParser:
    """The ``HfArgumentParser`` of ``cls`` plus ``--config``, with a usage line naming the
    positional fields."""
    from transformers import HfArgumentParser

    words = " ".join(
        f"{name.upper()}..." if _is_list_field(cls, name) else name.upper() for name in positionals
    )
    parser = HfArgumentParser(
        cls,
        prog=prog,
        description=description,
        usage=f"{prog} {words + ' ' if words else ''}[--config RECIPE.yaml] [--option value ...]",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--config",
        metavar="RECIPE.yaml",
        help="read options from a YAML file (keys = the option names of this help); "
        "options given on the command line override it",
    )
    return parser


def parse_options(
    cls: type[T],
    argv: Sequence[str],
    prog: str,
    description: str = "",
    positionals: Sequence[str] = (),
    required: Sequence[str] = (),
) -> T:
    """Parse ``argv`` into a ``cls`` instance (see the module docstring for the rules).

    ``required`` fields must be set by a positional word, a flag or the recipe; a missing one
    is a :class:`ConfigError` saying which. A dataclass ``__post_init__`` that raises
    ``ValueError`` becomes a ``ConfigError`` too, so every bad option is one line.
    """
    parser = build_parser(cls, prog, description, positionals)
    words, rest = _split_positionals(list(argv))
    if "-h" in rest or "--help" in rest:
        parser.parse_args(["--help"])  # prints the help and exits 0
    values = _assign_positionals(cls, words, positionals, parser.usage)
    namespace, unknown = parser.parse_known_args(rest)
    if unknown:
        raise ConfigError(f"unrecognised argument(s): {' '.join(unknown)} (see {prog} --help)")
    explicit = _explicit(parser, rest)
    options = {f.name: getattr(namespace, f.name) for f in dataclasses.fields(cls) if f.init}
    if namespace.config:
        recipe = read_recipe(namespace.config, cls)
        options.update({k: v for k, v in recipe.items() if k not in explicit})
    options.update(values)
    missing = [name for name in required if options.get(name) in (None, [], "")]
    if missing:
        raise ConfigError(
            f"{prog} needs {', '.join(missing)} (as an argument, a flag, or in the --config recipe)"
        )
    try:
        return cls(**options)
    except (TypeError, ValueError) as exc:
        raise ConfigError(str(exc)) from None


def _explicit(parser: argparse.ArgumentParser, argv: list[str]) -> set[str]:
    """Destinations of the flags actually written in ``argv`` (they beat the recipe)."""
    dests = set()
    for token in argv:
        if not token.startswith("-"):
            continue
        flag = token.split("=", 1)[0]
        action = parser._option_string_actions.get(flag)
        if action is not None:
            dests.add(action.dest)
    return dests


def save_options(options: Any, out_dir: str | os.PathLike[str]) -> Path:
    """Write the resolved options as ``config.yaml`` in ``out_dir`` (atomically) and return it;
    ``--config`` of the same command reads it back."""
    path = Path(out_dir) / RESOLVED_CONFIG_FILE
    values = {f.name: getattr(options, f.name) for f in dataclasses.fields(options) if f.init}
    with atomic_write(path) as handle:
        yaml.safe_dump(values, handle, sort_keys=False, allow_unicode=True)
    return path

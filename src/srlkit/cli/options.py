"""How an ``srl`` command is declared: its options (:mod:`srlkit.options`) and the function it runs.

Every command, ``srl train`` included, is a :class:`Command`: the options are parsed by the one
parser of :mod:`srlkit.options` (flags, ``--config`` recipe, positional words, ``--help``), and
the command's function runs with the result. The parser's names are re-exported here for the
commands' modules.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
from collections.abc import Callable, Sequence
from typing import Any

from srlkit.options import (
    RESOLVED_CONFIG_FILE,
    build_parser,
    parse_dataclasses,
    parse_options,
    read_mapping,
    save_options,
    typed_recipe,
)

__all__ = [
    "RESOLVED_CONFIG_FILE",
    "Command",
    "PassThroughParser",
    "add_command",
    "add_commands",
    "build_parser",
    "parse_dataclasses",
    "parse_options",
    "read_mapping",
    "save_options",
    "typed_recipe",
]


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
    """One ``srl`` command: its options and the function that runs with them.

    ``options`` is ``"module:Class"`` (a dataclass, imported only when the command runs, so
    ``srl --help`` never imports the library behind every command), or a function
    ``parse(argv, command) -> options`` for a command whose options span several dataclasses
    (``srl train``).
    """

    prog: str
    help: str
    options: str | Callable[[Sequence[str], Command], Any]
    run: Callable[[Any], int]
    positionals: tuple[str, ...] = ()
    required: tuple[str, ...] = ()
    description: str = ""

    @property
    def full_description(self) -> str:
        return self.description or self.help[0].upper() + self.help[1:] + "."

    def parse(self, argv: Sequence[str]) -> Any:
        if callable(self.options):
            return self.options(argv, self)
        module, _, name = self.options.partition(":")
        cls = getattr(importlib.import_module(module), name)
        return parse_options(
            cls,
            argv,
            prog=self.prog,
            description=self.full_description,
            positionals=self.positionals,
            required=self.required,
        )

    def __call__(self, argv: Sequence[str]) -> int:
        return self.run(self.parse(argv))


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

"""One option parser for every ``srl`` command: config dataclasses are the YAML recipe *and* the flags.

TRL and open-r1 users write ``--config recipe.yaml --learning_rate 1e-6``; every srl command
(``srl train`` included) reads its options that way, through :func:`parse_dataclasses`:

- every field of the command's dataclasses is a ``--snake_case`` flag (``--kebab-case`` is
  accepted too); a boolean ``x`` is ``--x`` / ``--x false`` / ``--no_x``, the same in every command;
- ``--config recipe.yaml`` reads the same names from YAML, each value checked against its
  field's type (:mod:`srlkit.recipes`); a flag written on the command line beats the recipe,
  the recipe beats the default; an abbreviated flag is refused like an unknown recipe key;
- the leading words before the first flag fill the command's positional fields;
- ``--help`` is written from the dataclass fields (name, value, help, default) without
  importing transformers, so it is instant; :func:`save_options` writes the resolved options
  next to the command's outputs, and ``--config`` of the same command reads them back.

Importing this module imports neither torch nor transformers.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import shutil
import sys
import textwrap
import typing
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from srlkit.io import ConfigError, DataError, atomic_write
from srlkit.recipes import option_fields, read_mapping, typed_recipe, union_members

__all__ = [
    "CONFIG_FLAG",
    "HELP_FLAGS",
    "RESOLVED_CONFIG_FILE",
    "Parsed",
    "build_parser",
    "format_help",
    "parse_dataclasses",
    "parse_options",
    "read_mapping",
    "save_options",
    "split_config",
    "to_argv",
    "typed_recipe",
]

CONFIG_FLAG = "--config"
HELP_FLAGS = ("-h", "--help")
RESOLVED_CONFIG_FILE = "config.yaml"


def split_config(argv: Sequence[str]) -> tuple[str | None, list[str]]:
    """``(recipe path or None, argv without --config)``; ``--config PATH`` or ``--config=PATH``."""
    rest: list[str] = []
    path: str | None = None
    tokens = list(argv)
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if token == CONFIG_FLAG or token.startswith(CONFIG_FLAG + "="):
            if path is not None:
                raise ConfigError("--config given twice; merge the recipes into one file")
            if token == CONFIG_FLAG:
                if i + 1 >= len(tokens) or tokens[i + 1].startswith("-"):
                    raise ConfigError("--config needs a path to a YAML recipe")
                path, i = tokens[i + 1], i + 2
                continue
            path = token.split("=", 1)[1]
        else:
            rest.append(token)
        i += 1
    return path, rest


# ---- the command line -----------------------------------------------------------------------
def split_positionals(argv: Sequence[str]) -> tuple[list[str], list[str]]:
    """Leading words (before the first ``-`` token) and the rest."""
    argv = list(argv)
    for i, token in enumerate(argv):
        if token.startswith("-"):
            return argv[:i], argv[i:]
    return argv, []


def to_argv(options: dict[str, Any]) -> list[str]:
    """The flags that set ``options`` (the inverse of parsing): ``--name value`` for each, a
    list as several values, booleans as ``true``/``false``. What a program that runs an srl
    command in process (``srl demo``'s stages) passes, and prints for a user to rerun.

    >>> to_argv({"max_steps": 40, "use_cpu": True, "benchmarks": ["a", "b"]})
    ['--max_steps', '40', '--use_cpu', 'true', '--benchmarks', 'a', 'b']
    """
    argv: list[str] = []
    for name, value in options.items():
        values = value if isinstance(value, list) else [value]
        argv += [f"--{name}", *(str(v).lower() if isinstance(v, bool) else str(v) for v in values)]
    return argv


def _is_list(hint: Any) -> bool:
    members = union_members(hint)
    hint = members[0] if members and len(members) == 1 else hint
    return typing.get_origin(hint) in (list, tuple, Sequence)


def assign_positionals(
    classes: Sequence[type], words: list[str], positionals: Sequence[str], usage: str
) -> dict[str, Any]:
    known = option_fields(classes)
    values: dict[str, Any] = {}
    remaining = list(words)
    for name in positionals:
        if not remaining:
            break
        if _is_list(known[name][1]):
            values[name], remaining = remaining, []
        else:
            values[name] = remaining.pop(0)
    if remaining:
        raise ConfigError(f"unexpected argument(s) {' '.join(remaining)!r}; usage: {usage}")
    return values


def usage_line(prog: str, classes: Sequence[type], positionals: Sequence[str]) -> str:
    known = option_fields(classes)
    words = " ".join(
        f"{name.upper()}..." if _is_list(known[name][1]) else name.upper() for name in positionals
    )
    return f"{prog} {words + ' ' if words else ''}[--config RECIPE.yaml] [--option value ...]"


def build_parser(classes: Sequence[type], prog: str, description: str = "") -> Any:
    """The ``transformers.HfArgumentParser`` of ``classes``, plus ``--no_x`` for every boolean
    that lacks it (one negation style for every command)."""
    from transformers import HfArgumentParser

    # allow_abbrev off: `--num_sample` is a typo to report, as the same key in a recipe is
    parser = HfArgumentParser(list(classes), prog=prog, description=description, allow_abbrev=False)
    for name, (f, hint) in option_fields(classes).items():
        members = union_members(hint)
        if name.startswith("no_") or f"--no_{name}" in parser._option_string_actions:
            continue
        if hint is bool or members == [bool]:
            parser.add_argument(
                f"--no_{name}", action="store_false", dest=name, help=argparse.SUPPRESS
            )
    return parser


def explicit_values(parser: argparse.ArgumentParser, argv: list[str], prog: str) -> dict[str, Any]:
    """The options the command line set explicitly, typed (one parse with defaults suppressed)."""
    saved = [(action, action.default, action.required) for action in parser._actions]
    try:
        for action, _, _ in saved:
            action.default = argparse.SUPPRESS
            action.required = False
        namespace, unknown = parser.parse_known_args(argv)
    finally:
        for action, default, required in saved:
            action.default, action.required = default, required
    if unknown:
        raise ConfigError(f"unrecognised argument(s): {' '.join(unknown)} (see {prog} --help)")
    return vars(namespace)


@dataclasses.dataclass
class Parsed:
    """The dataclass instances of a command line, and the recipe-form mapping that reproduces it
    (the recipe's values updated with the flags written)."""

    instances: tuple[Any, ...]
    given: dict[str, Any]


def parse_dataclasses(
    classes: Sequence[type],
    argv: Sequence[str],
    prog: str,
    description: str = "",
    positionals: Sequence[str] = (),
    required: Sequence[str] = (),
    recipe: Mapping[str, Any] | None = None,
    source: str | None = None,
) -> Parsed:
    """Parse ``[WORDS...] [--config recipe.yaml] [--option value ...]`` into ``classes``.

    ``recipe`` (a mapping read from ``source`` by the caller) applies before ``--config``.
    ``required`` names must end up set. A ``ValueError`` of a dataclass's own checks is one
    line: a :class:`DataError` naming ``source`` when given, else a :class:`ConfigError`.
    """
    usage = usage_line(prog, classes, positionals)
    words, rest = split_positionals(argv)
    if any(token in HELP_FLAGS for token in rest):
        titles = ["options"] if len(classes) == 1 else [None] * len(classes)
        groups = list(zip(titles, classes, strict=True))
        sys.stdout.write(format_help(prog, description, groups, usage))
        raise SystemExit(0)
    values = assign_positionals(classes, words, positionals, usage)
    config_path, rest = split_config(rest)
    data = dict(recipe or {})
    if config_path is not None:
        data.update(read_mapping(config_path))
    typed = typed_recipe(data, classes, config_path or source or "<recipe>")
    explicit = explicit_values(build_parser(classes, prog, description), rest, prog)
    given = {**typed, **values, **explicit}
    missing = [name for name in required if given.get(name) in (None, [], "")]
    if missing:
        raise ConfigError(
            f"{prog} needs {', '.join(missing)} (as an argument, a flag, or in the --config recipe)"
        )
    instances = []
    for cls in classes:
        names = {f.name for f in dataclasses.fields(cls) if f.init}
        try:
            instances.append(cls(**{k: v for k, v in given.items() if k in names}))
        except (TypeError, ValueError) as exc:
            if isinstance(exc, DataError | ConfigError):
                raise
            message = str(exc).splitlines()[0] if str(exc) else repr(exc)
            if source is not None:  # a recipe the caller read: name it
                raise DataError(source, f"invalid options for `{prog}`: {message}") from None
            raise ConfigError(message) from None
    return Parsed(tuple(instances), given)


def parse_options(
    cls: type,
    argv: Sequence[str],
    prog: str,
    description: str = "",
    positionals: Sequence[str] = (),
    required: Sequence[str] = (),
) -> Any:
    """Parse ``argv`` into one ``cls`` instance (:func:`parse_dataclasses` with one class)."""
    parsed = parse_dataclasses([cls], argv, prog, description, positionals, required)
    return parsed.instances[0]


# ---- help -----------------------------------------------------------------------------------
def _value_word(name: str, f: dataclasses.Field, hint: Any) -> str:
    members = union_members(hint)
    base = members[0] if members and len(members) == 1 else hint
    choices = f.metadata.get("choices")
    if choices:
        return "{" + ",".join(map(str, choices)) + "}"
    if base is bool:
        return "[true|false]" if name.startswith("no_") else f"[true|false], --no_{name}"
    if _is_list(base):
        return "VALUE [VALUE ...]"
    return {int: "INT", float: "FLOAT", str: "TEXT"}.get(base, "VALUE")


def _default_text(f: dataclasses.Field) -> str:
    if f.default_factory is not dataclasses.MISSING:  # type: ignore[misc]
        value = f.default_factory()  # type: ignore[misc]
    elif f.default is dataclasses.MISSING:
        return "required"
    else:
        value = f.default
    if value is None or value == []:
        return "not set"
    if isinstance(value, bool):
        return str(value).lower()
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= 70 else text[:67] + "..."


def format_help(
    prog: str,
    description: str,
    groups: Sequence[tuple[str | None, Any]],
    usage: str,
    epilog: str = "",
) -> str:
    """The ``--help`` of a command: usage, description, then each group of options with its
    help and default. A group is ``(title, dataclass)``; title None uses the class's docstring."""
    width = max(60, min(shutil.get_terminal_size((100, 20)).columns, 110))
    wrap = textwrap.TextWrapper(width=width, initial_indent=" " * 6, subsequent_indent=" " * 6)
    lines = [f"usage: {usage}", ""]
    if description:
        lines += [description, ""]
    lines += ["  --config RECIPE.yaml", *wrap.wrap(
        "read options from a YAML file (keys = the option names below); options given on "
        "the command line override it"
    ), ""]  # fmt: skip
    seen: set[str] = (
        set()
    )  # an option shown in an earlier group (with its value there) is not repeated
    for title, cls in groups:
        doc = (cls.__doc__ or "").strip().splitlines()
        heading = title or (doc[0].rstrip(".") if doc else cls.__name__)
        lines += [f"{heading}:"]
        hints = typing.get_type_hints(cls)
        for f in dataclasses.fields(cls):
            if not f.init or f.name in seen:
                continue
            seen.add(f.name)
            word = _value_word(f.name, f, hints.get(f.name, Any))
            lines.append(f"  --{f.name} {word}")
            text = f.metadata.get("help", "")
            default = _default_text(f)
            if not (default == "not set" and "default" in text):  # the help says it already
                text = f"{text} (default: {default})".strip()
            lines += wrap.wrap(text)
        lines.append("")
    if epilog:
        lines += [epilog, ""]
    return "\n".join(lines).rstrip() + "\n"


# ---- outputs --------------------------------------------------------------------------------
def save_options(options: Any, out_dir: str | os.PathLike[str]) -> Path:
    """Write the options (a dataclass, or a recipe-form mapping) as ``config.yaml`` in
    ``out_dir`` (atomically) and return it; ``--config`` of the same command reads it back."""
    path = Path(out_dir) / RESOLVED_CONFIG_FILE
    if isinstance(options, Mapping):
        values = dict(options)
    else:
        values = {f.name: getattr(options, f.name) for f in dataclasses.fields(options) if f.init}
    with atomic_write(path) as handle:
        yaml.safe_dump(values, handle, sort_keys=False, allow_unicode=True)
    return path

"""One option parser for every ``srl`` command: config dataclasses are the YAML recipe *and* the flags.

TRL and open-r1 users write ``--config recipe.yaml --learning_rate 1e-6``; every srl command
(``srl train`` included) reads its options that way, through :func:`parse_dataclasses`:

- every field of the command's dataclasses is a ``--snake_case`` flag (``--kebab-case`` is
  accepted too); a boolean ``x`` is ``--x`` / ``--x false`` / ``--no_x``, the same in every command;
- ``--config recipe.yaml`` reads the same names from YAML; a flag written on the command line
  beats the recipe, the recipe beats the default. Each recipe value is checked against its
  field's type and read as the same text written after its flag would be (``"2"`` is 2,
  ``"no"`` is false for a boolean, a single value where a list is expected is a one-element
  list); anything else is one line naming the file and the key, as is an unknown key;
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
import re
import shutil
import textwrap
import types
import typing
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal, Union

import yaml

from srlkit.io import ConfigError, DataError, atomic_write

CONFIG_FLAG = "--config"
HELP_FLAGS = ("-h", "--help")
RESOLVED_CONFIG_FILE = "config.yaml"

_TRUE = ("yes", "true", "t", "y", "1")
_FALSE = ("no", "false", "f", "n", "0")
_INTEGER = re.compile(r"[-+]?\d+")


# ---- the recipe file --------------------------------------------------------------------------
def read_mapping(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The YAML mapping in ``path``; a missing, unreadable or non-mapping file is a :class:`DataError`."""
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
    return data


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


# ---- types ----------------------------------------------------------------------------------
def option_fields(classes: Sequence[type]) -> dict[str, tuple[dataclasses.Field, Any]]:
    """``name -> (field, resolved type)`` over the init fields of ``classes`` (first one wins)."""
    out: dict[str, tuple[dataclasses.Field, Any]] = {}
    for cls in classes:
        hints = typing.get_type_hints(cls)
        for f in dataclasses.fields(cls):
            if f.init and f.name not in out:
                out[f.name] = (f, hints.get(f.name, Any))
    return out


class _Mismatch(Exception):
    def __init__(self, expected: str):
        self.expected = expected


def _members(hint: Any) -> list[Any] | None:
    """The non-None members of a Union hint; None when ``hint`` is no Union."""
    origin = typing.get_origin(hint)
    if origin is Union or origin is types.UnionType:
        return [a for a in typing.get_args(hint) if a is not type(None)]
    return None


def describe(hint: Any) -> str:
    """What a value of ``hint`` looks like, for messages (``an integer``, ``true or false``)."""
    members = _members(hint)
    if members is not None:
        text = " or ".join(describe(m) for m in members)
        return f"{text} or null" if len(members) < len(typing.get_args(hint)) else text
    origin = typing.get_origin(hint)
    if origin in (list, tuple, Sequence):
        args = typing.get_args(hint)
        return f"a list (each {describe(args[0]) if args else 'a value'})"
    if origin is Literal:
        return "one of " + ", ".join(map(str, typing.get_args(hint)))
    return {
        bool: "true or false",
        int: "an integer",
        float: "a number",
        str: "text",
        dict: "a mapping",
    }.get(hint, getattr(hint, "__name__", str(hint)))


def coerce(value: Any, hint: Any) -> Any:
    """``value`` as the field type ``hint`` reads it; raises ``_Mismatch`` when it cannot be.

    Strings are read the way the command line reads them (``"2"`` -> 2, ``"no"`` -> False);
    a scalar where a list is expected becomes a one-element list. Types the parser does not
    model (mappings, unions of several types, enums) pass unchanged: the option's own class
    checks them.
    """
    members = _members(hint)
    if members is not None:
        if value is None or len(members) > 1:
            return value
        try:
            return coerce(value, members[0])
        except _Mismatch:
            raise _Mismatch(describe(hint)) from None
    origin = typing.get_origin(hint)
    if origin in (list, tuple, Sequence):
        args = typing.get_args(hint)
        if isinstance(value, Mapping) or value is None:
            raise _Mismatch(describe(hint))
        items = list(value) if isinstance(value, list | tuple) else [value]
        try:
            return [coerce(item, args[0]) if args else item for item in items]
        except _Mismatch:
            raise _Mismatch(describe(hint)) from None
    if origin is Literal:
        if value in typing.get_args(hint):
            return value
        raise _Mismatch(describe(hint))
    simple = _coerce_simple(value, hint)
    if simple is not _NOT_SIMPLE:
        return simple
    if hint is dict or origin in (dict, Mapping):
        if isinstance(value, Mapping):
            return value
        raise _Mismatch(describe(hint))
    return value


_NOT_SIMPLE = object()


def _coerce_simple(value: Any, hint: Any) -> Any:
    if hint not in (bool, int, float, str):
        return _NOT_SIMPLE
    if value is None or isinstance(value, list | tuple | Mapping):
        raise _Mismatch(describe(hint))
    if hint is bool:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower() if isinstance(value, str | int) else ""
        if text in _TRUE or text in _FALSE:
            return text in _TRUE
    elif isinstance(value, bool):
        pass  # YAML reads yes/no/on/off as booleans: never a number or a text
    elif hint is int:
        if isinstance(value, int):
            return value
        if isinstance(value, str) and _INTEGER.fullmatch(value.strip()):
            return int(value)
    elif hint is float:
        if isinstance(value, int | float):
            return value
        if isinstance(value, str):
            try:  # PyYAML reads 5e-7 (no dot) as text; the command line reads it as a number
                return float(value)
            except ValueError:
                pass
    elif isinstance(value, str | int | float):  # str
        return str(value)
    raise _Mismatch(describe(hint))


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def typed_recipe(
    data: Mapping[str, Any], classes: Sequence[type], source: str | os.PathLike[str] | None
) -> dict[str, Any]:
    """``data`` checked against the fields of ``classes``: unknown keys and values of the wrong
    type are a :class:`DataError` naming ``source`` and the key; values come back typed."""
    known = option_fields(classes)
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise DataError(source, f"unknown option(s): {', '.join(map(str, unknown))} (see --help)")
    out: dict[str, Any] = {}
    for key, value in data.items():
        f, hint = known[key]
        try:
            out[key] = coerce(value, hint)
        except _Mismatch as exc:
            hint_text = " (quote it: YAML reads yes/no/on/off as true/false)"
            extra = hint_text if isinstance(value, bool) else ""
            raise DataError(
                source, f"{key}: expected {exc.expected}, got {_shown(value)}{extra}"
            ) from None
        choices = f.metadata.get("choices")
        if choices and out[key] is not None and out[key] not in choices:
            raise DataError(
                source,
                f"{key}: expected one of {', '.join(map(str, choices))}, got {_shown(value)}",
            )
    return out


# ---- the command line -----------------------------------------------------------------------
def split_positionals(argv: Sequence[str]) -> tuple[list[str], list[str]]:
    """Leading words (before the first ``-`` token) and the rest."""
    argv = list(argv)
    for i, token in enumerate(argv):
        if token.startswith("-"):
            return argv[:i], argv[i:]
    return argv, []


def _is_list(hint: Any) -> bool:
    members = _members(hint)
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
        members = _members(hint)
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
    ``required`` names must end up set. A ``ValueError`` from a
    dataclass's own checks becomes a :class:`ConfigError`, so every bad option is one line.
    """
    usage = usage_line(prog, classes, positionals)
    words, rest = split_positionals(argv)
    if any(token in HELP_FLAGS for token in rest):
        titles = ["options"] if len(classes) == 1 else [None] * len(classes)
        groups = list(zip(titles, classes, strict=True))
        print(format_help(prog, description, groups, usage), end="")
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
            raise ConfigError(str(exc).splitlines()[0] if str(exc) else repr(exc)) from None
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
    members = _members(hint)
    base = members[0] if members and len(members) == 1 else hint
    choices = f.metadata.get("choices")
    if choices:
        return "{" + ",".join(map(str, choices)) + "}"
    if base is bool:
        return f"[true|false], --no_{name}"
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

"""A YAML recipe, read and checked: every value against the type of the option it sets.

A recipe value is read as the same text written after its flag would be: ``"2"`` is 2 for an
integer option, ``"no"`` false for a boolean, ``5e-7`` (text to PyYAML, which follows YAML 1.1)
a number for a float; a single value where a list is expected is a one-element list. Anything
the flag would refuse (``max_retries: 1.5``, ``temperature: hot``, ``limit: [1]``) is one
:class:`~srlkit.io.DataError` naming the file and the key, as is a key no option has.
:mod:`srlkit.options` parses the command line around it.
"""

from __future__ import annotations

import dataclasses
import os
import re
import types
import typing
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal, Union

import yaml

from srlkit.io import DataError

_TRUE = ("yes", "true", "t", "y", "1")
_FALSE = ("no", "false", "f", "n", "0")
_INTEGER = re.compile(r"[-+]?\d+")


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


def union_members(hint: Any) -> list[Any] | None:
    """The non-None members of a Union hint; None when ``hint`` is no Union."""
    origin = typing.get_origin(hint)
    if origin is Union or origin is types.UnionType:
        return [a for a in typing.get_args(hint) if a is not type(None)]
    return None


def describe(hint: Any) -> str:
    """What a value of ``hint`` looks like, for messages (``an integer``, ``true or false``)."""
    members = union_members(hint)
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
    members = union_members(hint)
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
        values = out[key] if isinstance(out[key], list) else [out[key]]  # argparse checks each
        if choices and any(v is not None and v not in choices for v in values):
            raise DataError(
                source,
                f"{key}: expected one of {', '.join(map(str, choices))}, got {_shown(value)}",
            )
    return out

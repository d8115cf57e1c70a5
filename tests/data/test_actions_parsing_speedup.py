"""The str.find-based function-block and parameter parsers return exactly what the reference regexes return."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from srlkit.data.actions import (
    _FUNCTION_RE,
    _PARAMETER_RE,
    _function_name_and_body,
    _loads_arguments,
    _parameters,
    _strip_one_newline,
    parse_action,
)

_PIECES = [
    "<function=",
    "bash",
    ">",
    "</function>",
    "<parameter=",
    "command",
    "</parameter>",
    "\n",
    "ls -la",
    " ",
    "<",
    "x",
]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=30).map("".join))
def test_same_groups_as_the_reference_regex(text):
    match = _FUNCTION_RE.search(text)
    expected = (match.group(1), match.group(2)) if match else None
    assert _function_name_and_body(text) == expected


def test_unclosed_block_stops_before_one_final_newline():
    assert _function_name_and_body("<function=bash>\n<parameter=command>ls</parameter>\n") == (
        "bash",
        "\n<parameter=command>ls</parameter>",
    )
    assert parse_action("<function=a>\n<parameter=k>v</parameter>").arguments == {"k": "v"}


_PARAMETER_PIECES = [
    "<parameter=",
    "command",
    "path",
    ">",
    "</parameter>",
    "</parameter",
    "<parameter",
    "\n",
    "x y",
    "<",
    "=",
]


@settings(max_examples=600, deadline=None)
@given(st.lists(st.sampled_from(_PARAMETER_PIECES), max_size=30).map("".join))
def test_parameters_are_the_reference_regex_findall(text):
    assert _parameters(text) == _PARAMETER_RE.findall(text)


def test_parameters_skip_a_name_broken_by_a_newline():
    text = "<parameter=a\nb>x</parameter><parameter=c>y</parameter>"
    assert _parameters(text) == [("c", "y")] == _PARAMETER_RE.findall(text)


def _reference_strip_one_newline(text: str) -> str:
    if text.startswith("\r\n"):
        text = text[2:]
    elif text.startswith("\n"):
        text = text[1:]
    if text.endswith("\r\n"):
        text = text[:-2]
    elif text.endswith("\n"):
        text = text[:-1]
    return text


@settings(max_examples=600, deadline=None)
@given(st.lists(st.sampled_from(["\n", "\r", "\r\n", "a", " "]), max_size=8).map("".join))
def test_strip_one_newline_matches_the_startswith_form(text):
    assert _strip_one_newline(text) == _reference_strip_one_newline(text)


_JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(2**80), max_value=2**80)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=500, deadline=None)
@given(_JSON_VALUES, st.booleans())
def test_loads_arguments_equals_the_standard_library(value, ascii_only):
    text = json.dumps({"arg": value}, ensure_ascii=ascii_only)
    got, expected = _loads_arguments(text), json.loads(text)
    assert got == expected and repr(got) == repr(expected)


def test_loads_arguments_keeps_what_only_the_standard_library_reads():
    for text in ['{"n": 123456789012345678901234}', '{"x": NaN}', '{"s": "\\ud800"}']:
        assert repr(_loads_arguments(text)) == repr(json.loads(text))

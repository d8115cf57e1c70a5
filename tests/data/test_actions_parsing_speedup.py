"""The str.find-based function-block parser returns exactly what the reference regex returns."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from srlkit.data.actions import _FUNCTION_RE, _function_name_and_body, parse_action

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

import pytest

from srlkit.data.actions import (
    Action,
    action_from_openai_tool_call,
    canonicalize_action_text,
    parse_action,
)

CANONICAL_LS = "<function=bash>\n<parameter=command>ls -la</parameter>\n</function>"


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(
            "<function=bash>\n<parameter=command>ls -la</parameter>\n</function>",
            id="openhands_xml",
        ),
        pytest.param(
            "<function=bash>\n<parameter=command>\nls -la\n</parameter>\n</function>",
            id="xml_newlines",
        ),
        pytest.param(
            '<tool_call>\n{"name": "bash", "arguments": {"command": "ls -la"}}\n</tool_call>',
            id="hermes",
        ),
        pytest.param(
            '{"name": "bash", "arguments": "{\\"command\\": \\"ls -la\\"}"}', id="json_string_args"
        ),
        pytest.param(
            '{"function": {"name": "bash", "arguments": {"command": "ls -la"}}}', id="openai_entry"
        ),
        pytest.param(
            "Let me list.\n<function=bash>\n<parameter=command>ls -la</parameter>\n</function>",
            id="prose",
        ),
    ],
)
def test_same_call_in_every_syntax_has_one_canonical_text(text):
    assert canonicalize_action_text(text) == CANONICAL_LS


def test_argument_order_does_not_matter_and_indentation_survives():
    a = parse_action(
        "<function=edit>\n<parameter=path>/x.py</parameter>\n<parameter=old_str>    return 1</parameter>\n</function>"
    )
    b = action_from_openai_tool_call(
        {"function": {"name": "edit", "arguments": '{"old_str": "    return 1", "path": "/x.py"}'}}
    )
    assert a == b
    assert "<parameter=old_str>    return 1</parameter>" in a.canonical_text()


def test_non_string_values_are_compact_json():
    act = Action("view", {"view_range": [0, -1]})
    assert "<parameter=view_range>[0,-1]</parameter>" in act.canonical_text()


@pytest.mark.parametrize(
    "text, expected",
    [
        pytest.param("Let's look.\n```\nls -F\n```\n", "ls -F", id="fenced"),
        pytest.param("open setup.py\n", "open setup.py", id="bare"),
        pytest.param("", "", id="empty"),
        pytest.param(
            "<tool_call>{not json</tool_call>", "<tool_call>{not json</tool_call>", id="broken_json"
        ),
        pytest.param(
            "<function=bash>\n<parameter=command>ls", "<function=bash>\n</function>", id="unclosed"
        ),
    ],
)
def test_bare_commands_and_malformed_input_never_raise(text, expected):
    assert canonicalize_action_text(text) == expected


def test_openai_tool_call_without_name_is_an_error():
    with pytest.raises(ValueError, match="function name"):
        action_from_openai_tool_call({"function": {"arguments": "{}"}})

"""Trained-format agent actions are read, argument for argument, by the scaffolds that run them.

The grammar is SWE-agent's ``xml_function_calling`` parser and OpenHands' non-native
function-calling parser, written out from their documentation in ``scaffold_grammar.py``
(neither package installs here). The actions are the real expert actions of the SWE-smith and
SWE-Gym files in ../shared/data, turned into training targets by srlkit's own loaders.
"""

from __future__ import annotations

import json

import pytest
from scaffold_grammar import (
    ScaffoldParseError,
    openhands_parse,
    swe_agent_parse,
    tools_from_description,
    tools_from_json_schemas,
)

from srlkit.data.actions import Action, parse_action
from srlkit.data.instances import InstanceOptions, build_instances
from srlkit.data.loaders import load_trajectories


def _instances(paths):
    trajectories = load_trajectories(paths)
    assert trajectories
    return [i for t in trajectories for i in build_instances(t, InstanceOptions())]


def _system_prompt(path) -> str:
    records = json.loads(path.read_text(encoding="utf-8"))
    messages = records[0]["messages"]
    messages = json.loads(messages) if isinstance(messages, str) else messages
    return messages[0]["content"]


@pytest.fixture(scope="module")
def swe_smith(shared_data):
    folder = shared_data / "swe_smith_trajectories"
    tools = tools_from_description(_system_prompt(folder / "sample_raw.json"))
    assert set(tools) == {"bash", "str_replace_editor", "submit"}
    return _instances(sorted(folder.glob("*.json"))), tools


@pytest.fixture(scope="module")
def swe_gym(shared_data):
    folder = shared_data / "swe_gym_openhands_sampled_trajectories"
    record = json.loads((folder / "sample_raw.json").read_text(encoding="utf-8"))[0]
    tools = tools_from_json_schemas(record["tools"])
    assert {"execute_bash", "str_replace_editor", "finish"} <= set(tools)
    return _instances(sorted(folder.glob("*.json"))), tools


def _model_reply(target: str) -> str:
    """What a trained model writes: a think block, then the target action."""
    return "<think>\nThe test fails on line 3; look at the parser first.\n</think>\n" + target


def test_every_swe_smith_target_is_read_by_swe_agent_as_the_expert_action(swe_smith):
    instances, tools = swe_smith
    assert len(instances) > 400
    for inst in instances:
        expected = parse_action(inst.target)
        thought, name, params = swe_agent_parse(_model_reply(inst.target), tools)
        assert name == expected.name, inst.id
        assert thought.startswith("<think>") and thought.endswith("</think>")
        want = {k: str(v).strip() for k, v in expected.arguments.items()}
        if "view_range" in want:
            want["view_range"] = json.loads(want["view_range"])
        assert params == want, inst.id


def test_every_swe_smith_target_is_read_by_openhands_verbatim(swe_smith):
    """Strings verbatim (indentation and inner newlines included), typed values decoded."""
    instances, tools = swe_smith
    for inst in instances:
        expected = parse_action(inst.target)
        _, name, params = openhands_parse(_model_reply(inst.target), tools)
        types = tools[name].types
        want = {
            k: json.loads(v)
            if types.get(k) == "array"
            else int(v)
            if types.get(k) == "integer"
            else v
            for k, v in expected.arguments.items()
        }
        assert (name, params) == (expected.name, want), inst.id


def test_openhands_tool_call_targets_keep_their_typed_arguments(swe_gym):
    """SWE-Gym actions come as OpenAI tool calls with typed JSON arguments (view_range lists):
    their canonical text must give OpenHands the same values back."""
    instances, tools = swe_gym
    typed = 0
    for inst in instances:
        _, name, params = openhands_parse(_model_reply(inst.target), tools)
        expected = parse_action(inst.target)
        assert name == expected.name
        for key, value in params.items():
            if tools[name].types.get(key) in ("integer", "array"):
                typed += 1
                assert json.dumps(value, separators=(",", ":")) == expected.arguments[key]
            else:
                assert value == expected.arguments[key], inst.id
    assert typed > 0, "no typed argument in the SWE-Gym sample: the test checked nothing typed"


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(
            "<function=bash><parameter=command>ls</parameter></function>",
            id="no_newline_after_header",
        ),
        pytest.param(
            '<tool_call>{"name": "bash", "arguments": {"command": "ls"}}</tool_call>',
            id="hermes_json",
        ),
        pytest.param("```bash\nls\n```", id="fenced_command"),
    ],
)
def test_other_syntaxes_are_refused_by_the_scaffold_but_canonicalised_by_srlkit(text, swe_smith):
    """Why the target form matters: the scaffold reads only its own grammar, so a model trained on
    any other syntax would get a format error at every step; srlkit turns each into the one form."""
    _, tools = swe_smith
    with pytest.raises(ScaffoldParseError):
        swe_agent_parse(text, tools)
    canonical = parse_action(text).canonical_text()
    if parse_action(text).name is not None:
        assert swe_agent_parse(canonical, tools)[1:] == ("bash", {"command": "ls"})


def test_canonical_text_of_a_call_without_arguments_is_read():
    _, name, params = swe_agent_parse(Action("submit", {}).canonical_text(), {"submit": _submit()})
    assert (name, params) == ("submit", {})


def _submit():
    return tools_from_description(
        "---- BEGIN FUNCTION #1: submit ----\nDescription: submit.\nNo parameters are required for this function.\n---- END FUNCTION #1 ----"
    )["submit"]


def test_scaffold_rejects_unknown_arguments_and_tools(swe_smith):
    _, tools = swe_smith
    with pytest.raises(ScaffoldParseError, match="Unexpected"):
        swe_agent_parse(Action("bash", {"command": "ls", "cwd": "/"}).canonical_text(), tools)
    with pytest.raises(ScaffoldParseError, match="not found"):
        swe_agent_parse(Action("python", {"code": "1"}).canonical_text(), tools)

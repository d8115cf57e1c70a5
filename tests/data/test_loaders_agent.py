"""Agent loaders on every real agent file in ../shared/data: targets are canonical actions, never prose."""

from __future__ import annotations

import json

import pytest

from srlkit.data.actions import parse_action
from srlkit.data.loaders import load_file
from srlkit.data.loaders.agent_chat import extract_text_action, strip_observation_prefix
from srlkit.data.schema import KIND_AGENT
from srlkit.io import DataError

SWE_GYM = [
    "sample_raw.json",
    "sample_raw.a444b4b.json",
    "sample_raw.23556dc.json",
    "sample_raw.8f125f1.json",
]
SWE_SMITH = ["sample_raw.json", "sample_raw.5k.a444b4b.json", "sample_raw.5k.80a1efb.json"]


def _trajs(path, **kw):
    outs = list(load_file(path, **kw))
    assert all(o.trajectory for o in outs), [o.detail for o in outs if o.dropped]
    return [o.trajectory for o in outs], {o.format for o in outs}


def _assert_canonical(trajs):
    for t in trajs:
        assert t.kind == KIND_AGENT and t.task and len(t.steps) >= 2
        for s in t.steps:
            # Canonical text: a <function=...> block or a bare command, never the expert's prose.
            assert s.action and s.action == s.action.strip()
            assert parse_action(s.action).canonical_text().split("\n")[0] == s.action.split("\n")[0]


@pytest.mark.parametrize("name, rows", list(zip(SWE_GYM, [5, 5, 5, 3])))
def test_swe_gym_openai_tool_calls(shared_data, name, rows):
    trajs, fmts = _trajs(shared_data / "swe_gym_openhands_sampled_trajectories" / name)
    assert fmts == {"openai_tools"} and len(trajs) == rows
    _assert_canonical(trajs)
    finished = [t for t in trajs if t.steps[-1].action == "<function=finish>\n</function>"]
    assert len(finished) >= rows - 3  # the others stopped at the turn limit
    assert all(s.action.startswith("<function=") for t in trajs for s in t.steps)
    assert all(t.task.startswith("<uploaded_files>") for t in trajs)


def test_swe_gym_first_step_and_its_tool_answer(shared_data):
    (t, *_), _ = _trajs(shared_data / "swe_gym_openhands_sampled_trajectories" / "sample_raw.json")
    assert t.steps[0].action == (
        "<function=str_replace_editor>\n<parameter=command>view</parameter>\n"
        "<parameter=path>/workspace/python__mypy__1.6</parameter>\n<parameter=view_range>[0,-1]</parameter>\n</function>"
    )
    assert t.steps[0].observation.startswith("ERROR:\nThe `view_range` parameter is not allowed")
    assert t.metadata["resolved"] in (True, False) and "system_prompt" in t.metadata


@pytest.mark.parametrize("name, rows", list(zip(SWE_SMITH, [5, 8, 7])))
def test_swe_smith_function_blocks(shared_data, name, rows):
    trajs, fmts = _trajs(shared_data / "swe_smith_trajectories" / name)
    assert fmts == {"swe_smith"} and len(trajs) == rows
    _assert_canonical(trajs)
    for t in trajs:
        assert all(s.action.startswith("<function=") for s in t.steps)
        assert not any(s.observation.startswith("OBSERVATION:") for s in t.steps)
        assert all("I'll help you" not in s.action for s in t.steps)


def test_swe_smith_thought_is_kept_apart_from_the_action(shared_data):
    (t, *_), _ = _trajs(shared_data / "swe_smith_trajectories" / "sample_raw.json")
    assert t.steps[0].thought.startswith("I'll help you implement")
    assert t.steps[0].action.startswith(
        '<function=bash>\n<parameter=command>find /testbed -type f -name "*.py"'
    )
    assert t.steps[-1].action == "<function=submit>\n</function>"


def test_nebius_fenced_commands(shared_data):
    trajs, fmts = _trajs(shared_data / "nebius_swe_agent_trajectories" / "sample_raw.json")
    assert fmts == {"nebius"} and len(trajs) == 5
    _assert_canonical(trajs)
    first = trajs[0]
    assert [s.action for s in first.steps[:3]] == [
        "ls -F",
        'find_file "image.py" plumbum',
        "open plumbum/cli/image.py",
    ]
    assert first.steps[-1].action == "submit"
    assert "SyntaxError in plumbum/cli/image.py" in first.task
    assert first.metadata["system_prompt"].startswith("SETTING: You are an autonomous programmer")


def test_swe_play_task_without_the_in_context_example(shared_data):
    trajs, fmts = _trajs(shared_data / "swe_play_trajectories" / "sample_raw.json")
    assert fmts == {"swe_play"} and len(trajs) == 5
    _assert_canonical(trajs)
    for t in trajs:
        assert "START OF EXAMPLE" not in t.task and "<task_description>" in t.task
        assert not any(s.observation.startswith("EXECUTION RESULT") for s in t.steps)
    # swe-play-4 ends with a malformed '<finish>' turn: not an action, counted instead.
    assert trajs[4].metadata["turns_without_action"] == 1
    assert trajs[0].steps[-1].action.startswith("<function=finish>\n<parameter=message>Task 1.2.1")


def test_all_four_swe_agent_traj_files(shared_data):
    files = sorted((shared_data / "swe_agent_demonstrations").rglob("*.traj"))
    assert len(files) == 4
    steps = {}
    for f in files:
        (t,), fmts = _trajs(f)
        assert fmts == {"swe_agent_traj"}
        _assert_canonical([t])
        assert t.task.startswith("We're currently solving the following issue")
        assert "DEMONSTRATION" not in t.task
        assert t.steps[-1].action == "submit"
        steps[f.parent.name] = [s.action for s in t.steps]
    assert (
        steps["gpt4__swe-agent__test-repo__default_from_url__t-0.00__p-0.95__c-3.00__install-1"][0]
        == 'find_file "missing_colon.py"'
    )
    assert sorted(len(v) for v in steps.values()) == [5, 11, 12, 14]


def test_extract_text_action_treats_prose_as_no_action():
    assert extract_text_action("All done, the fix is in place.") is None
    thought, action = extract_text_action("Look first.\n```bash\nls -F\n```")
    assert (thought, action.canonical_text()) == ("Look first.", "ls -F")
    assert extract_text_action("Here is code:\n```python\nx = 1\n```", fences=False) is None
    assert strip_observation_prefix("EXECUTION RESULT of [execute_bash]:\nok") == "ok"


def test_multiple_tool_calls_in_one_turn_match_their_answers(tmp_path):
    call = lambda i, cmd: {
        "id": i,
        "type": "function",
        "function": {"name": "bash", "arguments": json.dumps({"command": cmd})},
    }
    messages = [
        {"role": "user", "content": "task"},
        {
            "role": "assistant",
            "content": "two at once",
            "tool_calls": [call("a", "ls"), call("b", "pwd")],
        },
        {"role": "tool", "tool_call_id": "b", "content": "/repo"},
        {"role": "tool", "tool_call_id": "a", "content": "file.py"},
        {"role": "assistant", "content": "Done, nothing more to run."},
    ]
    p = tmp_path / "c.jsonl"
    p.write_text(json.dumps({"id": "c1", "messages": messages}) + "\n")
    (t,), _ = _trajs(p)
    assert [(s.action.split("command>")[1].split("<")[0], s.observation) for s in t.steps] == [
        ("ls", "file.py"),
        ("pwd", "/repo"),
    ]
    assert t.steps[0].thought == "two at once" and t.metadata["turns_without_action"] == 1


def test_malformed_agent_records(tmp_path):
    p = tmp_path / "bad.jsonl"
    good = {
        "messages": [
            {"role": "user", "content": "t"},
            {
                "role": "assistant",
                "content": "<function=bash>\n<parameter=command>ls</parameter>\n</function>",
            },
            {"role": "user", "content": "OBSERVATION: a"},
            {"role": "assistant", "content": "<function=submit>\n</function>"},
        ]
    }
    rows = [
        good,
        {"messages": "oops"},
        {"messages": [{"content": "no role"}]},
        {"messages": [{"role": "assistant", "content": "<function=a>\n</function>"}]},
    ]
    p.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    with pytest.raises(DataError, match=r"bad\.jsonl:2: 'messages' should be a list of messages"):
        list(load_file(p))
    outs = list(load_file(p, skip_invalid=True))
    assert [o.dropped for o in outs] == [None, "invalid", "invalid", "no_task"]
    assert "message 1 should be an object with a 'role'" in outs[2].detail


def test_srlkit_trajectory_json_round_trips_and_canonicalises(shared_data, tmp_path):
    from srlkit.data.loaders import load_trajectories

    originals = load_trajectories(shared_data / "nebius_swe_agent_trajectories" / "sample_raw.json")
    p = tmp_path / "native.jsonl"
    rows = [t.to_dict() for t in originals]
    rows[0]["steps"][0]["action"] = (
        "```\nls -F\n```"  # any accepted syntax is rewritten canonically
    )
    p.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    outs = list(load_file(p))
    assert {o.format for o in outs} == {"srlkit"}
    loaded = [o.trajectory for o in outs]
    assert [t.steps for t in loaded] == [t.steps for t in originals]
    assert [t.id for t in loaded] == [t.id for t in originals] and loaded[
        0
    ].source_format == "nebius"


def test_a_file_mixing_families_reads_each_record_with_its_own_format(shared_data, tmp_path):
    gym = json.loads(
        (shared_data / "swe_gym_openhands_sampled_trajectories" / "sample_raw.json").read_text()
    )
    smith = json.loads((shared_data / "swe_smith_trajectories" / "sample_raw.json").read_text())
    p = tmp_path / "mixed.jsonl"
    p.write_text("\n".join(json.dumps(r) for r in gym[:2] + smith[:2]) + "\n")
    outs = list(load_file(p))
    assert [o.format for o in outs] == ["openai_tools", "openai_tools", "swe_smith", "swe_smith"]
    assert all(o.trajectory and len(o.trajectory.steps) > 5 for o in outs)


def test_legacy_function_call_and_malformed_tool_calls(tmp_path):
    fc = {"name": "bash", "arguments": json.dumps({"command": "ls"})}
    good = [
        {"role": "user", "content": "task"},
        {"role": "assistant", "content": None, "function_call": fc},
        {"role": "function", "name": "bash", "content": "a.py"},
        {
            "role": "assistant",
            "content": None,
            "function_call": {"name": "finish", "arguments": "{}"},
        },
    ]
    bad = [
        {"role": "user", "content": "task"},
        {"role": "assistant", "content": "", "tool_calls": ["ls"]},
    ]
    p = tmp_path / "legacy.jsonl"
    p.write_text(
        json.dumps({"id": "g", "messages": good})
        + "\n"
        + json.dumps({"id": "b", "messages": bad})
        + "\n"
    )
    with pytest.raises(
        DataError, match="malformed tool call: tool call 1 should be an object, found str"
    ):
        list(load_file(p))
    outs = list(load_file(p, format="openai_tools", skip_invalid=True))
    t = outs[0].trajectory
    assert [s.action for s in t.steps] == [
        "<function=bash>\n<parameter=command>ls</parameter>\n</function>",
        "<function=finish>\n</function>",
    ]
    assert t.steps[0].observation == "a.py" and outs[1].dropped == "invalid"

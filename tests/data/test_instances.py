"""Step instances: target rules, title hint, agent history window, truncation, prompt-length limit."""

from __future__ import annotations

import pytest

from srlkit.data.instances import (
    InstanceCounts,
    InstanceOptions,
    build_instances,
    make_token_counter,
)
from srlkit.data.prompts import (
    TRUNCATION_MARKER,
    build_messages,
    default_system_prompt,
    read_system_prompt,
    truncate_middle,
)
from srlkit.data.schema import KIND_AGENT, Step, Trajectory
from srlkit.io import DataError

MATH = Trajectory(
    id="m1",
    task="What is (2+3)*4?",
    steps=[Step("Add", "2 + 3 = 5"), Step("Multiply", "5 * 4 = 20"), Step("Answer", "\\boxed{20}")],
    final_answer="20",
    source_format="math",
    metadata={"segmentation": "numbered"},
)


def _agent(n=5, obs="out"):
    steps = [
        Step(thought=f"t{i}", action=f"cmd {i}", observation=f"{obs}{i}") for i in range(1, n + 1)
    ]
    return Trajectory(
        "a1",
        "Fix the bug.",
        steps,
        kind=KIND_AGENT,
        source_format="swe_smith",
        metadata={"system_prompt": "TOOLS: bash"},
    )


def test_every_step_is_a_target_with_expert_context():
    insts = list(build_instances(MATH))
    assert [(i.step_index, i.num_steps, i.target) for i in insts] == [
        (1, 3, "1. **Add** 2 + 3 = 5"),
        (2, 3, "2. **Multiply** 5 * 4 = 20"),
        (3, 3, "3. **Answer** \\boxed{20}"),
    ]
    assert [m["role"] for m in insts[2].prompt] == ["system", "user"]
    user = insts[2].prompt[1]["content"]
    assert "What is (2+3)*4?" in user and "1. **Add** 2 + 3 = 5\n2. **Multiply** 5 * 4 = 20" in user
    assert "Answer" not in user and user.endswith("Write step 3 only.")
    assert insts[0].id == "m1/step-1" and insts[0].metadata["final_answer"] == "20"
    assert "<think>" in insts[0].prompt[0]["content"]


def test_paper_rule_never_targets_the_last_step():
    insts = list(build_instances(MATH, InstanceOptions(targets="paper")))
    assert [i.step_index for i in insts] == [1, 2]


def test_title_hint_moves_the_title_into_the_context():
    insts = list(build_instances(MATH, InstanceOptions(title_hint=True)))
    assert insts[1].target == "5 * 4 = 20"
    assert "Step 2 is titled **Multiply**" in insts[1].prompt[1]["content"]
    assert insts[1].metadata["title_hint"] is True
    untitled = Trajectory("u", "P", [Step(body="a"), Step(body="b")])
    assert [i.target for i in build_instances(untitled, InstanceOptions(title_hint=True))] == [
        "1. a",
        "2. b",
    ]


def test_continuation_layout_opens_the_answer_with_the_expert_steps():
    options = InstanceOptions(layout="continuation", answer_opening="<think></think>\n")
    insts = list(build_instances(MATH, options))
    assert [i.target for i in insts] == [i.target for i in build_instances(MATH)]
    assert all(i.continues_answer for i in insts)
    user, answer = insts[2].prompt
    assert user == build_messages(MATH.task)[0]  # the solve prompt of `srl eval`
    assert answer == {
        "role": "assistant",
        "content": "<think></think>\n1. **Add** 2 + 3 = 5\n2. **Multiply** 5 * 4 = 20\n",
    }
    assert insts[0].prompt[-1]["content"] == "<think></think>\n"
    assert not any(i.continues_answer for i in build_instances(MATH))


def test_continuation_layout_with_title_hint_writes_the_title_into_the_answer():
    options = InstanceOptions(layout="continuation", title_hint=True)
    second = list(build_instances(MATH, options))[1]
    assert second.target == "5 * 4 = 20"
    assert second.prompt[-1]["content"] == "1. **Add** 2 + 3 = 5\n2. **Multiply** "


def test_agent_trajectories_keep_their_turns_in_the_continuation_layout():
    options = InstanceOptions(layout="continuation")
    assert [i.prompt for i in build_instances(_agent(), options)] == [
        i.prompt for i in build_instances(_agent())
    ]


def test_agent_context_keeps_the_last_k_rounds():
    insts = list(build_instances(_agent()))
    assert [i.target for i in insts] == [f"cmd {k}" for k in range(1, 6)]
    p5 = insts[4].prompt
    assert [m["role"] for m in p5] == ["system", "user", "assistant", "user", "assistant", "user"]
    assert [m["content"] for m in p5[2:]] == [
        "cmd 3",
        "OBSERVATION:\nout3",
        "cmd 4",
        "OBSERVATION:\nout4",
    ]
    assert "2 earlier actions and their outputs are not shown" in p5[1]["content"]
    assert (
        insts[0].prompt[-1]["content"] == "Fix the bug."
        and insts[4].metadata["history_rounds"] == 2
    )
    everything = list(build_instances(_agent(), InstanceOptions(history_rounds=None)))[4].prompt
    assert len(everything) == 2 + 2 * 4 and "not shown" not in everything[1]["content"]
    none = list(build_instances(_agent(), InstanceOptions(history_rounds=0)))[4].prompt
    assert len(none) == 2 and "4 earlier actions" in none[1]["content"]


def test_long_observations_are_cut_with_a_visible_marker():
    traj = _agent(2, obs="x" * 100)
    inst = list(build_instances(traj, InstanceOptions(max_observation_chars=20)))[1]
    shown = inst.prompt[-1]["content"]
    assert TRUNCATION_MARKER.format(n=81) in shown and shown.startswith(
        "OBSERVATION:\nxxxxxxxxxx\n"
    )
    assert (
        truncate_middle("short", 20) == "short" and truncate_middle("abc" * 50, None) == "abc" * 50
    )


def test_source_system_prompt_and_overrides(tmp_path):
    traj = _agent(2)
    assert "TOOLS: bash" not in next(iter(build_instances(traj))).prompt[0]["content"]
    with_tools = next(
        iter(build_instances(traj, InstanceOptions(include_source_system=True)))
    ).prompt[0]["content"]
    assert with_tools.startswith(default_system_prompt(KIND_AGENT)) and with_tools.endswith(
        "TOOLS: bash"
    )
    mine = tmp_path / "sys.txt"
    mine.write_text("Only the next step, please.\n")
    opts = InstanceOptions(math_system_prompt=read_system_prompt(mine))
    assert (
        next(iter(build_instances(MATH, opts))).prompt[0]["content"]
        == "Only the next step, please."
    )
    (tmp_path / "empty.txt").write_text("  ")
    with pytest.raises(DataError, match="empty"):
        read_system_prompt(tmp_path / "empty.txt")


def test_prompt_length_limit_drops_and_counts():
    counts = InstanceCounts()
    count_chars = lambda messages: sum(len(m["content"]) for m in messages)
    limit = count_chars(list(build_instances(MATH))[1].prompt)
    kept = list(
        build_instances(MATH, InstanceOptions(max_prompt_tokens=limit), count_chars, counts)
    )
    assert [i.step_index for i in kept] == [1, 2]
    assert counts.built == 2 and counts.dropped == {"prompt_too_long": 1}
    assert kept[0].metadata["prompt_tokens"] <= limit
    with pytest.raises(ValueError, match="token counter"):
        list(build_instances(MATH, InstanceOptions(max_prompt_tokens=10)))


@pytest.mark.slow
def test_token_counter_uses_the_chat_template(tiny_model_dir):
    count = make_token_counter(str(tiny_model_dir))
    prompt = next(iter(build_instances(MATH))).prompt
    n = count(prompt)
    longer = [prompt[0], {"role": "user", "content": prompt[1]["content"] * 3}]
    assert 0 < n < count(longer)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        pytest.param({"targets": "last"}, "targets must be", id="targets"),
        pytest.param({"history_rounds": -1}, "history_rounds", id="rounds"),
        pytest.param({"max_observation_chars": 0}, "max_observation_chars", id="obs"),
        pytest.param({"layout": "chat"}, "layout must be", id="layout"),
    ],
)
def test_bad_options(kwargs, message):
    with pytest.raises(ValueError, match=message):
        InstanceOptions(**kwargs)

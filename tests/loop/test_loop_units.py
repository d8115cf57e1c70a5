"""The loop's pure parts: the pool (dedup by content, weights, provenance on disk), the
verifiers (the built-in task's process check, agents' resolved flag) and the options."""

from __future__ import annotations

import pytest

from srlkit.data.schema import KIND_AGENT, Step, Trajectory
from srlkit.loop.config import LoopConfig
from srlkit.loop.pool import (
    PoolEntry,
    copies,
    counts,
    merge,
    read_pool,
    training_trajectories,
    write_pool,
)
from srlkit.loop.verify import (
    MISNUMBERED,
    WRONG_CHAIN,
    chain_check,
    process_check,
    renumbered,
    resolved,
)

PROBLEM = {
    "id": "p1",
    "problem": "Start with 7. Operations: (1) double, (2) subtract 4.",
    "answer": "(14, 10)",
    "solution": "1. **Double** 7 * 2 = 14\n2. **Subtract 4** 14 - 4 = 10\n"
    "3. **Give the answer** \\boxed{(14, 10)}",
}


def _trajectory(steps: list[tuple[str, str]], tid: str = "p1/s0", task: str = "t") -> Trajectory:
    return Trajectory(id=tid, task=task, steps=[Step(title=t, body=b) for t, b in steps])


def _entry(traj: Trajectory, weight: float = 1.0, source: str = "self") -> PoolEntry:
    return PoolEntry(traj, source, 1, "model", "process", weight, "p1")


RIGHT = [
    ("Double", "7 * 2 = 14"),
    ("Subtract 4", "14 - 4 = 10"),
    ("Give the answer", "\\boxed{(14, 10)}"),
]


@pytest.mark.parametrize(
    ("steps", "expected"),
    [
        pytest.param(RIGHT, None, id="the_expert_chain"),
        pytest.param(
            [("Double", "7 * 2 = 14"), ("Subtract 4", "14 - 4 = 11"), RIGHT[2]],
            WRONG_CHAIN,
            id="one_wrong_equation",
        ),
        pytest.param(
            [("Double", "7 + 7 = 14"), RIGHT[1], RIGHT[2]], WRONG_CHAIN, id="right_value_other_work"
        ),
        pytest.param(RIGHT[:1] + RIGHT[2:], WRONG_CHAIN, id="a_step_left_out"),
        pytest.param(
            # "2." written twice: the parser keeps the second in the first step's body
            [("Double", "7 * 2 = 14\n2. **Subtract 4** 14 - 4 = 10"), RIGHT[2]],
            MISNUMBERED,
            id="misnumbered_right_chain",
        ),
    ],
)
def test_chain_check(steps, expected):
    assert chain_check(PROBLEM, _trajectory(steps)) == expected


def test_renumbering_cuts_a_misnumbered_solution_into_its_steps():
    merged = _trajectory([("Double", "7 * 2 = 14\n2. **Subtract 4** 14 - 4 = 10"), RIGHT[2]])
    fixed = renumbered(merged)
    assert [(s.title, s.body) for s in fixed.steps] == RIGHT
    assert fixed.metadata["renumbered"] is True and fixed.id == merged.id
    assert chain_check(PROBLEM, fixed) is None
    assert renumbered(_trajectory(RIGHT)) is None  # nothing to do


def test_process_checks_are_found_by_name():
    assert process_check("chain") is chain_check
    with pytest.raises(ValueError, match="unknown --process_check 'nope'; registered: .*chain"):
        process_check("nope")


@pytest.mark.parametrize(
    ("kind", "metadata", "expected"),
    [
        ("math", {"resolved": False}, True),  # a math expert solution always counts
        (KIND_AGENT, {}, True),  # demonstrations record no outcome
        (KIND_AGENT, {"resolved": True}, True),
        (KIND_AGENT, {"resolved": False}, False),
        (KIND_AGENT, {"resolved": "false"}, False),
        (KIND_AGENT, {"resolved": "True"}, True),
        (KIND_AGENT, {"resolved": 0}, False),
        (KIND_AGENT, {"target": False}, False),  # nebius: true when the patch passed the tests
        (KIND_AGENT, {"target": True}, True),
    ],
)
def test_resolved_flag(kind, metadata, expected):
    traj = Trajectory(id="a", task="t", steps=[Step(action="ls")], kind=kind, metadata=metadata)
    assert resolved(traj) is expected


def test_merge_keeps_one_entry_per_content():
    a = _entry(_trajectory(RIGHT, "p1/s0"))
    same_content_other_id = _entry(_trajectory(RIGHT, "p1/s5"), source="teacher")
    other = _entry(_trajectory(RIGHT[:2], "p1/s1"))
    pool, repeats = merge([a], [same_content_other_id, other, other])
    assert [e.trajectory.id for e in pool] == ["p1/s0", "p1/s1"]
    assert repeats == 2
    assert counts(pool) == {"expert": 0, "teacher": 0, "self": 2}


def test_pool_file_keeps_provenance(tmp_path):
    entry = PoolEntry(_trajectory(RIGHT), "teacher", 2, "http://t/v1", "outcome", 0.5, "p1")
    write_pool(tmp_path / "pool.jsonl", [entry])
    [back] = read_pool(tmp_path / "pool.jsonl")
    assert back == entry
    assert back.key == entry.key


@pytest.mark.parametrize(
    ("weight", "expected_mean"), [(0.0, 0.0), (0.25, 0.25), (1.0, 1.0), (2.5, 2.5)]
)
def test_weights_set_the_copies_on_average(weight, expected_mean):
    entries = [_entry(_trajectory(RIGHT, task=f"task {i}"), weight) for i in range(400)]
    mean = sum(copies(e) for e in entries) / len(entries)
    assert mean == pytest.approx(expected_mean, abs=0.06)
    assert [copies(e) for e in entries] == [copies(e) for e in entries]  # the same every run


def test_training_copies_have_their_own_ids():
    entry = _entry(_trajectory(RIGHT, "p1/s0"), weight=3.0)
    ids = [t.id for t in training_trajectories([entry])]
    assert ids == ["p1/s0", "p1/s0#2", "p1/s0#3"]


def _config(**changes) -> LoopConfig:
    base = {
        "model": "m",
        "problems": ["p.jsonl"],
        "out": "o",
        "train_config": "r.yaml",
        "eval_benchmarks": ["b"],
    }
    return LoopConfig(**{**base, **changes})


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"model": ""}, "give --model"),
        ({"problems": []}, "give --problems"),
        ({"eval_benchmarks": []}, "give --eval_benchmarks"),
        ({"rounds": 0}, "--rounds must be at least 1"),
        ({"verifier": "process"}, "needs --process_check"),
        ({"process_check": "nope"}, "unknown --process_check"),
        ({"expert_weight": -1.0}, "--expert_weight must be"),
        ({"self_weight": float("nan")}, "--self_weight must be"),
    ],
)
def test_config_errors_are_one_line(changes, message):
    with pytest.raises(ValueError, match=message):
        _config(**changes).validate()


def test_a_valid_config_passes():
    _config(verifier="process", process_check="chain").validate()


def test_the_shipped_loop_recipes_parse_and_name_a_training_recipe(tmp_path):
    from pathlib import Path

    from srlkit.cli.options import parse_options
    from srlkit.training.config import parse_method_args

    repo = Path(__file__).resolve().parents[2]
    recipes = sorted(repo.glob("recipes/*/loop/config.yaml"))
    assert recipes
    for path in recipes:
        config = parse_options(LoopConfig, ["--config", str(path)], prog="srl loop")
        config.validate()
        assert config.rounds >= 1 and config.eval_benchmarks
        train = parse_method_args(
            "srl",
            ["--config", str(repo / config.train_config), "--output_dir", str(tmp_path)]
            + ["--bf16", "false"],
        )
        assert train.train.output_dir == str(tmp_path)


def test_a_failed_launched_training_is_one_error(tmp_path):
    from srlkit.training.invoke import TrainingFailed, train_command

    argv = ["--output_dir", str(tmp_path / "run"), "--bf16", "false"]
    with pytest.raises(
        TrainingFailed, match=r"^false -m srlkit.cli.main train srl .* exited with code 1"
    ):
        train_command("srl", argv, launcher="false")


def test_the_expert_pool_keeps_only_resolved_agent_runs(tmp_path, shared_data):
    """Real agent records (SWE-Gym's ``resolved``, nebius's ``target``), two of them flipped to
    unresolved: every record is kept or dropped with its reason."""
    import json

    from srlkit.loop.inputs import load_expert_pool

    gym = json.loads(
        (shared_data / "swe_gym_openhands_sampled_trajectories" / "sample_raw.json").read_text()
    )
    gym[1]["resolved"] = False
    nebius = json.loads(
        (shared_data / "nebius_swe_agent_trajectories" / "sample_raw.json").read_text()
    )
    nebius[0]["target"] = False
    (tmp_path / "gym.json").write_text(json.dumps(gym))
    (tmp_path / "nebius.json").write_text(json.dumps(nebius))
    config = _config(expert_pool=[str(tmp_path / "gym.json"), str(tmp_path / "nebius.json")])
    pool, counted = load_expert_pool(config)
    assert counted["read"] == len(gym) + len(nebius)
    assert counted["dropped"]["unresolved"] == 2
    assert counted["read"] == counted["kept"] + sum(counted["dropped"].values())
    assert len(pool) == counted["kept"] > 0
    assert {(e.source, e.verifier) for e in pool} == {("expert", "resolved")} and all(
        e.trajectory.kind == KIND_AGENT for e in pool
    )


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--quick"], {"rounds": 2, "num_samples": 4, "train_problems": 16, "verifier": None}),
        (["--task", "chain"], {"rounds": 3, "num_samples": 8, "train_problems": 256}),
        (["--quick", "--rounds", "1", "--num_samples", "2"], {"rounds": 1, "num_samples": 2}),
        (["--quick", "--rounds", "3", "--num_samples", "8"], {"rounds": 3, "num_samples": 8}),
        (["--task", "chain", "--seed", "4", "--verifier", "outcome", "--compare", "false"],
         {"seed": 4, "verifier": "outcome", "compare": False}),
    ],
)  # fmt: skip
def test_the_built_in_task_takes_the_options_that_apply_to_it(argv, expected):
    from srlkit.cli.loop import LoopArguments, task_settings
    from srlkit.cli.options import parse_options

    settings = task_settings(parse_options(LoopArguments, argv, prog="srl loop"))
    assert {k: getattr(settings, k) for k in expected} == expected

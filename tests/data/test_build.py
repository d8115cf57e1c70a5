"""The whole build: stats reconcile, split by trajectory and seed, dedup, exports, atomic outputs."""

from __future__ import annotations

import json

import pytest

from srlkit.data.build import BuildConfig, build_dataset
from srlkit.data.example import write_example
from srlkit.data.instances import InstanceOptions
from srlkit.data.reader import load_instances
from srlkit.data.schema import COL_PROMPT, COL_TARGET
from srlkit.io import DataError

SWE_GYM = "swe_gym_openhands_sampled_trajectories"


def _jsonl(path):
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def test_swe_gym_duplicates_are_dropped_and_stats_reconcile(shared_data, tmp_path):
    stats = build_dataset([shared_data / SWE_GYM], tmp_path / "out", BuildConfig(validation_size=3))
    d = json.loads((tmp_path / "out" / "stats.json").read_text())
    t = d["trajectories"]
    assert t["read"] == 18 and t["dropped"] == {"duplicate": 1} and t["kept"] == 17
    assert t["read"] == t["kept"] + t["dropped_total"] and stats.reconciles()
    assert any("getmoto__moto-6387" in e for e in t["drop_examples"]["duplicate"])
    train, val = (
        _jsonl(tmp_path / "out" / "train.jsonl"),
        _jsonl(tmp_path / "out" / "validation.jsonl"),
    )
    assert d["splits"]["validation"] == {"trajectories": 3, "instances": len(val)}
    assert d["splits"]["train"]["instances"] == len(train) and d["instances"]["total"] == len(
        train
    ) + len(val)
    assert not {r["trajectory_id"] for r in train} & {r["trajectory_id"] for r in val}
    assert d["trajectories"]["steps_per_trajectory"]["min"] >= 2


def test_split_is_deterministic_by_seed_and_independent_of_file_order(shared_data, tmp_path):
    files = [
        shared_data / "swe_smith_trajectories" / "sample_raw.json",
        shared_data / "swe_smith_trajectories" / "sample_raw.5k.a444b4b.json",
    ]
    cfg = lambda seed: BuildConfig(validation_size=3, seed=seed, parquet=False)
    val_ids = lambda out: sorted({r["trajectory_id"] for r in _jsonl(out / "validation.jsonl")})
    build_dataset(files, tmp_path / "a", cfg(0))
    build_dataset(files[::-1], tmp_path / "b", cfg(0))
    build_dataset(files, tmp_path / "c", cfg(1))
    assert (
        val_ids(tmp_path / "a") == val_ids(tmp_path / "b") and len(val_ids(tmp_path / "a")) == 2
    )  # 20% of 13 kept
    assert val_ids(tmp_path / "a") != val_ids(tmp_path / "c")


def test_every_family_builds(shared_data, tmp_path):
    inputs = [
        shared_data / "gsm8k" / "test_socratic.jsonl",
        shared_data / "math500" / "test.jsonl",
        shared_data / "s1k_questions" / "s1k.json",
        shared_data / "nebius_swe_agent_trajectories",
        shared_data / "swe_play_trajectories",
        shared_data / "swe_agent_demonstrations",
        shared_data / "swe_smith_trajectories",
        shared_data / SWE_GYM,
    ]
    stats = build_dataset(inputs, tmp_path / "all", BuildConfig(parquet=False)).to_dict()
    assert set(stats["trajectories"]["by_format"]) == {
        "gsm8k",
        "boxed",
        "s1k",
        "nebius",
        "swe_play",
        "swe_agent_traj",
        "swe_smith",
        "openai_tools",
    }
    t = stats["trajectories"]
    assert t["read"] == 1319 + 500 + 1000 + 5 + 5 + 4 + 20 + 18 == t["kept"] + t["dropped_total"]
    assert stats["splits"]["validation"]["trajectories"] == 60


def test_parquet_and_datasets_round_trip(tmp_path):
    src = tmp_path / "ex.jsonl"
    write_example(src, "agent", n=10)
    build_dataset([src], tmp_path / "out", BuildConfig(validation_size=2))
    from_jsonl = load_instances(tmp_path / "out", "train")
    from_parquet = load_instances(tmp_path / "out" / "train.parquet")
    assert from_jsonl == from_parquet and len(from_jsonl) == 8 * 4
    ds = load_instances(tmp_path / "out", "validation", as_dataset=True)
    assert len(ds) == 2 * 4 and ds[0][COL_PROMPT][0]["role"] == "system"
    assert json.loads(ds[0]["metadata"])["source_format"] == "openai_tools"
    assert ds[0][COL_TARGET].startswith("<function=execute_bash>")


def test_title_hint_and_paper_rule_through_the_build(tmp_path):
    src = tmp_path / "ex.jsonl"
    write_example(src, "math", n=10)
    cfg = BuildConfig(
        validation_size=0,
        instances=InstanceOptions(targets="paper", title_hint=True),
        parquet=False,
    )
    stats = build_dataset([src], tmp_path / "out", cfg)
    rows = _jsonl(tmp_path / "out" / "train.jsonl")
    assert stats.splits["train"].instances == len(rows) == 10 * 2
    assert (
        not rows[0][COL_TARGET].startswith("1.")
        and "is titled **Count all the" in rows[0][COL_PROMPT][1]["content"]
    )
    assert _jsonl(tmp_path / "out" / "validation.jsonl") == []


def test_interrupted_build_leaves_previous_outputs_untouched(tmp_path):
    good = tmp_path / "good.jsonl"
    write_example(good, "math", n=5)
    out = tmp_path / "out"
    build_dataset([good], out, BuildConfig(validation_size=0, parquet=False))
    before = (out / "train.jsonl").read_bytes()
    bad = tmp_path / "bad.jsonl"
    bad.write_text(good.read_text() + "{broken\n")
    with pytest.raises(DataError, match=r"bad\.jsonl:6: invalid JSON"):
        build_dataset([bad], out, BuildConfig(validation_size=0, parquet=False))
    assert (out / "train.jsonl").read_bytes() == before
    assert sorted(p.name for p in out.iterdir()) == [
        "stats.json",
        "train.jsonl",
        "train.trajectories.jsonl",
        "validation.jsonl",
        "validation.trajectories.jsonl",
    ]


def test_build_writes_the_trajectories_of_each_split(tmp_path, shared_data):
    """SFT reads the trajectories a build parsed; each split holds exactly its instances' ones."""
    from srlkit.data.reader import iter_instances, iter_trajectories

    out = tmp_path / "out"
    build_dataset([shared_data / "s1k_questions" / "s1k.json"], out, BuildConfig(parquet=False))
    for split in ("train", "validation"):
        trajectories = list(iter_trajectories(out, split))
        from_instances = {i.trajectory_id for i in iter_instances(out, split)}
        assert {t.id for t in trajectories} == from_instances and trajectories


def test_s1k_thinking_trace_is_kept_in_the_trajectory(tmp_path):
    """The s1K copy in ../shared has empty ``thinking`` fields; s1K-1.1 has full traces."""
    from srlkit.data.reader import iter_trajectories

    solution = "1. **Add** $2 + 2 = 4$.\n2. **Answer** $\\boxed{4}$"
    records = [
        {"problem": "2+2?", "solution": solution, "deepseek_thinking_trajectory": "Count up."},
        {"problem": "3+3?", "solution": solution.replace("4", "6"), "thinking": ""},
    ]
    src = tmp_path / "s1k.json"
    src.write_text(json.dumps(records), encoding="utf-8")
    build_dataset([src], tmp_path / "out", BuildConfig(parquet=False, validation_size=0))
    thinking = {t.task: t.thinking for t in iter_trajectories(tmp_path / "out", "train")}
    assert thinking == {"2+2?": "Count up.", "3+3?": ""}


def test_skip_invalid_counts_bad_lines_as_dropped(tmp_path):
    src = tmp_path / "mixed.jsonl"
    write_example(src, "math", n=4)
    src.write_bytes(
        src.read_bytes()
        + b"{broken\n\xff\xfe\n"
        + json.dumps({"problem": "p", "solution": "one"}).encode()
        + b"\n"
    )
    stats = build_dataset(
        [src], tmp_path / "out", BuildConfig(skip_invalid=True, validation_size=0, parquet=False)
    ).to_dict()
    t = stats["trajectories"]
    assert t["read"] == 7 and t["kept"] == 4 and t["dropped"] == {"invalid": 2, "too_few_steps": 1}


def test_instance_line_is_the_json_of_to_dict(shared_data):
    from srlkit.data.export import instance_line
    from srlkit.data.instances import build_instances
    from srlkit.data.loaders import load_trajectories

    trajs = load_trajectories(shared_data / "swe_smith_trajectories" / "sample_raw.json")[:2]
    trajs += load_trajectories(shared_data / "gsm8k" / "test_socratic.jsonl")[:2]
    for traj in trajs:
        for inst in build_instances(traj):
            line = instance_line(inst)
            assert line.endswith(b"}\n") and json.loads(line) == inst.to_dict()


def test_cached_metadata_texts_equal_encoding_each_one():
    from srlkit.data.export import _metadata_text, _metadata_texts
    from srlkit.data.schema import StepInstance

    metadatas = [
        {"a": 1},
        {"a": True},
        {"a": 1.0},
        {"a": 0.0},
        {"a": -0.0},
        {"a": None},
        {"b": "x", "a": 1},
        {"a": 1, "b": "x"},
        {"a": [1, 2]},
        {"a": "é"},
        {"a": 1},
        {},
    ]
    instances = [
        StepInstance(
            id=str(i),
            prompt=[],
            target="t",
            step_index=1,
            num_steps=1,
            trajectory_id="x",
            kind="agent",
            metadata=m,
        )
        for i, m in enumerate(metadatas)
    ]
    assert _metadata_texts(instances) == [_metadata_text(m) for m in metadatas]


def test_content_hash_is_frozen():
    """Golden value: the hash decides dedup and the validation split of every past build, so a
    change to it (or to what counts as content) must fail here, not silently reshuffle splits.
    Ids, metadata and thinking traces are not content."""
    from srlkit.data.build import content_hash
    from srlkit.data.schema import Step, Trajectory

    steps = [
        Step(title="Add", body="2 + 3 = 5"),
        Step(thought="t", action="echo 5", observation="5"),
    ]
    first = Trajectory(id="a", task="Compute 2+3.", steps=steps, metadata={"x": 1}, thinking="hm")
    second = Trajectory(id="b", task="Compute 2+3.", steps=list(steps))
    assert content_hash(first).hex() == "32b45200e4324733a57d76fdf50218ffe60eab8f"
    assert content_hash(second) == content_hash(first)

"""The one reader: every form of step instances, trajectories and problem records reads alike."""

from __future__ import annotations

import json

import pytest

from srlkit.data.build import BuildConfig, build_dataset
from srlkit.data.example import write_example
from srlkit.data.hub import HubSource, parse_hub_id
from srlkit.data.reader import (
    ReadSummary,
    iter_instances,
    iter_records,
    iter_trajectories,
    load_instances,
)
from srlkit.io import DataError


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("reader")
    write_example(root / "src.jsonl", "math", n=12)
    build_dataset([root / "src.jsonl"], root / "out", BuildConfig(validation_size=2))
    return root / "out"


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        ("openai/gsm8k", HubSource("openai/gsm8k")),
        ("openai/gsm8k:main", HubSource("openai/gsm8k", "main")),
        ("openai/gsm8k:main@test[:10]", HubSource("openai/gsm8k", "main", "test[:10]")),
        ("hf://HuggingFaceH4/MATH-500@test", HubSource("HuggingFaceH4/MATH-500", None, "test")),
        ("runs/data/train.jsonl", None),
        ("plainname", None),
    ],
)
def test_parse_hub_id(token, expected):
    assert parse_hub_id(token) == expected


def test_local_path_wins_over_hub_shape(tmp_path, monkeypatch):
    (tmp_path / "org").mkdir()
    (tmp_path / "org" / "name").write_text("{}\n")
    monkeypatch.chdir(tmp_path)
    assert parse_hub_id("org/name") is None


def test_every_local_form_gives_the_same_instances(built, tmp_path):
    from_folder = load_instances(built, "train")
    assert from_folder == load_instances(built / "train.jsonl")
    assert from_folder == load_instances(built / "train.parquet")
    as_array = tmp_path / "train.json"
    as_array.write_text(json.dumps([i.to_dict() for i in from_folder]), encoding="utf-8")
    assert from_folder == load_instances(as_array)
    validation = load_instances(built, "validation")
    assert validation and not {i.trajectory_id for i in validation} & {
        i.trajectory_id for i in from_folder
    }
    dataset = load_instances(built, "validation", as_dataset=True)
    assert len(dataset) == len(validation) and isinstance(dataset[0]["metadata"], str)


def test_hub_ids_go_through_datasets(built, monkeypatch):
    import datasets

    rows = [i.to_dict() for i in load_instances(built, "train")]
    calls = []

    def fake_load_dataset(name, config=None, split=None):
        calls.append((name, config, split))
        return datasets.Dataset.from_list(
            [{**r, "metadata": json.dumps(r["metadata"])} for r in rows]
        )

    monkeypatch.setattr(datasets, "load_dataset", fake_load_dataset)
    got = list(iter_instances("someorg/srl-steps:math", "validation"))
    assert [i.target for i in got] == [r["target"] for r in rows]
    assert calls == [("someorg/srl-steps", "math", "validation")]


def test_unreachable_hub_dataset_is_one_line(monkeypatch):
    import datasets

    def offline(*args, **kwargs):
        raise ConnectionError("Couldn't reach the Hub\nmore detail")

    monkeypatch.setattr(datasets, "load_dataset", offline)
    with pytest.raises(DataError, match=r"^hf://org/none: could not load the hub dataset") as info:
        list(iter_records("org/none"))
    assert "\n" not in str(info.value)


def test_minimal_instances_get_defaults_and_bad_ones_are_counted(tmp_path):
    path = tmp_path / "mine.jsonl"
    good = {"prompt": [{"role": "user", "content": "2+2?"}], "target": "1. **Add** 4"}
    lines = [
        json.dumps(good),
        json.dumps({**good, "target": ""}),
        json.dumps({**good, "kind": "robot"}),
        json.dumps({**good, "metadata": ["a", "b"]}),
        "{not json",
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    summary = ReadSummary(str(path))
    kept = list(iter_instances(path, summary=summary))
    assert len(kept) == 1 and kept[0].id == f"{path}:1" and kept[0].trajectory_id == kept[0].id
    assert summary.records_in == 5 and summary.kept == 1 and sum(summary.dropped.values()) == 4
    with pytest.raises(DataError, match=r"mine\.jsonl:2: not a step instance: 'target'"):
        list(iter_instances(path))


def test_trajectories_from_a_folder_and_a_missing_split_file(built, tmp_path):
    assert len(list(iter_trajectories(built, "validation"))) == 2
    with pytest.raises(DataError, match="no train.trajectories.jsonl here"):
        list(iter_trajectories(tmp_path, "train"))


def test_corrupt_parquet_is_one_line(tmp_path):
    bad = tmp_path / "train.parquet"
    bad.write_bytes(b"PAR1 not really")
    with pytest.raises(DataError, match=r"train\.parquet: unreadable parquet file"):
        list(iter_instances(bad))


def test_data_build_reads_a_hub_dataset(tmp_path, shared_data, monkeypatch):
    import datasets

    from srlkit.io import iter_jsonl

    rows = [rec for _, rec in iter_jsonl(shared_data / "gsm8k" / "test.jsonl")][:20]
    monkeypatch.setattr(
        datasets,
        "load_dataset",
        lambda name, config=None, split=None: datasets.Dataset.from_list(rows),
    )
    stats = build_dataset(["openai/gsm8k:main@test"], tmp_path / "out", BuildConfig(parquet=False))
    assert stats.read == 20 and stats.inputs == ["hf://openai/gsm8k:main@test"]
    assert stats.formats == {"gsm8k": stats.kept}

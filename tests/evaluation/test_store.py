"""The append-only sample file: resume, a partial last line, damage elsewhere."""

from __future__ import annotations

import json

import pytest

from srlkit.evaluation.store import SampleStore
from srlkit.io import DataError

KEY = ("problem_id", "mode", "sample_index")


def rec(pid: str, i: int = 0) -> dict:
    return {"problem_id": pid, "mode": "sample", "sample_index": i, "correct": True}


def test_append_then_reopen_resumes(tmp_path):
    path = tmp_path / "s.jsonl"
    store = SampleStore(path, KEY)
    store.append([rec("a"), rec("a", 1)])
    store.append([rec("b")])
    again = SampleStore(path, KEY)
    assert len(again) == 3
    assert ("a", "sample", 1) in again and ("b", "sample", 0) in again


def test_partial_last_line_is_cut_and_appending_continues_cleanly(tmp_path):
    path = tmp_path / "s.jsonl"
    SampleStore(path, KEY).append([rec("a"), rec("b")])
    with open(path, "a", encoding="utf-8") as f:
        f.write('{"problem_id": "c", "mode": "sam')  # killed mid-write
    store = SampleStore(path, KEY)
    assert len(store) == 2 and store.truncated_partial_line
    store.append([rec("c")])
    lines = path.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["problem_id"] for line in lines] == ["a", "b", "c"]


def test_complete_record_missing_only_its_newline_is_kept(tmp_path):
    path = tmp_path / "s.jsonl"
    path.write_text(json.dumps(rec("a")) + "\n" + json.dumps(rec("b")), encoding="utf-8")
    store = SampleStore(path, KEY)
    assert len(store) == 2 and not store.truncated_partial_line
    store.append([rec("c")])
    assert len(path.read_text(encoding="utf-8").splitlines()) == 3


def test_damaged_line_in_the_middle_is_a_located_error(tmp_path):
    path = tmp_path / "s.jsonl"
    path.write_text(
        json.dumps(rec("a")) + "\nnot json\n" + json.dumps(rec("b")) + "\n", encoding="utf-8"
    )
    with pytest.raises(DataError, match=r"s\.jsonl:2: damaged sample record"):
        SampleStore(path, KEY)


def test_record_without_key_fields_is_rejected(tmp_path):
    path = tmp_path / "s.jsonl"
    path.write_text('{"problem_id": "a"}\n', encoding="utf-8")
    with pytest.raises(DataError, match=r":1: expected a sample record"):
        SampleStore(path, KEY)

"""Raw record reading: JSONL, JSON arrays streamed element by element, single .traj objects, bad input."""

from __future__ import annotations

import json

import pytest

from srlkit.data import files
from srlkit.data.files import expand_inputs, iter_raw_records
from srlkit.io import DataError


def _write(tmp_path, name, data: bytes):
    p = tmp_path / name
    p.write_bytes(data)
    return p


def test_jsonl_records_keep_their_line_numbers(tmp_path):
    p = _write(tmp_path, "a.jsonl", b'{"a": 1}\n\n{"a": 2}\n')
    recs = list(iter_raw_records(p))
    assert [(r.record["a"], r.line, r.index) for r in recs] == [(1, 1, 1), (2, 3, 2)]
    assert recs[1].where.endswith("a.jsonl:3")


def test_json_array_is_streamed_across_chunk_boundaries(tmp_path, monkeypatch):
    monkeypatch.setattr(files, "_CHUNK", 7)  # every record straddles several chunks
    records = [{"id": i, "text": "é" * i + "x" * 30, "n": 12345} for i in range(20)]
    p = _write(
        tmp_path, "a.json", json.dumps(records, ensure_ascii=False, indent=1).encode("utf-8")
    )
    assert [r.record for r in iter_raw_records(p)] == records


def test_trailing_number_at_chunk_end_is_not_cut(tmp_path, monkeypatch):
    monkeypatch.setattr(files, "_CHUNK", 4)
    p = _write(tmp_path, "a.json", b'[{"a": 123456789}]')
    assert [r.record for r in iter_raw_records(p)] == [{"a": 123456789}]


def test_pretty_printed_single_object_is_one_record(tmp_path):
    p = _write(
        tmp_path, "run.traj", json.dumps({"trajectory": [], "history": []}, indent=2).encode()
    )
    assert [r.record for r in iter_raw_records(p)] == [{"trajectory": [], "history": []}]


@pytest.mark.parametrize(
    "data, message",
    [
        pytest.param(b"", "file is empty", id="empty"),
        pytest.param(b"  \n\n ", "only blank", id="blank"),
        pytest.param(b"hello", "expected JSON", id="not_json"),
        pytest.param(b'[{"a": 1}, {"a": ', "invalid JSON", id="truncated_array"),
        pytest.param(b'[{"a": 1} {"a": 2}]', "expected ',' or ']'", id="missing_comma"),
        pytest.param(b'[{"a": "\xff\xfe"}]', "not valid UTF-8", id="array_bad_utf8"),
    ],
)
def test_bad_files_give_one_clear_error(tmp_path, data, message):
    p = _write(tmp_path, "bad.json", data)
    with pytest.raises(DataError, match=message) as info:
        list(iter_raw_records(p))
    assert str(p) in str(info.value)


def test_bad_jsonl_lines_name_file_and_line_or_are_counted(tmp_path):
    p = _write(tmp_path, "x.jsonl", b'{"a": 1}\n{"a": \n\xff\xfe\n[1]\n{"a": 5}\n')
    with pytest.raises(DataError, match=r"x\.jsonl:2: invalid JSON"):
        list(iter_raw_records(p))
    errors: list[DataError] = []
    kept = list(iter_raw_records(p, skip_invalid=True, errors=errors))
    assert [r.record["a"] for r in kept] == [1, 5]
    assert [e.line for e in errors] == [2, 3, 4]
    assert "UTF-8" in str(errors[1]) and "expected a JSON object" in str(errors[2])


def test_huge_record_is_refused_with_the_limit_named(tmp_path):
    p = _write(tmp_path, "big.jsonl", b'{"a": "' + b"x" * 5000 + b'"}\n{"a": "small"}\n')
    with pytest.raises(DataError, match=r"record is 0.00501 MB, over the 0.001 MB limit"):
        list(iter_raw_records(p, max_record_bytes=1000))
    errors: list[DataError] = []
    assert [r.record["a"] for r in iter_raw_records(p, True, errors, max_record_bytes=1000)] == [
        "small"
    ]
    big_array = _write(tmp_path, "big.json", b'[{"a": "' + b"x" * 5000 + b'"}]')
    with pytest.raises(DataError, match="record 1 is 0.00501 MB, over"):
        list(iter_raw_records(big_array, max_record_bytes=1000))


def test_directories_expand_to_supported_files(tmp_path, shared_data):
    found = expand_inputs([shared_data / "swe_agent_demonstrations"])
    assert len(found) == 4 and all(p.suffix == ".traj" for p in found)
    with pytest.raises(DataError, match="no such file"):
        expand_inputs([tmp_path / "missing.jsonl"])
    (tmp_path / "empty_dir").mkdir()
    with pytest.raises(DataError, match="holds no"):
        expand_inputs([tmp_path / "empty_dir"])


def test_jsonl_with_a_broken_first_line_is_still_read_line_by_line(tmp_path):
    p = _write(tmp_path, "x.jsonl", b'{"a": 1,,}\n{"a": 2}\n')
    with pytest.raises(DataError, match=r"x\.jsonl:1: invalid JSON"):
        list(iter_raw_records(p))
    errors: list[DataError] = []
    assert [r.record for r in iter_raw_records(p, True, errors)] == [{"a": 2}]
    assert [e.line for e in errors] == [1]
    one_line_traj = _write(tmp_path, "compact.traj", b'{"trajectory": [], "history": []}')
    assert [r.record for r in iter_raw_records(one_line_traj)] == [
        {"trajectory": [], "history": []}
    ]

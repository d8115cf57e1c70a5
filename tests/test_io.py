import json

import pytest

from srlkit.io import DataError, atomic_write, iter_jsonl, read_text_file, write_jsonl


def test_jsonl_round_trip(tmp_path):
    path = tmp_path / "a.jsonl"
    assert write_jsonl(path, [{"a": 1}, {"b": "é"}]) == 2
    assert [r for _, r in iter_jsonl(path)] == [{"a": 1}, {"b": "é"}]


def test_invalid_line_is_located(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_bytes(b'{"a": 1}\n\n{"a": \n[1]\n\xff\xfe\n')
    with pytest.raises(DataError, match=r"bad.jsonl:3: invalid JSON"):
        list(iter_jsonl(path))
    errors: list[DataError] = []
    kept = list(iter_jsonl(path, skip_invalid=True, errors=errors))
    assert [n for n, _ in kept] == [1]
    assert [e.line for e in errors] == [3, 4, 5]
    assert "expected a JSON object" in str(errors[1]) and "UTF-8" in str(errors[2])


def test_atomic_write_leaves_old_file_on_failure(tmp_path):
    path = tmp_path / "out.json"
    path.write_text(json.dumps({"old": True}))
    with pytest.raises(RuntimeError), atomic_write(path) as f:
        f.write('{"new": ')
        raise RuntimeError("interrupted")
    assert json.loads(path.read_text()) == {"old": True}
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]


def test_read_text_file_names_the_file_and_what_it_should_be(tmp_path):
    good = tmp_path / "p.txt"
    good.write_text("  a prompt \n", encoding="utf-8")
    assert read_text_file(good, "prompt file") == "a prompt"
    with pytest.raises(DataError, match=r"missing\.txt: prompt file not found"):
        read_text_file(tmp_path / "missing.txt", "prompt file")
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"ok \xff")
    with pytest.raises(DataError, match=r"system prompt file is not valid UTF-8 \(byte 3\)"):
        read_text_file(bad, "system prompt file")

"""Builds under bad records and bad luck: every bad record a counted drop naming file:line,
outputs published as one set, killed builds cleaned up after, one-line errors for bad folders."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from srlkit.cli.main import main as srl
from srlkit.data import build as build_module
from srlkit.data import stats as stats_module
from srlkit.data.build import BuildConfig, build_dataset
from srlkit.data.reader import iter_instances
from srlkit.io import DataError

GOOD = {
    "problem": "What is 2+3?",
    "solution": "1. **Add** 2 + 3 = 5\n2. **Answer** so 5",
    "answer": "5",
}

BAD_LINES = {
    "deep_nesting": '{"problem": "p", "solution": ' + "[" * 5000 + "]" * 5000 + "}",
    "lone_surrogate": '{"problem": "p\\ud800", "solution": "1. **a** x\\n2. **b** y", "answer": "1"}',
    "problem_not_text": '{"problem": ["a"], "solution": "1. **a** x\\n2. **b** y"}',
}


def _good(i: int) -> str:
    return json.dumps({**GOOD, "problem": f"What is {i}+3?"})


def _write(path, lines):
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("case", sorted(BAD_LINES))
def test_bad_math_record_is_a_counted_drop_with_file_and_line(case, tmp_path):
    data = _write(tmp_path / "in.jsonl", [_good(1), BAD_LINES[case], _good(2)])
    stats = build_dataset(
        [data], tmp_path / "out", BuildConfig(skip_invalid=True, validation_size=0)
    )
    assert (stats.read, stats.kept, stats.dropped["invalid"]) == (3, 2, 1)
    assert stats.drop_examples["invalid"][0].startswith(f"{data}:2: ")
    with pytest.raises(DataError, match=r"in\.jsonl:2: "):
        build_dataset([data], tmp_path / "out2", BuildConfig(validation_size=0))


def test_huge_integer_is_kept_verbatim_not_a_crash(tmp_path):
    huge = "9" * 5000
    line = '{"problem": "p", "solution": "1. **a** x\\n2. **b** y", "answer": ' + huge + "}"
    data = _write(tmp_path / "in.jsonl", [line])
    stats = build_dataset([data], tmp_path / "out", BuildConfig(validation_size=0))
    assert stats.kept == 1
    [first, _] = list(iter_instances(tmp_path / "out"))
    assert first.metadata["final_answer"] == huge


def test_lone_surrogate_in_a_json_array_is_a_counted_drop(tmp_path):
    data = tmp_path / "in.json"
    data.write_text("[" + _good(1) + "," + BAD_LINES["lone_surrogate"] + "]", encoding="utf-8")
    stats = build_dataset(
        [data], tmp_path / "out", BuildConfig(skip_invalid=True, validation_size=0)
    )
    assert (stats.kept, stats.dropped["invalid"]) == (1, 1)
    assert "record 2" in stats.drop_examples["invalid"][0]


def test_agent_content_part_with_non_text_is_a_counted_drop(tmp_path):
    record = {
        "messages": [
            {"role": "user", "content": [{"type": "text", "text": "task"}]},
            {"role": "assistant", "content": [{"type": "text", "text": 5}]},
            {"role": "user", "content": "OBSERVATION: x"},
            {
                "role": "assistant",
                "content": "<function=bash>\n<parameter=command>ls</parameter>\n</function>",
            },
        ]
    }
    data = _write(tmp_path / "in.jsonl", [json.dumps(record)])
    stats = build_dataset([data], tmp_path / "out", BuildConfig(skip_invalid=True))
    assert stats.dropped["invalid"] == 1
    assert stats.drop_examples["invalid"][0].startswith(
        f"{data}:1: malformed record: content part 1"
    )


def test_metadata_that_is_not_an_object_is_refused_not_reshaped(tmp_path):
    steps = [{"body": "a"}, {"body": "b"}]
    good = {"id": "t1", "task": "t", "kind": "math", "steps": steps, "metadata": {"k": 1}}
    bad = {**good, "id": "t2", "task": "u", "metadata": ["ab", "cd"]}
    data = _write(tmp_path / "in.jsonl", [json.dumps(good), json.dumps(bad)])
    stats = build_dataset(
        [data], tmp_path / "out", BuildConfig(skip_invalid=True, validation_size=0)
    )
    assert (stats.kept, stats.dropped["invalid"]) == (1, 1)
    assert stats.drop_examples["invalid"][0] == (
        f"{data}:2: malformed record: metadata should be an object, found list"
    )


def test_math_row_with_empty_solution_is_dropped_not_read_from_its_answer(tmp_path):
    row = {"problem": "p", "solution": "", "answer": "1. **a** x\n2. **b** y"}
    data = _write(tmp_path / "in.jsonl", [_good(1), json.dumps(row)])
    stats = build_dataset([data], tmp_path / "out", BuildConfig(validation_size=0))
    assert (stats.kept, dict(stats.dropped)) == (1, {"empty_solution": 1})


def test_a_failed_build_leaves_the_previous_set_untouched(tmp_path, monkeypatch):
    out = tmp_path / "out"
    build_dataset(
        [_write(tmp_path / "a.jsonl", [_good(1), _good(2)])], out, BuildConfig(validation_size=1)
    )
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    def fail(*args, **kwargs):
        raise RuntimeError("disk went away after the splits were written")

    monkeypatch.setattr(build_module, "write_json", fail)
    bigger = _write(tmp_path / "b.jsonl", [_good(i) for i in range(10)])
    with pytest.raises(RuntimeError):
        build_dataset([bigger], out, BuildConfig(validation_size=1))
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_a_build_without_parquet_removes_the_stale_parquet_of_the_previous_one(tmp_path):
    out = tmp_path / "out"
    data = _write(tmp_path / "a.jsonl", [_good(1), _good(2)])
    build_dataset([data], out, BuildConfig(validation_size=1))
    assert (out / "train.parquet").exists()
    build_dataset([data], out, BuildConfig(validation_size=1, parquet=False))
    assert sorted(p.name for p in out.iterdir()) == [
        "stats.json",
        "train.jsonl",
        "train.trajectories.jsonl",
        "validation.jsonl",
        "validation.trajectories.jsonl",
    ]


def test_temporaries_of_a_killed_build_are_removed(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    stale_dir = out / f".staging-{int(dead.stdout)}-abc"
    stale_dir.mkdir()
    (stale_dir / "train.jsonl").write_bytes(b"x" * 1000)
    torn = out / ".train.jsonl.k2j3.tmp"
    torn.write_bytes(b"half")
    build_dataset(
        [_write(tmp_path / "a.jsonl", [_good(1), _good(2)])], out, BuildConfig(validation_size=1)
    )
    assert not stale_dir.exists() and not torn.exists()
    assert not [p for p in out.iterdir() if p.name.startswith(".")]


def test_outputs_respect_the_umask(tmp_path):
    old = os.umask(0o027)
    try:
        build_dataset(
            [_write(tmp_path / "a.jsonl", [_good(1), _good(2)])], tmp_path / "out", BuildConfig()
        )
    finally:
        os.umask(old)
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in (tmp_path / "out").iterdir()}
    assert set(modes.values()) == {0o640}, modes


def test_out_naming_a_file_is_one_line_exit_2(tmp_path, capsys):
    data = _write(tmp_path / "a.jsonl", [_good(1), _good(2)])
    (tmp_path / "f").write_text("x")
    for out in (tmp_path / "f", tmp_path / "f" / "sub"):
        assert srl(["data", "build", str(data), "--out", str(out)]) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith(f"srl: error: {out}: ") and "\n" not in err and "--out" in err


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_out_in_a_read_only_folder_is_one_line_exit_2(tmp_path, capsys):
    data = _write(tmp_path / "a.jsonl", [_good(1), _good(2)])
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        assert srl(["data", "build", str(data), "--out", str(locked)]) == 2
        assert "not writable" in capsys.readouterr().err
    finally:
        locked.chmod(0o755)


@pytest.mark.parametrize(
    "content",
    ['{"trajectories": []}', "[1, 2]", '{"trajectories": {"read": 1}}', "{not json", "[" * 5000],
)
def test_malformed_stats_file_is_one_line_exit_2(content, tmp_path, capsys):
    (tmp_path / "stats.json").write_text(content)
    with pytest.raises(DataError, match="stats.json"):
        stats_module.read_stats(tmp_path)
    assert srl(["data", "stats", str(tmp_path)]) == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_show_on_a_corrupt_parquet_or_odd_instance_is_one_line_exit_2(tmp_path, capsys):
    (tmp_path / "train.parquet").write_bytes(b"PAR1 garbage")
    assert srl(["data", "show", str(tmp_path)]) == 2
    assert "train.parquet: unreadable parquet file" in capsys.readouterr().err
    odd = {
        "id": "a",
        "prompt": ["x"],
        "target": "t",
        "step_index": 1,
        "num_steps": 2,
        "trajectory_id": "a",
    }
    (tmp_path / "train.jsonl").write_text(json.dumps(odd) + "\n")
    assert srl(["data", "show", str(tmp_path)]) == 2
    assert "train.jsonl:1: not a step instance" in capsys.readouterr().err


def test_a_full_disk_is_one_line_exit_2_and_publishes_nothing(tmp_path, monkeypatch, capsys):
    import errno

    out = tmp_path / "out"
    data = _write(tmp_path / "a.jsonl", [_good(1), _good(2)])
    build_dataset([data], out, BuildConfig(validation_size=1))
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    def no_space(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(build_module, "write_json", no_space)
    assert srl(["data", "build", str(data), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("srl: error: ") == 1 and "no space left on the device" in err
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_out_in_a_folder_the_process_may_not_write_is_one_line_exit_2(
    tmp_path, capsys, monkeypatch
):
    """The same check as above where the tests run as root (which may write anywhere): the
    permission answer is simulated, the code path is the real one."""
    from srlkit import publish

    data = _write(tmp_path / "a.jsonl", [_good(1), _good(2)])
    locked = tmp_path / "locked"
    locked.mkdir()
    monkeypatch.setattr(publish.os, "access", lambda path, mode: Path(path) != locked)
    assert srl(["data", "build", str(data), "--out", str(locked)]) == 2
    err = capsys.readouterr().err
    assert f"{locked}: output folder is not writable; choose another --out" in err
    assert not any(locked.iterdir())

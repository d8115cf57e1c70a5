"""`srl data export --format verl`: verl's schema, one row per instance, located refusals.

These need no verl (pyarrow only) and run in the main environment; what verl itself does with
the files is checked in test_verl_engine_cpu.py, in .venv-verl.
"""

from __future__ import annotations

import json

import pyarrow.parquet as pq
import pytest
from verl_helpers import build, rlvr_problems

from srlkit.cli.main import main
from srlkit.data.reader import load_instances


@pytest.mark.parametrize("kind", ["math", "agent"])
def test_one_row_per_instance_in_verl_schema(shared_data, tmp_path, capsys, kind):
    data = build(shared_data, tmp_path / "build", kind)
    out = tmp_path / "verl"
    assert main(["data", "export", str(data), "--format", "verl", "--out", str(out)]) == 0
    stats = json.loads((data / "stats.json").read_text())
    for split in ("train", "validation"):
        table = pq.read_table(out / f"{split}.parquet")
        assert table.column_names == [
            "data_source",
            "prompt",
            "ability",
            "reward_model",
            "extra_info",
        ]
        rows = table.to_pylist()
        instances = load_instances(data, split)
        assert len(rows) == len(instances) == stats["splits"][split]["instances"] > 0
        for index, (row, inst) in enumerate(zip(rows, instances)):
            assert row["prompt"] == inst.prompt
            assert row["ability"] == inst.kind == kind
            assert row["data_source"] == f"srlkit/srl_step/{kind}"
            assert row["reward_model"] == {"style": "rule", "ground_truth": inst.target}
            assert row["extra_info"] == {
                "reward": "srl_step",
                "kind": kind,
                "index": index,
                "id": inst.id,
                "split": split,
            }
    summary = json.loads((out / "export.json").read_text())
    assert [s["rows"] for s in summary["splits"]] == [
        stats["splits"]["train"]["instances"],
        stats["splits"]["validation"]["instances"],
    ]
    assert (out / "config.yaml").is_file()
    assert "(build: " in capsys.readouterr().out


def test_rlvr_keeps_checkable_golds_with_the_trl_prompt(tmp_path, capsys):
    from srlkit.training.datasets import load_rlvr_problems
    from srlkit.training.options import DEFAULT_RLVR_PROMPT

    src = rlvr_problems(tmp_path / "rlvr.jsonl")
    out = tmp_path / "verl"
    argv = ["data", "export", str(src), "--task", "rlvr", "--out", str(out)]
    assert main(argv) == 0
    rows = pq.read_table(out / "train.parquet").to_pylist()
    trl_rows, _ = load_rlvr_problems(src, DEFAULT_RLVR_PROMPT)
    assert [r["extra_info"]["id"] for r in rows] == ["p1", "p2", "p3"]
    assert [r["reward_model"]["ground_truth"] for r in rows] == ["5", "\\frac{3}{4}", "2"]
    assert [r["prompt"] for r in rows] == [t["prompt"] for t in trl_rows[:3]]
    assert {r["extra_info"]["reward"] for r in rows} == {"outcome"}
    summary = json.loads((out / "export.json").read_text())["splits"][0]
    assert summary["records_in"] == 5
    assert summary["rows"] + sum(summary["dropped"].values()) == 5
    assert summary["dropped"] == {"'answer' missing or empty": 1, "gold not checkable (proof)": 1}
    assert "dropped: 'answer' missing or empty 1" in capsys.readouterr().out


def test_continuation_layout_is_refused_naming_file_and_instance(tmp_path, capsys):
    src = tmp_path / "math.jsonl"
    record = {"problem": "What is 2 + 3?", "solution": "1. Add: 2 + 3 = 5\n2. So \\boxed{5}"}
    src.write_text(json.dumps(record) + "\n", encoding="utf-8")
    data = tmp_path / "o"
    build_argv = ["data", "build", str(src), "--out", str(data), "--validation_size", "0"]
    assert main([*build_argv, "--layout", "continuation"]) == 0
    capsys.readouterr()
    assert main(["data", "export", str(data), "--out", str(tmp_path / "verl")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "train.jsonl: instance " in err and "--layout paper" in err
    assert not (tmp_path / "verl" / "train.parquet").exists()


def test_an_unknown_format_is_one_line(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["data", "export", str(tmp_path), "--format", "openrlhf", "--out", "x"])
    assert exit_.value.code == 2
    assert "invalid choice: 'openrlhf' (choose from 'verl')" in capsys.readouterr().err

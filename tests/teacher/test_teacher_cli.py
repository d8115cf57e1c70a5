"""``srl data generate|rewrite`` from the command line: YAML config, flags, errors, then build."""

from __future__ import annotations

import json

import pytest

from srlkit.cli.main import main
from srlkit.teacher.run import RLVR_FILE, STATS_FILE, TRAJECTORIES_FILE


def test_rewrite_from_yaml_config_then_data_build_reads_the_output(
    chat_server, math500_file, tmp_path, capsys
):
    server = chat_server()
    out = tmp_path / "teacher"
    config = tmp_path / "rewrite.yaml"
    config.write_text(
        f"inputs: [{math500_file}]\nout: {out}\nteacher: {server.base_url}\n"
        "teacher_model: fake\nconcurrency: 2\nprogress: false\n",
        encoding="utf-8",
    )
    assert main(["data", "rewrite", "--config", str(config), "--concurrency", "8"]) == 0
    printed = capsys.readouterr().out
    assert "12 = kept 12 + dropped 0" in printed
    stats = json.loads((out / STATS_FILE).read_text())
    assert stats["config"]["concurrency"] == 8  # the flag wins over the YAML file
    assert (
        main(
            [
                "data",
                "build",
                str(out / TRAJECTORIES_FILE),
                "--out",
                str(tmp_path / "build"),
                "--no-parquet",
            ]
        )
        == 0
    )
    build = json.loads((tmp_path / "build" / "stats.json").read_text())
    assert build["trajectories"]["read"] == 12 and build["trajectories"]["kept"] == 12
    assert build["trajectories"]["by_format"] == {"srlkit": 12}


def test_golds_only_on_s1k_writes_verified_rlvr_rows(shared_data, tmp_path, capsys):
    out = tmp_path / "golds"
    argv = [
        "data",
        "rewrite",
        "--inputs",
        str(shared_data / "s1k_questions" / "s1k.json"),
        "--out",
        str(out),
        "--golds_only",
        "true",
        "--limit",
        "60",
    ]
    assert main(argv) == 0
    stats = json.loads((out / STATS_FILE).read_text())
    gold = stats["problems"]["gold"]
    assert sum(gold.values()) == 60 and stats["problems"]["asked"] == 0
    assert gold["checkable"] < 60 and gold.get("proof", 0) + gold.get("prose", 0) > 0
    rows = [json.loads(line) for line in (out / RLVR_FILE).read_text().splitlines()]
    assert len(rows) == gold["checkable"] == stats["problems"]["rlvr_written"]
    assert all(set(r) == {"id", "problem", "answer"} and r["answer"] for r in rows)
    assert not (out / TRAJECTORIES_FILE).exists()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        pytest.param(
            ["--out", "x", "--teacher", "m"], "give at least one input file", id="no_inputs"
        ),
        pytest.param(
            ["--inputs", "a.jsonl", "--out", "x", "--teacher", "http://localhost:1/v1"],
            "needs --teacher_model",
            id="endpoint_without_model",
        ),
        pytest.param(["--inputs", "a.jsonl", "--out", "x"], "give a teacher", id="no_teacher"),
    ],
)
def test_bad_options_are_one_line_errors(argv, message, capsys):
    assert main(["data", "generate", *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_unknown_yaml_key_is_named(tmp_path, capsys):
    config = tmp_path / "bad.yaml"
    config.write_text("inputs: [a.jsonl]\nteacher_temperature: 0.3\n", encoding="utf-8")
    assert main(["data", "generate", "--config", str(config)]) == 2
    assert "bad.yaml: unknown option(s): teacher_temperature" in capsys.readouterr().err


def test_record_without_problem_is_located(tmp_path, capsys):
    bad = tmp_path / "bad.jsonl"
    bad.write_text(
        '{"problem": "What is 1+1?", "answer": "2"}\n{"answer": "3"}\n', encoding="utf-8"
    )
    assert (
        main(
            [
                "data",
                "generate",
                "--inputs",
                str(bad),
                "--out",
                str(tmp_path / "o"),
                "--golds_only",
                "true",
            ]
        )
        == 2
    )
    assert f"{bad}:2: no problem text" in capsys.readouterr().err

"""srl report on an ``srl loop`` folder: its rounds (table, figure, totals, reading), then each
round's SRL training as runs of their own, steps counted on from the round before."""

from __future__ import annotations

import json
import re
import shutil

import pytest
from report_helpers import LOOP_ACCURACY, write_loop_run

from srlkit.cli.main import main
from srlkit.io import DataError
from srlkit.report import ReportConfig, run_report
from srlkit.report.runs import KIND_LOOP, KIND_TRAIN, load_run


def _data(page) -> dict:
    text = page.read_text(encoding="utf-8")
    block = re.search(
        r"<script type='application/json' id='srl-data'>(.*?)</script>", text, re.DOTALL
    )
    return json.loads(block.group(1))


def _report(tmp_path, *dirs) -> dict:
    out = tmp_path / "r.html"
    return _data(run_report(ReportConfig(run_dirs=[str(d) for d in dirs], out=str(out))))


def test_a_loop_folder_is_its_rounds_then_each_rounds_training(runs):
    loaded = load_run(runs["loop"])
    assert [(r.label, r.kind) for r in loaded] == [
        ("loop", KIND_LOOP),
        ("loop/round-1", KIND_TRAIN),
        ("loop/round-2", KIND_TRAIN),
    ]
    # round 2 trains on from round 1's model: its steps follow round 1's three
    assert [r.step_offset for r in loaded] == [0, 0, 3]
    assert loaded[0].summary["problems"] == 16


def test_loop_json_without_its_key_file_is_no_loop(tmp_path):
    loop = write_loop_run(tmp_path / "loop")
    (loop / "loop_key.json").unlink()
    with pytest.raises(DataError, match="no run found"):
        load_run(loop)


def test_the_loop_table_holds_each_rounds_numbers(runs, tmp_path):
    data = _report(tmp_path, runs["loop"])
    assert data["title"] == "srl report: loop (loop)"
    (loop,) = data["loops"]
    assert loop["run"] == 0
    rows = loop["rounds"]
    assert [r["round"] for r in rows] == [0, 1, 2]
    assert [r["accuracy"] for r in rows] == list(LOOP_ACCURACY)
    assert [r["sampled_from"] for r in rows] == [None, "teacher", "self"]
    assert [r["samples_asked"] for r in rows] == [None, 64, 52]
    assert [r["outcome_verified"] for r in rows] == [None, 4, 2]
    assert [r["process_failed"] for r in rows] == [None, 1, 0]
    assert rows[1]["process_failed_why"] == "misnumbered_steps 1"
    assert [r["wrongly_let_in"] for r in rows] == [None, 1, 0]
    assert [r["pool"] for r in rows] == [2, 5, 7]
    assert [r["solved"] for r in rows] == [0, 3, 5]
    assert [r["instances"] for r in rows] == [None, 12, 20]
    assert [r["instances_added"] for r in rows] == [None, 12, 8]
    assert [r["renumbered"] for r in rows] == [None, 2, 1]
    assert [r["exact_step"] for r in rows] == [0.7, 0.75, 0.75]
    totals = dict(loop["totals"])
    assert totals["sampled solutions with the right answer (outcome-verified)"] == "6"
    assert totals["... that failed the process check"] == "1 (misnumbered_steps 1)"
    assert totals["... that an outcome-only filter would have let in with a wrong chain"] == "1"
    assert totals["rollouts in SRL training"] == "48"
    assert totals["comparison: srl_expert"] == "43.8% accuracy, 8 steps, 56 rollouts"
    assert loop["reading"][0].startswith("accuracy by round: 0: 25.0%")


def test_the_loop_figure_draws_accuracy_over_the_pool_with_the_comparisons(runs, tmp_path):
    figure = _report(tmp_path, runs["loop"])["loops"][0]["figure"]
    assert figure["id"] == "loop-0"
    traces, layout = figure["figure"]["data"], figure["figure"]["layout"]
    (line,) = [t for t in traces if t["type"] == "scatter"]
    assert line["x"] == [0, 1, 2] and line["y"] == [100 * a for a in LOOP_ACCURACY]
    assert line["yaxis"] == "y2" and layout["yaxis2"]["overlaying"] == "y"
    bars = {t["name"]: t["y"] for t in traces if t["type"] == "bar"}
    # stacked by source, in the order the loop adds them
    assert bars == {"pool: expert": [2, 2, 2], "pool: teacher": [0, 3, 3], "pool: self": [0, 0, 2]}
    assert layout["barmode"] == "stack" and layout["yaxis"]["dtick"] == 1
    lines = {s["y0"] for s in layout["shapes"] if s["yref"] == "y2"}
    assert lines == {43.75, 18.75}
    assert [a["text"] for a in layout["annotations"]] == ["srl_expert: 43.8%", "rlvr_budget: 18.8%"]


def test_a_loop_without_comparisons_or_sources_still_draws(tmp_path):
    loop = write_loop_run(tmp_path / "loop")
    summary = json.loads((loop / "loop.json").read_text())
    del summary["comparisons"], summary["reading"]
    for record in summary["rounds"]:
        del record["pool"]
    (loop / "loop.json").write_text(json.dumps(summary))
    section = _report(tmp_path, loop)["loops"][0]
    layout = section["figure"]["figure"]["layout"]
    assert layout["shapes"] == [] and section["reading"] == []
    bars = [t for t in section["figure"]["figure"]["data"] if t["type"] == "bar"]
    assert [(b["name"], b["y"]) for b in bars] == [("pool size", [2, 5, 7])]


def test_a_source_never_in_the_pool_gets_no_bars(tmp_path):
    loop = write_loop_run(tmp_path / "loop")
    summary = json.loads((loop / "loop.json").read_text())
    for record in summary["rounds"]:
        record["pool"] = {"expert": 2, "teacher": 0, "self": record["round"]}
    (loop / "loop.json").write_text(json.dumps(summary))
    traces = _report(tmp_path, loop)["loops"][0]["figure"]["figure"]["data"]
    assert [t["name"] for t in traces if t["type"] == "bar"] == ["pool: expert", "pool: self"]


def test_the_rounds_training_is_drawn_round_after_round(runs, tmp_path):
    data = _report(tmp_path, runs["loop"])
    assert [r["label"] for r in data["runs"]] == ["loop", "loop/round-1", "loop/round-2"]
    loss = next(f["figure"] for f in data["training_figures"] if f["id"] == "loss")
    assert [(t["name"], t["x"]) for t in loss["data"]] == [
        ("loop/round-1", [1, 2, 3]),
        ("loop/round-2", [4, 5, 6]),
    ]
    assert {g["run"] for g in data["groups"]} == {1, 2}  # the rounds' rollouts, by round


def test_a_folder_holding_a_loop_reads_it_as_a_loop(runs, tmp_path):
    shutil.copytree(runs["loop"], tmp_path / "out" / "loop")
    assert main(["report", str(tmp_path / "out"), "--out", str(tmp_path / "r.html")]) == 0
    data = _data(tmp_path / "r.html")
    assert [r["kind"] for r in data["runs"]] == ["loop", "train", "train"]
    assert data["loops"][0]["run"] == 0 and data["runs"][1]["label"] == "out/loop/round-1"

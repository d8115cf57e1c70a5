"""srl report without a browser: reading run folders, the page's data, the command line."""

from __future__ import annotations

import difflib
import json
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st
from report_helpers import write_train_run

from srlkit.cli.main import main
from srlkit.cli.report import COMMANDS
from srlkit.io import DataError
from srlkit.report import ReportConfig, run_report
from srlkit.report.page import _script_json
from srlkit.report.payload import _spread, rollout_groups
from srlkit.report.runs import KIND_DEMO, KIND_EVAL, KIND_TRAIN, load_run
from srlkit.rewards.similarity import matching_blocks, sequence_matcher_ratio


def _data(page_text: str) -> dict:
    block = re.search(
        r"<script type='application/json' id='srl-data'>(.*?)</script>", page_text, re.DOTALL
    )
    return json.loads(block.group(1))


@given(
    st.text(alphabet="ab c=1", max_size=60), st.text(alphabet="ab c=1", max_size=60), st.booleans()
)
def test_matching_blocks_are_what_the_ratio_counts(prediction, reference, autojunk):
    blocks = matching_blocks(prediction, reference, autojunk)
    for i, j, n in blocks:
        assert prediction[i : i + n] == reference[j : j + n]
    total = len(prediction) + len(reference)
    expected = sequence_matcher_ratio(prediction, reference, autojunk)
    assert (2 * sum(n for _, _, n in blocks) / total if total else 1.0) == expected


def test_autojunk_changes_the_blocks_as_it_changes_the_reward():
    pred, ref = "c" + "ab " * 100, "ab " * 100
    assert sum(n for *_, n in matching_blocks(pred, ref, autojunk=False)) == 300
    junk = difflib.SequenceMatcher(None, pred, ref, autojunk=True).get_matching_blocks()
    assert matching_blocks(pred, ref, autojunk=True) == [tuple(b) for b in junk if b[2]]


def test_run_kinds_are_recognised(runs, tmp_path):
    assert [r.kind for r in load_run(runs["train"])] == [KIND_TRAIN]
    assert [r.kind for r in load_run(runs["eval"])] == [KIND_EVAL]
    assert [r.kind for r in load_run(runs["demo"])] == [KIND_DEMO]
    (tmp_path / "pipeline").mkdir()
    for stage in ("srl", "rlvr"):
        write_train_run(tmp_path / "pipeline" / stage, steps=2)
    stages = load_run(tmp_path / "pipeline")
    assert [r.label for r in stages] == ["pipeline/rlvr", "pipeline/srl"]


def test_a_folder_without_a_run_is_one_clear_error(tmp_path):
    with pytest.raises(DataError, match="no run found"):
        load_run(tmp_path)
    with pytest.raises(DataError, match="not a folder"):
        load_run(tmp_path / "missing")


def test_bad_group_record_names_file_and_line(tmp_path):
    run = write_train_run(tmp_path / "run", steps=1)
    with open(run / "rollouts.jsonl", "a", encoding="utf-8") as f:
        f.write(json.dumps({"step": 2}) + "\n")
    with pytest.raises(DataError, match=r"rollouts\.jsonl:4: expected a group record"):
        load_run(run)


def test_a_cut_off_last_line_is_counted_not_fatal(tmp_path):
    run = write_train_run(tmp_path / "run", steps=2)
    with open(run / "rollouts.jsonl", "a", encoding="utf-8") as f:
        f.write('{"split": "train", "step": 3, "rol')  # a run killed while writing
    (loaded,) = load_run(run)
    assert loaded.skipped_lines == 1 and len(loaded.groups) == 6


def test_thinning_keeps_groups_evenly_and_says_how_many_were_logged(tmp_path):
    (run,) = load_run(write_train_run(tmp_path / "run", steps=20, groups=3, G=4))
    groups, total = rollout_groups([run], max_rollouts=40)
    assert total == sum(len(g["rollouts"]) for g in run.groups)
    assert sum(len(g["rollouts"]) for g in groups) == 40
    steps = [g["step"] for g in groups]
    assert steps[0] == 1 and steps[-1] == 20 and steps == sorted(steps)
    assert _spread(list(range(10)), 4) == [0, 3, 6, 9]


def test_page_is_self_contained_and_its_data_cannot_close_the_script(tmp_path):
    run = write_train_run(tmp_path / "run", steps=2)
    history = (run / "metrics.jsonl").read_text()
    (run / "metrics.jsonl").write_text(
        history + json.dumps({"step": 3, "loss": float("nan")}) + "\n"
    )
    page = run_report(ReportConfig(run_dirs=[str(run)]))
    assert page == run / "report.html"
    text = page.read_text(encoding="utf-8")
    head = text[: text.index("<body>")]
    assert "<link" not in head and "src=" not in head and "<style>" in head
    assert (
        text.count("<script>") >= 2 and "Plotly" in text
    )  # plotly.js and the page's script, inline
    # (that the opened page requests nothing from the network is checked in the browser tests)
    data = _data(text)
    assert len(data["groups"]) == 6 and data["runs"][0]["kind"] == "train"
    assert (
        _script_json({"x": "</script><script>alert(1)</script>", "y": float("inf")}).count("<") == 0
    )
    assert json.loads(_script_json({"x": "</script>", "y": float("nan")})) == {
        "x": "</script>",
        "y": None,
    }


def test_cli_positional_runs_out_and_labels(runs, tmp_path, capsys):
    out = tmp_path / "cmp.html"
    argv = [
        "report",
        str(runs["train"]),
        str(runs["eval"]),
        "--out",
        str(out),
        "--labels",
        "SRL",
        "eval",
    ]
    assert main(argv) == 0
    assert str(out) in capsys.readouterr().out
    data = _data(out.read_text(encoding="utf-8"))
    assert [r["label"] for r in data["runs"]] == ["SRL", "eval"]
    assert len(data["eval_table"]) == 2


def parse_report_args(argv):
    from srlkit.cli.options import parse_options
    from srlkit.report import ReportConfig

    command = COMMANDS["report"]
    return parse_options(ReportConfig, argv, prog=command.prog, positionals=command.positionals)


def test_cli_config_file_and_errors(runs, tmp_path, capsys):
    recipe = tmp_path / "report.yaml"
    recipe.write_text(f"run_dirs: [{runs['train']}]\nmax_rollouts: 8\ntitle: mine\n")
    config = parse_report_args(["--config", str(recipe), "--out", str(tmp_path / "x.html")])
    assert (
        config.run_dirs == [str(runs["train"])]
        and config.max_rollouts == 8
        and config.title == "mine"
    )
    assert main(["report", str(tmp_path / "nothing")]) == 2
    assert capsys.readouterr().err.startswith("srl: error:")
    assert main(["report", str(runs["train"]), "--labels", "a", "b"]) == 2
    recipe.write_text("run_dir: [x]\n")
    with pytest.raises(DataError, match="unknown option.*run_dir"):
        parse_report_args(["--config", str(recipe)])

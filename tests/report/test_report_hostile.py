"""srl report on hostile and odd input: one line naming the file, never a traceback; the page
says exactly what the reward said, with the reward's bound on work; nothing is rendered as
markup; --max_rollouts holds; pipelines, demos and eval-steps folders read as people expect."""

from __future__ import annotations

import json
import os
import re
import time

import pytest
from report_helpers import write_loop_run, write_train_run

from srlkit.cli.main import main
from srlkit.io import DataError, write_json, write_jsonl
from srlkit.report import ReportConfig, run_report
from srlkit.report.payload import rollout_groups, rollout_row
from srlkit.report.runs import load_run
from srlkit.rewards.srl import srl_step_reward
from srlkit.training.rollout_log import MatchSettings, rollout_entry


def _data(page) -> dict:
    text = page.read_text(encoding="utf-8")
    block = re.search(
        r"<script type='application/json' id='srl-data'>(.*?)</script>", text, re.DOTALL
    )
    return json.loads(block.group(1))


def _over_budget_pair() -> tuple[str, str]:
    # 16,000 characters (under the reward's 16,384-character action limit) whose matching
    # needs more than the reward's 100M steps: difflib took minutes on the pair.
    return "ab" * 8000, "ba" * 8000


def test_the_highlight_says_over_budget_exactly_when_the_reward_did_and_as_fast():
    """Before: difflib without a budget printed 2M/T ~ 1.0 after minutes; the reward said 0.0."""
    action, target = _over_budget_pair()
    completion = f"<think>t</think>{action}"
    (reward,) = srl_step_reward([completion], target=[target])
    assert reward == 0.0
    entry = rollout_entry(completion, {"target": target}, {"srl_step": reward}, reward,
                          MatchSettings(), 40_000)  # fmt: skip
    start = time.perf_counter()
    row = rollout_row(entry, {"autojunk": False, "metric": "sequence_matcher"})
    assert time.perf_counter() - start < 5.0
    assert row["over_budget"] is True and row["blocks"] == []
    # under budget, the blocks give the reward to the last bit
    short = f"<think>t</think>{action[:2000]}"
    (reward,) = srl_step_reward([short], target=[target[:2000]])
    row = rollout_row(
        rollout_entry(short, {"target": target[:2000]}, {}, reward, MatchSettings(), 40_000),
        {"autojunk": False, "metric": "sequence_matcher", "max_steps": 100_000_000},
    )
    matched = sum(n for *_, n in row["blocks"])
    assert row["over_budget"] is False and 2 * matched / 4000 == reward


def test_a_group_larger_than_max_rollouts_is_thinned_too(tmp_path):
    """Before: one group of 50 rollouts with --max_rollouts 10 embedded all 50 (200,000 did too)."""
    run = write_train_run(tmp_path / "run", steps=2, groups=1, G=50)
    (loaded,) = load_run(run)
    groups, total = rollout_groups([loaded], max_rollouts=10)
    assert total == 100 and 0 < sum(len(g["rollouts"]) for g in groups) <= 10
    groups, _ = rollout_groups([loaded], max_rollouts=0)
    assert groups == []


def _hostile_train_run(path, case):
    run = write_train_run(path, steps=2)
    metrics = (run / "metrics.jsonl").read_text()
    rollouts = [json.loads(line) for line in (run / "rollouts.jsonl").read_text().splitlines()]
    if case == "metric_steps":
        extra = ['{"step": null, "loss": 1}', '{"step": "3", "loss": 1}', '{"step": NaN}',
                 '{"step": 1e400}', '"a string"', '[1, 2]', '{"step": true, "loss": 2}']  # fmt: skip
        (run / "metrics.jsonl").write_text(metrics + "\n".join(extra) + "\n")
        return run, None
    if case == "string_rollouts":
        rollouts[0]["rollouts"] = ["just text", 5]
        write_jsonl(run / "rollouts.jsonl", rollouts)
        return run, "rollouts.jsonl:1"
    if case == "compared_without_reference":
        rollouts[0]["rollouts"][0]["compared"] = {"prediction": "x"}
        rollouts[1]["rollouts"][0]["compared"] = "text"
        rollouts[1]["rollouts"][1].update(completion=7, action=["a"], reward="high", rewards=[1])
        rollouts[2]["matcher"] = {"max_steps": "many", "autojunk": "yes"}
        write_jsonl(run / "rollouts.jsonl", rollouts)
        return run, None
    if case == "best_as_list":
        (run / "best_checkpoint.json").write_text("[1, 2]")
        return run, "best_checkpoint.json"
    if case == "best_huge_int":
        (run / "best_checkpoint.json").write_text('{"step": ' + "9" * 5000 + "}")
        return run, "best_checkpoint.json"
    if case == "best_step_string":
        (run / "best_checkpoint.json").write_text('{"step": "6", "value": "x"}')
        return run, "best_checkpoint.json"
    if case == "group_step_null":
        rollouts[0]["step"] = None
        write_jsonl(run / "rollouts.jsonl", rollouts)
        return run, "rollouts.jsonl:1"
    if case == "not_utf8":
        (run / "best_checkpoint.json").write_bytes(b'{"step": "\xff"}')
        return run, "best_checkpoint.json"
    raise AssertionError(case)


TRAIN_CASES = ["metric_steps", "string_rollouts", "compared_without_reference", "best_as_list",
               "best_huge_int", "best_step_string", "group_step_null", "not_utf8"]  # fmt: skip


@pytest.mark.parametrize("case", TRAIN_CASES)
def test_malformed_training_files_are_one_line_or_read(tmp_path, capsys, case):
    """Before: each of these was a traceback (TypeError, ValueError, AttributeError)."""
    run, names = _hostile_train_run(tmp_path / "run", case)
    code = main(["report", str(run), "--out", str(tmp_path / "r.html")])
    err = capsys.readouterr().err
    if names is None:
        assert code == 0 and err == ""
        assert _data(tmp_path / "r.html")["runs"][0]["kind"] == "train"
    else:
        assert code == 2 and err.count("\n") == 1 and names in err, err


def _eval_summary(path, summary):
    (path / "samples").mkdir(parents=True)
    write_json(path / "summary.json", summary)
    write_jsonl(path / "samples" / "a.jsonl", [{"benchmark": 5, "prompt": ["x"], "correct": "y"}])
    return path


@pytest.mark.parametrize(
    "summary",
    [
        {"benchmarks": {"a": {"greedy": [1], "sampled": "x", "n_problems": "many"}}},
        {"benchmarks": {"a": {"sampled": {"pass@k": {"x": 1, "2": "y", "9" * 30: 1}}}}},
        {"benchmarks": {"a": {"greedy": {"accuracy": "0.5", "mean_tokens": None}}}},
    ],
)
def test_eval_summary_values_of_the_wrong_type_are_shown_as_missing(tmp_path, summary, capsys):
    """Before: AttributeError / ValueError tracebacks from the table and the bars."""
    run = _eval_summary(tmp_path / "eval", summary)
    assert main(["report", str(run), "--out", str(tmp_path / "r.html")]) == 0
    (row,) = _data(tmp_path / "r.html")["eval_table"]
    numbers = {k: v for k, v in row.items() if k != "benchmark"}
    assert all(v is None or type(v) in (int, float) for v in numbers.values()), numbers


@pytest.mark.parametrize(
    ("summary", "what"),
    [([1, 2], "found a JSON list"), ({"benchmarks": [1]}, "'benchmarks'"),
     ({"benchmarks": {"a": 3}}, "'benchmarks'")],
)  # fmt: skip
def test_an_eval_summary_of_the_wrong_shape_is_one_line(tmp_path, capsys, summary, what):
    run = _eval_summary(tmp_path / "eval", summary)
    assert main(["report", str(run)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "summary.json" in err and what in err


def test_out_a_folder_and_undecodable_names_and_titles(tmp_path, capsys):
    """Before: IsADirectoryError, and UnicodeEncodeError for a non-UTF-8 folder name or title."""
    run = write_train_run(tmp_path / "run", steps=2)
    assert main(["report", str(run), "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--out is a folder" in err
    odd = os.fsdecode(bytes(tmp_path) + b"/r\xffun")
    os.rename(run, odd)
    title = os.fsdecode(b"caf\xe9 \xff")
    assert main(["report", odd, "--title", title, "--out", str(tmp_path / "r.html")]) == 0
    data = _data(tmp_path / "r.html")
    assert data["title"] == "caf\ufffd \ufffd" and data["runs"][0]["label"] == "r\ufffdun"


def test_markup_in_names_reaches_plotly_as_plain_text(tmp_path):
    """Before: a metric key ``<a href=...>`` became a link in the figure (plotly reads markup)."""
    run = write_train_run(tmp_path / "run", steps=2)
    with open(run / "metrics.jsonl", "a", encoding="utf-8") as f:
        f.write(json.dumps({"step": 2, "eval_<a href='https://x.example'>click</a>": 0.5}) + "\n")
    page = run_report(ReportConfig(run_dirs=[str(run)], labels=["<b>bold</b>"],
                                   out=str(tmp_path / "r.html")))  # fmt: skip
    figures = json.dumps([f["figure"] for f in _data(page)["training_figures"]])
    assert "<a href" not in figures and "<b>" not in figures
    assert "&lt;a href='https://x.example'&gt;click&lt;/a&gt;" in figures


def test_step_ticks_are_whole_numbers_without_repeats(tmp_path):
    """Before: ``tickformat: d`` on plotly's half-step ticks printed "2 3 3 4 4"."""
    run = write_train_run(tmp_path / "run", steps=4)
    page = run_report(ReportConfig(run_dirs=[str(run)], out=str(tmp_path / "r.html")))
    axis = _data(page)["training_figures"][0]["figure"]["layout"]["xaxis"]
    assert axis["tickmode"] == "linear" and axis["dtick"] == 1


def test_a_pipeline_runs_its_stages_in_order_and_keeps_outcome_reward_apart(tmp_path):
    """Before: stages sorted by name (rlvr first), both from step 1, and the outcome reward
    (0/1) drawn in the step-similarity panel."""
    root = tmp_path / "pipe"
    write_train_run(root / "srl", steps=4)
    rlvr = write_train_run(root / "rlvr", steps=3)
    lines = [json.loads(x) for x in (rlvr / "metrics.jsonl").read_text().splitlines()]
    for line in lines:  # RLVR with a format reward beside the outcome reward
        line["rewards/outcome/mean"] = line.get("reward", 0)
        line["rewards/format/mean"] = 0.5
    write_jsonl(rlvr / "metrics.jsonl", lines)
    write_json(root / "pipeline.json", {"stages": [{"stage": "srl"}, {"stage": "rlvr"}]})
    runs = load_run(root)
    assert [r.label for r in runs] == ["pipe/srl", "pipe/rlvr"]
    assert [r.step_offset for r in runs] == [0, 4]
    data = _data(run_report(ReportConfig(run_dirs=[str(root)], out=str(tmp_path / "r.html"))))
    figures = {f["id"]: f["figure"] for f in data["training_figures"]}
    assert [t["name"] for t in figures["reward"]["data"] if "±" not in t["name"]] == ["pipe/srl"]
    outcome = [t for t in figures["outcome_reward"]["data"] if "±" not in t["name"]]
    assert [t["name"] for t in outcome] == ["pipe/rlvr"] and outcome[0]["x"] == [5, 6, 7]


def test_the_demo_is_labelled_by_method_and_names_no_run_per_row(runs, tmp_path):
    """Before: the demo's curve was named after its folder ("demo")."""
    data = _data(
        run_report(ReportConfig(run_dirs=[str(runs["demo"])], out=str(tmp_path / "r.html")))
    )
    names = [t["name"] for f in data["training_figures"] for t in f["figure"]["data"]]
    assert "SRL" in names and "demo" not in names


def test_eval_steps_folders_are_recognised(tmp_path):
    """Before: "no run found" for an `srl eval-steps` folder."""
    out = tmp_path / "steps"
    out.mkdir()
    write_json(out / "summary.json", {"n_instances": 2, "mean_reward": 0.25,
               "mean_similarity_formatted": 0.5, "format_failure_rate": 0.5,
               "exact_match_rate": 0.0})  # fmt: skip
    write_jsonl(out / "steps.jsonl", [
        {"id": "a", "target": "x = 1", "completion": "<think>t</think>x = 2", "action": "x = 2",
         "format_ok": True, "format_reason": None, "reward": 0.8, "exact_match": False},
        {"id": "b", "target": "y", "completion": "no", "action": "", "format_ok": False,
         "format_reason": "no think block", "reward": -1.0, "exact_match": False},
    ])  # fmt: skip
    data = _data(run_report(ReportConfig(run_dirs=[str(out)], out=str(tmp_path / "r.html"))))
    assert data["runs"][0]["kind"] == "eval-steps"
    assert data["steps_table"][0]["mean_reward"] == 0.25 and len(data["samples"]) == 2


def test_demo_results_of_the_wrong_structure_are_one_line(runs, tmp_path, capsys):
    import shutil

    demo = tmp_path / "demo"
    shutil.copytree(runs["demo"], demo)
    results = json.loads((demo / "results.json").read_text())
    results["srl"] = "broken"
    results["histories"] = [1]
    write_json(demo / "results.json", results)
    code = main(["report", str(demo), "--out", str(tmp_path / "r.html")])
    err = capsys.readouterr().err
    assert code in (0, 2) and (code == 0 or (err.count("\n") == 1 and "results.json" in err))
    with pytest.raises(DataError, match="results.json"):
        write_json(demo / "results.json", [1])
        load_run(demo)


def test_an_action_over_the_rewards_length_limit_says_why_it_scored_zero():
    """Before: the page showed the pair with no reason for the reward's 0.0."""
    completion = "<think>t</think>" + "x" * 20_000
    (reward,) = srl_step_reward([completion], target=["x = 1"])
    assert reward == 0.0
    entry = rollout_entry(completion, {"target": "x = 1"}, {"srl_step": reward}, reward,
                          MatchSettings(), 4_000)  # fmt: skip
    row = rollout_row(entry, {"autojunk": False, "metric": "sequence_matcher"})
    assert "blocks" not in row and "20000 characters" in row["not_compared"]
    assert "16384" in row["not_compared"]


def test_bar_value_labels_hide_rather_than_overlap_and_the_legend_leaves_the_axis_title(
    runs, tmp_path
):
    """Before: outside labels of narrow grouped bars overlapped, and the legend under the plot
    covered the x-axis title."""
    data = _data(run_report(ReportConfig(run_dirs=[str(runs["demo"]), str(runs["eval"])],
                                         out=str(tmp_path / "r.html"))))  # fmt: skip
    for item in data["result_figures"]:
        layout = item["figure"]["layout"]
        assert layout["uniformtext"] == {"minsize": 9, "mode": "hide"}
        assert layout["legend"]["y"] >= 1 and layout["legend"]["yanchor"] == "bottom"
        assert all(trace["cliponaxis"] is False for trace in item["figure"]["data"])


def _hostile_loop(path, change) -> None:
    loop = write_loop_run(path, train_steps=1)
    summary = json.loads((loop / "loop.json").read_text())
    change(summary)
    (loop / "loop.json").write_text(json.dumps(summary))


def _set_in(keys, value):
    def change(summary):
        owner = summary
        for key in keys[:-1]:
            owner = owner[key]
        owner[keys[-1]] = value

    return change


LOOP_SHAPES = {
    "rounds_a_string": (_set_in(["rounds"], "three"), "'rounds' to be a list, found a string"),
    "a_round_a_list": (_set_in(["rounds", 1], [1, 2]), "'rounds[1]' to be an object"),
    "verification_a_list": (_set_in(["rounds", 1, "verification"], [1]),
                            "'rounds[1].verification' to be an object"),
    "process_failed_a_number": (_set_in(["rounds", 2, "verification", "process_failed"], 3),
                                "'rounds[2].verification.process_failed' to be an object"),
    "pool_a_string": (_set_in(["rounds", 0, "pool"], "x"), "'rounds[0].pool'"),
    "eval_a_number": (_set_in(["rounds", 1, "eval"], 0.5), "'rounds[1].eval'"),
    "filters_a_list": (_set_in(["filters"], [1]), "'filters' to be an object"),
    "filters_failed_true": (_set_in(["filters", "process_failed"], True),
                            "'filters.process_failed' to be an object, found true/false"),
    "comparisons_a_list": (_set_in(["comparisons"], [1]), "'comparisons' to be an object"),
    "a_comparison_a_string": (_set_in(["comparisons", "rlvr\n<b>"], "x"),
                              'comparison "rlvr\\n<b>" to be an object'),
    "reading_a_string": (_set_in(["reading"], "a sentence"), "'reading' to be a list"),
    "curve_an_object": (_set_in(["curve"], {}), "'curve' to be a list"),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(LOOP_SHAPES))
def test_loop_json_of_the_wrong_shape_is_one_line_naming_it(tmp_path, capsys, case):
    change, what = LOOP_SHAPES[case]
    _hostile_loop(tmp_path / "loop", change)
    assert main(["report", str(tmp_path / "loop"), "--out", str(tmp_path / "r.html")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "loop.json: expected " in err and what in err, err


@pytest.mark.parametrize(
    ("text", "what"),
    [("[1, 2]", "found a JSON list"), ('{"rounds": [{"round": 1e5', "invalid JSON"),
     ('{"problems": ' + "9" * 5000 + "}", "unreadable JSON"), (b'{"x": "\xff"}', "unreadable")],
)  # fmt: skip
def test_an_unreadable_loop_json_is_one_line(tmp_path, capsys, text, what):
    loop = write_loop_run(tmp_path / "loop", train_steps=1)
    if isinstance(text, bytes):
        (loop / "loop.json").write_bytes(text)
    else:
        (loop / "loop.json").write_text(text)
    assert main(["report", str(loop), "--out", str(tmp_path / "r.html")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "loop.json" in err and what in err, err


def _odd_values(summary):
    first, second = summary["rounds"][1], summary["rounds"][2]
    first.update(round="1", samples_asked=None, sampled_from=["x"], pool_size=float("nan"),
                 instances=10**300, newly_solved=True, unsolved_before=float("inf"))  # fmt: skip
    first["eval"]["accuracy"] = "0.5"
    first["pool"] = {"self": True, "teacher": "3", "<a href='x'>odd</a>": 2}
    first["verification"]["process_failed"] = {"reason": "many", "<b>why</b>": 2}
    second["round"] = 10**300
    summary["rounds"][0]["round"] = True
    summary["comparisons"]["<a href='https://x.example'>c</a>"] = {"accuracy": 0.5}
    summary["comparisons"]["rlvr_budget"]["accuracy"] = 2e308
    summary["comparisons"]["srl_expert"]["accuracy"] = "high"
    summary["filters"].update(outcome_verified="six", kept=[5])
    summary["reading"] = [1, {"a": "<b>"}, None, "<script>x</script>"]
    summary["problems"] = -1e400


def test_loop_values_of_the_wrong_type_are_shown_as_missing_and_as_text(tmp_path, capsys):
    """Numbers that are strings, booleans, NaN or beyond any float, and markup in names."""
    _hostile_loop(tmp_path / "loop", _odd_values)
    assert main(["report", str(tmp_path / "loop"), "--out", str(tmp_path / "r.html")]) == 0
    assert capsys.readouterr().err == ""
    (loop,) = _data(tmp_path / "r.html")["loops"]
    rows = loop["rounds"]
    assert [r["round"] for r in rows] == [None, None, 1e300]
    assert rows[1]["accuracy"] is None and rows[1]["pool"] is None
    assert rows[1]["unsolved_before"] is None and rows[1]["newly_solved"] is None
    assert rows[1]["sampled_from"] == '["x"]' and rows[1]["instances"] == 1e300
    assert rows[1]["process_failed"] == 2 and rows[1]["process_failed_why"] == "<b>why</b> 2"
    for row in rows:
        assert all(v is None or type(v) in (int, float, str) for v in row.values()), row
    totals = dict(loop["totals"])
    assert totals["problems"] == "-" and totals["... kept in the pool"] == "-"
    assert loop["reading"] == ["1", '{"a": "<b>"}', "", "<script>x</script>"]
    figure = json.dumps(loop["figure"])
    assert "<a href" not in figure and "&lt;a href='https://x.example'&gt;c&lt;/a&gt;" in figure
    traces = loop["figure"]["figure"]["data"]
    assert [t["x"] for t in traces] == [[1e300]] * len(traces)  # the one round numbered

"""benchmarks/paper_table.py on the quick demo student: every row trains, scores and tabulates.

The full table takes an hour of CPU; this runs each of its nine rows for two GRPO steps so that
a broken row fails here rather than twenty minutes into a real run.
"""

from __future__ import annotations

import json
import statistics
import sys
from dataclasses import replace
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "benchmarks"))

import paper_table
from srlkit.demo.run import quick_config
from srlkit.demo.sft import SFTSettings
from srlkit.demo.student import build_student
from srlkit.demo.tasks import held_out_problems


@pytest.mark.slow
def test_every_row_runs_resumes_and_is_tabulated(tmp_path, capsys):
    quick = quick_config()
    student = build_student(quick.student, tmp_path / "cache")
    config = paper_table.TableConfig(
        train_problems=8,
        test_problems=4,
        srl=replace(quick.srl, show_progress=False),
        rlvr=replace(quick.rlvr, show_progress=False),
        sft=SFTSettings(epochs=1.0, batch_size=4),
    )
    out = tmp_path / "table"
    test = held_out_problems()[: config.test_problems]
    runner = paper_table.Runner(out, config, student, test, seed=0)
    results = {method: runner.run(method) for method in paper_table.METHODS}
    for method, result in results.items():
        assert result["n"] == 4 and 0 <= result["accuracy"] <= 1, method
        assert Path(result["model_dir"]).is_dir(), method
    srl_rows = [h for h in results["srl"]["history"] if "reward" in h]
    assert len(srl_rows) == config.srl.steps  # trained on continuation instances, scored
    # A second runner reuses every finished row instead of training again.
    again = paper_table.Runner(out, config, student, test, seed=0)
    assert again.run("srl_rlvr") == json.loads((out / "seed0" / "srl_rlvr.json").read_text())
    assert paper_table.report(out, [0], paper_table.METHODS) == 0
    table = (out / "table.md").read_text()
    for label in paper_table.LABELS.values():
        assert f"| {label} |" in table
    assert "Not finished" not in table


def test_accuracy_standard_error_is_not_pooled_over_seeds():
    """Same test problems for every seed: the untrained base keeps its one-test-set error."""
    same = [{"accuracy": 0.1, "n": 256}] * 3
    assert paper_table.accuracy_cell(same) == "10.0 ± 1.9 (10.0, 10.0, 10.0)"
    spread = [{"accuracy": a, "n": 256} for a in (0.1, 0.2, 0.3)]
    assert paper_table.accuracy_cell(spread) == "20.0 ± 5.8 (10.0, 20.0, 30.0)"


def test_paired_contrast_counts_only_the_problems_where_methods_differ():
    base = [{"seed": s, "correct_by_problem": [1, 0, 0, 0]} for s in (0, 1)]
    better = [
        {"seed": 0, "correct_by_problem": [1, 1, 0, 0]},
        {"seed": 1, "correct_by_problem": [1, 1, 1, 0]},
    ]
    diff, se = paper_table.paired_contrast(better, base)
    # per-problem differences averaged over seeds: 0, 1, 0.5, 0 -> mean 0.375
    assert diff == pytest.approx(0.375)
    assert se == pytest.approx(statistics.stdev([0, 1, 0.5, 0]) / 2)
    # seeds are matched by number, not position; a run without outcomes gives no contrast
    assert paper_table.paired_contrast(list(reversed(better)), base) == (diff, se)
    assert paper_table.paired_contrast(better, [{"seed": 0}, {"seed": 1}]) is None
    results = {"srl": better, "base": base}
    line = paper_table.contrast_lines(results)[0]
    assert line.startswith("- SRL - base student, accuracy: +37.5 points (paired SE")

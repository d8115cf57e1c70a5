"""The regime calibration: the mildest level at which the base is starved, measured, and the
fresh draws that follow it (no problem chosen by how a model did on it)."""

from __future__ import annotations

from pathlib import Path

import pytest

from srlkit.demo import regime
from srlkit.demo.data import FILES, draw_problems, write_demo_data
from srlkit.demo.tasks import HARD, LADDER, Difficulty
from srlkit.io import iter_jsonl


def _stub_measure(monkeypatch, pass_rates: list[float]) -> list[Difficulty]:
    measured: list[Difficulty] = []

    def measure(student, difficulty, out_dir, problems, samples, max_new_tokens, batch_size=64):
        measured.append(difficulty)
        rate = pass_rates[len(measured) - 1]
        return {
            "difficulty": {},
            "describe": difficulty.describe(),
            "problems": problems,
            f"pass@{samples}": rate,
            f"avg@{samples}": rate / 4,
        }

    monkeypatch.setattr(regime, "measure_level", measure)
    return measured


def test_the_first_level_at_or_below_the_threshold_is_chosen(monkeypatch, tmp_path):
    measured = _stub_measure(monkeypatch, [0.9, 0.4, 1 / 32, 0.0])
    result = regime.calibrate("student", tmp_path, 192)
    assert measured == list(LADDER[:3])  # stops at the first starved level (1/32 <= 1/32)
    assert result["chosen"] == 2 and result["regime_met"] is True
    assert regime.difficulty_of(result) == LADDER[2]
    assert [lvl["pass@8"] for lvl in result["levels"]] == [0.9, 0.4, 1 / 32]


def test_no_starved_level_uses_the_hardest_and_says_so(monkeypatch, tmp_path):
    _stub_measure(monkeypatch, [0.9] * len(LADDER))
    result = regime.calibrate("student", tmp_path, 192, threshold=0.05)
    assert result["chosen"] == len(LADDER) - 1
    assert result["regime_met"] is False
    assert result["threshold"] == 0.05


def test_draws_are_fresh_disjoint_and_fixed_by_the_seed(tmp_path: Path):
    train, test = draw_problems(HARD, 40, 30, seed=3)
    assert not {p.question for p in train} & {p.question for p in test}
    again = draw_problems(HARD, 40, 30, seed=3)
    assert [p.question for p in again[1]] == [p.question for p in test]
    other = draw_problems(HARD, 40, 30, seed=4)
    assert [p.question for p in other[1]] != [p.question for p in test]


def test_demo_data_files_hold_what_each_command_reads(tmp_path: Path):
    data = write_demo_data(tmp_path, HARD, 6, 5, seed=0)
    records = {k: [r for _, r in iter_jsonl(tmp_path / f)] for k, f in FILES.items()}
    assert {k: len(v) for k, v in records.items()} == data.counts
    assert data.counts["trajectories"] == 6 and data.counts["test_problems"] == 5
    steps = sum(len(r["steps"]) for r in records["trajectories"])
    assert data.counts["instances"] == steps  # one SRL instance per expert step
    sft = records["sft"][0]
    assert sft["prompt"] == records["solve"][0]["prompt"]
    assert sft["completion"][0]["content"].endswith(records["solve"][0]["answer"] + "}")
    from srlkit.data.schema import StepInstance

    assert all(StepInstance.from_dict(r).continues_answer for r in records["instances"])


@pytest.mark.parametrize("bad", ["0,x", "1,1", ","])
def test_bad_seed_lists_are_one_line_errors(bad):
    from srlkit.cli.demo import DemoArguments, parse_seeds

    with pytest.raises(SystemExit, match="--seeds expects"):
        parse_seeds(DemoArguments(seeds=bad))


@pytest.mark.parametrize(("load", "expected"), [(0.1, 2), (0.9, 1), (1.6, 1), (5.0, 1)])
def test_warm_start_threads_follow_the_idle_cores(monkeypatch, load, expected):
    """Two threads only where both cores are idle: beside one busy process a two-thread warm
    start is slower than a one-thread one (docs/benchmarks.md)."""
    from srlkit.cli import demo

    monkeypatch.setattr(demo.os, "cpu_count", lambda: 2)
    monkeypatch.setattr(demo.os, "getloadavg", lambda: (load, load, load))
    assert demo.idle_cores() == expected


def test_a_seed_folder_of_another_difficulty_or_student_starts_afresh(tmp_path: Path):
    """Trained runs belong to the data they were trained on: when the calibration picks another
    level (another ladder, another student) the seed's runs must not be reused."""
    from srlkit.demo.run import DemoConfig, _prepare_seed

    config = DemoConfig()
    folder = _prepare_seed(tmp_path, 0, config, "student-a", LADDER[-1])
    (folder / "runs").mkdir()
    assert _prepare_seed(tmp_path, 0, config, "student-a", LADDER[-1]) == folder
    assert (folder / "runs").is_dir()  # same inputs: resumed
    _prepare_seed(tmp_path, 0, config, "student-a", LADDER[-2])
    assert not (folder / "runs").exists()  # another difficulty: emptied
    (folder / "runs").mkdir()
    _prepare_seed(tmp_path, 0, config, "student-b", LADDER[-2])
    assert not (folder / "runs").exists()  # another student: emptied


def test_earlier_invocations_are_kept_only_for_the_same_settings(tmp_path: Path):
    """A resumed demo keeps the time of the run that did the work; a folder last used with
    other settings contributes nothing."""
    import dataclasses
    import json

    from srlkit.demo.results import _previous_invocations
    from srlkit.demo.run import DemoConfig

    config = DemoConfig()
    path = tmp_path / "results.json"
    assert _previous_invocations(path, config.seed_key()) == []  # no earlier run
    saved = json.loads(json.dumps(dataclasses.asdict(config)))
    path.write_text(json.dumps({"config": saved, "total_s": 371.0, "timings_s": {}}))
    assert _previous_invocations(path, config.seed_key()) == [{"timings_s": {}, "total_s": 371.0}]
    more_seeds = dataclasses.replace(config, seeds=(0, 1, 2))
    assert (
        len(_previous_invocations(path, more_seeds.seed_key())) == 1
    )  # adding seeds resumes the folder
    other = dataclasses.replace(config, train_problems=16)
    assert _previous_invocations(path, other.seed_key()) == []
    path.write_text("{not json")
    assert _previous_invocations(path, config.seed_key()) == []

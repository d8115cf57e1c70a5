"""A demo folder's stage files name its model relative to the folder, so a copied or moved
demo folder evaluates its own model, and resuming works from any working directory.

The heavy stages (student, GRPO, evaluation) are replaced by recorders: what is tested here is
only which model path the evaluation stage receives."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from srlkit.demo import run as demo_run
from srlkit.demo.run import quick_config, run_demo
from srlkit.demo.train import TrainResult


def _fake_stages(monkeypatch, tmp_path: Path) -> list[str]:
    evaluated: list[str] = []
    student = tmp_path / "student"
    student.mkdir(exist_ok=True)

    def fake_grpo(student_dir, run_dir, dataset, reward, settings, name):
        model = Path(run_dir) / "model"
        model.mkdir(parents=True, exist_ok=True)
        (model / "weights").write_text(str(run_dir))
        return TrainResult(model_dir=model, history=[])

    def fake_evaluate(model_dir, problems, instances, settings, label):
        evaluated.append(str(model_dir))
        return {"accuracy_greedy": 0.0}

    monkeypatch.setattr(demo_run, "build_student", lambda *a, **k: student)
    monkeypatch.setattr(demo_run, "run_grpo", fake_grpo)
    monkeypatch.setattr(demo_run, "srl_dataset", lambda instances, model_dir: instances)
    monkeypatch.setattr(demo_run, "evaluate_model", fake_evaluate)
    monkeypatch.setattr(demo_run, "_student_summary", lambda path: {})
    return evaluated


def test_a_copied_demo_folder_evaluates_its_own_model(tmp_path, monkeypatch):
    evaluated = _fake_stages(monkeypatch, tmp_path)
    monkeypatch.chdir(tmp_path)
    config = quick_config()
    run_demo("original", config)
    stage = json.loads((tmp_path / "original" / "stages" / "train_srl.json").read_text())
    assert not Path(stage["model_dir"]).is_absolute() and not stage["model_dir"].startswith(
        "original"
    )

    shutil.copytree(tmp_path / "original", tmp_path / "copy")
    (tmp_path / "copy" / "stages" / "eval_srl.json").unlink()  # the copy re-evaluates
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # resumed from another working directory
    evaluated.clear()
    run_demo(str(tmp_path / "copy"), config)
    assert evaluated == [str(tmp_path / "copy" / "runs" / "srl" / "model")]

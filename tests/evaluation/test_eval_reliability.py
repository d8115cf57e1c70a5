"""Evaluation outputs never collide between models; a missing model is one line, not a hub error."""

from __future__ import annotations

import pytest

from srlkit.cli.eval import default_out
from srlkit.evaluation.backends import load_backend
from srlkit.io import DataError


def testdefault_output_folders_differ_for_models_with_the_same_last_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for name in ("a/model", "b/model", "a/checkpoint-4", "b/checkpoint-4"):
        (tmp_path / name).mkdir(parents=True)
        (tmp_path / name / "config.json").write_text("{}")
    outs = {
        m: default_out(m, "math")
        for m in ("a/model", "b/model", "a/checkpoint-4", "b/checkpoint-4")
    }
    assert len(set(outs.values())) == 4
    assert outs["a/model"].startswith("eval_results/model-") and outs["a/model"].endswith("-math")
    # The same model named two ways (relative, absolute) is one folder, so resuming finds it.
    assert default_out(str(tmp_path / "a" / "model"), "math") == outs["a/model"]
    assert default_out("a/model/", "math") == outs["a/model"]


@pytest.mark.parametrize("reference", ["runs/x/model", "/no/such/model", "./model"])
def test_a_missing_model_folder_is_one_line(reference):
    with pytest.raises(DataError, match="no such model folder; check the model argument"):
        load_backend("hf", reference)


def test_a_name_that_is_neither_folder_nor_hub_model_is_one_line(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(DataError, match="not a local model folder, and not loadable from the hub"):
        load_backend("hf", "no-such-org/no-such-model")


def test_a_folder_without_a_model_is_one_line(tmp_path):
    with pytest.raises(DataError, match="holds no config.json"):
        load_backend("hf", str(tmp_path))

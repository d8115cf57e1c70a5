"""report_to backends: a missing package fails in one line, before any model is loaded."""

from __future__ import annotations

import importlib.util

import pytest

from srlkit.cli.main import main
from srlkit.io import DataError
from srlkit.training.logging_backends import check_report_to

_real_find_spec = importlib.util.find_spec


def _without(*missing):
    def find_spec(name, *args, **kwargs):
        return None if name in missing else _real_find_spec(name, *args, **kwargs)

    return find_spec


@pytest.mark.parametrize(
    "report_to, extra",
    [("tensorboard", "'srlkit[tensorboard]'"), (["wandb"], "'srlkit[wandb]'")],
    ids=["tensorboard_string", "wandb_list"],
)
def test_missing_backend_names_its_extra(monkeypatch, report_to, extra):
    monkeypatch.setattr(
        importlib.util, "find_spec", _without("tensorboard", "tensorboardX", "wandb")
    )
    with pytest.raises(DataError) as err:
        check_report_to(report_to)
    assert f"pip install {extra}" in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize("report_to", [None, [], ["none"], "all", ["my_own_backend"]])
def test_nothing_to_install(monkeypatch, report_to):
    monkeypatch.setattr(
        importlib.util, "find_spec", _without("tensorboard", "tensorboardX", "wandb")
    )
    check_report_to(report_to)


def test_installed_backend_passes(monkeypatch):
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a, **k: object() if name == "tensorboardX" else None,
    )
    check_report_to(["tensorboard"])  # tensorboardX is enough for transformers' writer


def test_srl_train_fails_in_one_line_before_loading_the_model(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(importlib.util, "find_spec", _without("tensorboard", "tensorboardX"))
    argv = [
        "train", "srl",
        "--model_name_or_path", str(tmp_path / "no-such-model"),  # loading it would fail otherwise
        "--train_file", str(tmp_path / "no-such-data.jsonl"),
        "--output_dir", str(tmp_path / "run"),
        "--use_cpu", "true", "--bf16", "false",
        "--report_to", "tensorboard",
    ]  # fmt: skip
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "pip install 'srlkit[tensorboard]'" in err[0]
    assert not (tmp_path / "run").exists()

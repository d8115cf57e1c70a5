"""A multi-GPU accelerate launch on a machine without GPUs: one line from rank 0, silence from
the rest, before any option is parsed; the README's step 2 and the 7B recipes fail so."""

from __future__ import annotations

from pathlib import Path

import pytest

from srlkit.cli.main import main
from srlkit.io import DataError
from srlkit.training.launch_check import check_gpu_launch

ROOT = Path(__file__).resolve().parents[2]
GPU_LAUNCH = {"WORLD_SIZE": "8", "ACCELERATE_USE_CPU": "False", "LOCAL_RANK": "0", "RANK": "0"}


def test_rank_zero_explains_in_one_line_and_the_other_ranks_are_quiet():
    with pytest.raises(DataError) as err:
        check_gpu_launch(GPU_LAUNCH, cuda_available=False)
    message = str(err.value)
    assert "\n" not in message and "8 GPU processes" in message and "recipes/tiny" in message
    with pytest.raises(SystemExit) as quiet:
        check_gpu_launch({**GPU_LAUNCH, "LOCAL_RANK": "3"}, cuda_available=False)
    assert quiet.value.code == 2


@pytest.mark.parametrize(
    "environ",
    [{}, {"WORLD_SIZE": "2"}, {**GPU_LAUNCH, "ACCELERATE_USE_CPU": "True"}],
    ids=["one_process", "torchrun_on_cpu", "accelerate_use_cpu"],
)
def test_other_launches_are_not_refused(environ):
    check_gpu_launch(environ, cuda_available=False)
    check_gpu_launch(GPU_LAUNCH, cuda_available=True)


def test_the_readme_step_2_on_a_cpu_machine(monkeypatch, capsys):
    """Before: each of the 8 processes parsed the 7B recipe and failed on bf16 on its own."""
    for key, value in GPU_LAUNCH.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setattr("torch.cuda.is_available", lambda: False)
    recipe = ROOT / "recipes" / "qwen2.5-7b-instruct" / "srl" / "config.yaml"
    assert main(["train", "srl", "--config", str(recipe)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "recipes/tiny" in err and "<input>" not in err


def test_a_missing_logger_package_is_named_without_a_placeholder_file():
    """Before: ``<input>: report_to includes 'tensorboard' ...``."""
    from srlkit.training.logging_backends import BACKENDS, check_report_to

    missing = next(
        (name for name, (packages, _) in BACKENDS.items() if not _installed(packages)), None
    )
    if missing is None:
        pytest.skip("every logger package is installed here")
    with pytest.raises(DataError) as err:
        check_report_to([missing])
    assert str(err.value).startswith("report_to includes")


def _installed(packages) -> bool:
    import importlib.util

    return any(importlib.util.find_spec(p) is not None for p in packages)

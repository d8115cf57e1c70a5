"""Each method trains a few steps on the tiny model, changes its weights and leaves a full run folder."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import torch
from training_helpers import tiny_argv

from srlkit.cli.main import main
from srlkit.training.config import parse_method_args
from srlkit.training.runner import run

pytestmark = pytest.mark.slow


def _weights(path: Path) -> dict[str, torch.Tensor]:
    from safetensors.torch import load_file

    return load_file(str(path / "model.safetensors"))


def _changed(before: Path, after: Path) -> list[str]:
    a, b = _weights(before), _weights(after)
    return [k for k in a if not torch.equal(a[k], b[k])]


def _metrics(run_dir: Path) -> list[dict]:
    return [
        json.loads(line)
        for line in (run_dir / "metrics.jsonl").read_text(encoding="utf-8").splitlines()
    ]


def _outcome_mean(line: dict) -> float | None:
    """TRL logs ``rewards/<function name>/mean``; the outcome reward's name starts with "outcome"."""
    return next(
        (v for k, v in line.items() if k.startswith("rewards/outcome") and k.endswith("/mean")),
        None,
    )


def test_srl_trains_validates_and_records_best_checkpoint(tmp_path, tiny_model_dir, srl_data):
    out = tmp_path / "srl"
    argv = [
        "train",
        "srl",
        *tiny_argv(
            "srl",
            tiny_model_dir,
            out,
            "--train_file",
            str(srl_data["train"]),
            "--eval_file",
            str(srl_data["validation"]),
        ),
    ]
    assert main(argv) == 0
    assert _changed(tiny_model_dir, out), "SRL did not change any parameter"
    for name in (
        "config.yaml",
        "resolved_config.json",
        "data_summary.json",
        "metrics.jsonl",
        "run_summary.json",
    ):
        assert (out / name).exists(), name
    data = json.loads((out / "data_summary.json").read_text(encoding="utf-8"))
    train = data["train"]
    assert train["records_in"] == train["kept"] + sum(train["dropped"].values())
    lines = _metrics(out)
    train_lines = [m for m in lines if "loss" in m and "eval_reward" not in m]
    assert [m["step"] for m in train_lines] == [1, 2, 3, 4]
    assert all("dynamic_sampling/kept_fraction" in m for m in train_lines)
    evals = {m["step"]: m["eval_reward"] for m in lines if "eval_reward" in m}
    assert sorted(evals) == [2, 4]
    best = json.loads((out / "best_checkpoint.json").read_text(encoding="utf-8"))
    best_step = max(evals, key=lambda s: (evals[s], -s))  # transformers keeps the first of equals
    assert best["step"] == best_step and best["value"] == pytest.approx(evals[best_step])
    assert Path(best["path"]).name == f"checkpoint-{best_step}" and Path(best["path"]).is_dir()
    # the rollout log: sampled groups of every training step and of each validation pass
    groups = [json.loads(line) for line in (out / "rollouts.jsonl").read_text().splitlines()]
    assert {g["step"] for g in groups if g["split"] == "train"} == {1, 2, 3, 4}
    assert {g["step"] for g in groups if g["split"] == "eval"} == {2, 4}
    assert all(g["target"] and len(g["rollouts"]) > 1 for g in groups)
    assert main(["report", str(out)]) == 0  # and `srl report` renders the real run folder
    page = (out / "report.html").read_text(encoding="utf-8")
    assert '"kind":"train"' in page and f'"best":{{"step":{best_step},' in page


def test_rlvr_learns_from_the_outcome_reward(tmp_path, tiny_model_dir):
    """A toy task the untrained model sometimes gets right: the outcome reward alone moves weights.

    Every gold answer is 7 and generation is biased towards the token "7", so some rollouts end
    with the right number and others do not: groups pass the paper's 0 < #correct < G filter.
    """
    problems = tmp_path / "toy.jsonl"
    problems.write_text(
        "".join(
            json.dumps({"question": f"What is {a} + {7 - a}?", "answer": "7"}) + "\n"
            for a in range(7)
        ),
        encoding="utf-8",
    )
    out = tmp_path / "rlvr-toy"
    extra = [
        "--train_file",
        str(problems),
        "--eval_file",
        "",
        "--max_steps",
        "2",
        "--generation_kwargs",
        json.dumps({"sequence_bias": [[[27], 2.0]]}),
    ]
    run(parse_method_args("rlvr", tiny_argv("rlvr", tiny_model_dir, out, *extra)))
    assert _changed(tiny_model_dir, out), "RLVR did not change any parameter"
    means = [_outcome_mean(m) for m in _metrics(out) if _outcome_mean(m) is not None]
    assert len(means) == 2 and any(0 < v < 1 for v in means)  # some rollouts right, some wrong
    # the rollout log pairs each rollout's extracted answer with the gold one, and its verdict
    groups = [json.loads(line) for line in (out / "rollouts.jsonl").read_text().splitlines()]
    rollouts = [r for g in groups for r in g["rollouts"]]
    assert groups and all(g["answer"] == "7" and g["target"] is None for g in groups)
    assert all("extracted" in r and "compared" not in r for r in rollouts)
    assert any(r["extracted"] == "7" and r["reward"] == 1.0 for r in rollouts)


@pytest.mark.parametrize("mode", ["full", "outline"])
def test_sft_trains_on_trajectories(tmp_path, tiny_model_dir, srl_data, mode):
    out = tmp_path / f"sft-{mode}"
    args = parse_method_args(
        "sft",
        tiny_argv(
            "sft",
            tiny_model_dir,
            out,
            "--train_file",
            str(srl_data["trajectories"]),
            "--sft_mode",
            mode,
            "--max_steps",
            "2",
        ),
    )
    run(args)
    assert _changed(tiny_model_dir, out), "SFT did not change any parameter"
    assert [m["step"] for m in _metrics(out) if "loss" in m] == [1, 2]


def test_sft_with_lora_trains_the_adapter_and_merges_for_the_next_stage(
    tmp_path, tiny_model_dir, srl_data
):
    from safetensors.torch import load_file
    from transformers import AutoModelForCausalLM

    from srlkit.training.checkpoints import loadable_model_path

    out = tmp_path / "sft-lora"
    args = parse_method_args(
        "sft",
        tiny_argv(
            "sft",
            tiny_model_dir,
            out,
            "--train_file",
            str(srl_data["trajectories"]),
            "--max_steps",
            "2",
            "--eval_file",
            str(srl_data["val_trajectories"]),
            "--use_peft",
            "--lora_r",
            "4",
            "--lora_alpha",
            "8",
            "--lora_target_modules",
            "q_proj",
            "v_proj",
        ),
    )
    result = run(args)
    adapter = load_file(str(out / "adapter_model.safetensors"))
    lora_b = [v for k, v in adapter.items() if "lora_B" in k]
    assert lora_b and any(v.abs().sum() > 0 for v in lora_b), (
        "LoRA B starts at zero and must have moved"
    )
    assert not (out / "model.safetensors").exists()
    assert json.loads((out / "adapter_config.json").read_text(encoding="utf-8"))["r"] == 4

    merged = loadable_model_path(result.best_checkpoint, tmp_path / "merged")
    assert merged == str(tmp_path / "merged")
    model = AutoModelForCausalLM.from_pretrained(
        merged
    )  # an ordinary model: the next stage's start
    assert not any("lora" in name for name, _ in model.named_parameters())
    assert _changed(tiny_model_dir, Path(merged)), (
        "the merged model must carry the adapter's update"
    )


def test_lora_adapter_records_an_absolute_base_path(
    tmp_path, tiny_model_dir, srl_data, monkeypatch
):
    """Trained from a relative model path, the adapter still names its base from any folder."""
    import shutil

    shutil.copytree(tiny_model_dir, tmp_path / "base")
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "runs" / "sft-lora"
    args = parse_method_args(
        "sft",
        tiny_argv("sft", Path("base"), out, "--train_file", str(srl_data["trajectories"]))
        + [
            "--max_steps",
            "1",
            "--use_peft",
            "--lora_r",
            "2",
            "--lora_target_modules",
            "q_proj",
            "v_proj",
        ],
    )
    run(args)
    config = json.loads((out / "adapter_config.json").read_text(encoding="utf-8"))
    assert config["base_model_name_or_path"] == str((tmp_path / "base").resolve())


def test_srl_trains_on_continuation_instances(tmp_path, tiny_model_dir, srl_data):
    """`--layout continuation` instances: TRL gets text prompts that continue the answer, and
    the step reward scores each rollout's first step (the log shows what it compared)."""
    from transformers import AutoTokenizer

    from srlkit.data.instances import InstanceOptions, build_instances
    from srlkit.data.schema import Trajectory
    from srlkit.evaluation.prompts import render_prompt
    from srlkit.io import iter_jsonl, write_jsonl

    trajectories = [Trajectory.from_dict(r) for _, r in iter_jsonl(srl_data["trajectories"])]
    options = InstanceOptions(layout="continuation")
    instances = [i for t in trajectories for i in build_instances(t, options)]
    train = tmp_path / "continuation.jsonl"
    write_jsonl(train, (i.to_dict() for i in instances))
    out = tmp_path / "srl"
    argv = ["train", "srl", *tiny_argv("srl", tiny_model_dir, out, "--train_file", str(train))]
    assert main(argv) == 0
    assert _changed(tiny_model_dir, out), "SRL did not change any parameter"
    groups = [json.loads(line) for line in (out / "rollouts.jsonl").read_text().splitlines()]
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    rendered = {i.target: render_prompt(tokenizer, i.prompt) for i in instances}
    for group in groups:  # the model saw its opened answer, not a fresh assistant turn
        assert group["prompt"][-40:] == rendered[group["target"]][-40:]
    rollouts = [r for g in groups for r in g["rollouts"]]
    assert rollouts and all(r["reward"] is not None for r in rollouts)
    for r in rollouts:
        if r["format_ok"]:  # the action stops where the next numbered step would begin
            assert not re.search(r"\n\s*\d+\.\s", r["action"])
        else:
            assert r["reward"] == -1.0

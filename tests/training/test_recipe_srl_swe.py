"""The software-agent recipe's own path, end to end on CPU: data step, SRL training, step validation.

Runs ``recipes/qwen2.5-coder-7b-instruct/srl_swe``: its ``prepare_data.sh`` on a slice of the real
SWE-smith trajectories in ../shared/data, then ``srl train srl`` with its ``config.yaml`` (only the
model, the sizes and the GPU-only settings overridden, listed in ``CPU_OVERRIDES``), then
``srl eval-steps`` on the validation split, as docs/agents.md tells a user to.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from training_helpers import REPO_ROOT

from srlkit.cli.main import main
from srlkit.data.actions import parse_action
from srlkit.training.config import load_recipe, parse_method_args
from srlkit.training.runner import run

pytestmark = pytest.mark.slow

RECIPE = REPO_ROOT / "recipes" / "qwen2.5-coder-7b-instruct" / "srl_swe"
# What a CPU run of a 7B recipe must change: the model, the batch and length sizes, and the
# GPU-only settings. Everything else (data flags, dynamic sampling with adaptive refill, greedy
# validation with one rollout per instance, the reward, the loss) is the recipe's.
CPU_OVERRIDES = {
    "dtype": "float32",
    "bf16": False,
    "use_cpu": True,
    "use_vllm": False,
    "gradient_checkpointing": False,
    "per_device_train_batch_size": 8,
    "gradient_accumulation_steps": 1,
    "num_generations": 4,
    "per_device_eval_batch_size": 2,
    "max_completion_length": 12,
    "max_steps": 2,
    "eval_steps": 1,
    "save_steps": 1,
    "max_eval_samples": 2,
    "learning_rate": 1e-3,
    "report_to": "none",
    "disable_tqdm": True,
    "dataloader_num_workers": 0,
    # the untrained tiny model never closes <think>: score leniently and favour </think> (id 4),
    # as recipes/tiny does, so rewards spread and groups carry signal
    "reward_funcs": {"srl_step": {"lenient": True}},
    "generation_kwargs": {"sequence_bias": [[[4], 5.0]]},
}


@pytest.fixture(scope="module")
def swe_model(tmp_path_factory, shared_data) -> Path:
    """A tiny Qwen2 whose tokenizer was trained on SWE-smith text (long prompts stay short)."""
    from srlkit.models.tiny import TinyModelConfig, build_tiny_model

    corpus = []
    for path in sorted((shared_data / "swe_smith_trajectories").glob("*.json")):
        for record in json.loads(path.read_text(encoding="utf-8")):
            messages = record["messages"]
            messages = json.loads(messages) if isinstance(messages, str) else messages
            corpus += [m["content"] for m in messages if isinstance(m.get("content"), str)]
    corpus += ["<think>", "</think>"]
    config = TinyModelConfig(max_position_embeddings=16384)
    return build_tiny_model(tmp_path_factory.mktemp("swe_model"), corpus, config)


@pytest.fixture(scope="module")
def swe_build(tmp_path_factory, shared_data) -> Path:
    """The recipe's data step on one real SWE-smith file (5 trajectories), as documented."""
    out = tmp_path_factory.mktemp("swe_data") / "swe_smith"
    raw = shared_data / "swe_smith_trajectories" / "sample_raw.json"
    env = {**os.environ, "PYTHON": sys.executable, "PYTHONPATH": str(REPO_ROOT / "src")}
    result = subprocess.run(
        ["bash", str(RECIPE / "prepare_data.sh"), str(raw), str(out)],
        env=env,
        capture_output=True,
        check=False,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return out


def test_data_step_builds_action_targets_with_two_rounds_of_history(swe_build):
    stats = json.loads((swe_build / "stats.json").read_text(encoding="utf-8"))
    traj = stats["trajectories"]
    assert traj["read"] == 5 == traj["kept"] + traj["dropped_total"]
    assert stats["splits"]["validation"]["trajectories"] == 1  # 30 asked, capped at 20% of 5
    assert stats["config"]["instances"]["history_rounds"] == 2
    assert stats["config"]["instances"]["include_source_system"] is True
    rows = [json.loads(x) for x in (swe_build / "train.jsonl").read_text().splitlines()]
    val = [json.loads(x) for x in (swe_build / "validation.jsonl").read_text().splitlines()]
    assert rows and val
    assert {r["trajectory_id"] for r in rows}.isdisjoint({r["trajectory_id"] for r in val})
    assert len({r["trajectory_id"] for r in rows + val}) == 5
    for row in rows + val:
        assert row["kind"] == "agent"
        assert row["target"] == parse_action(row["target"]).canonical_text()
        assert row["target"].startswith("<function=")
        roles = [m["role"] for m in row["prompt"]]
        assert roles[:2] == ["system", "user"]
        assert roles.count("assistant") <= 2  # the paper's last two (action, observation) rounds
        assert "BEGIN FUNCTION" in row["prompt"][0]["content"]  # the scaffold's tool docs
    first_steps = [r for r in rows if r["step_index"] == 1]
    assert all(m["role"] != "assistant" for r in first_steps for m in r["prompt"])


def test_recipe_trains_validates_greedily_and_step_eval_runs(swe_build, swe_model, tmp_path):
    recipe = load_recipe(RECIPE / "config.yaml")
    assert recipe["refill_size"] == "adaptive" and recipe["eval_greedy"] is True
    recipe.update(CPU_OVERRIDES)
    recipe.update(
        model_name_or_path=str(swe_model),
        train_file=str(swe_build / "train.jsonl"),
        eval_file=str(swe_build / "validation.jsonl"),
    )
    out = tmp_path / "srl_swe"
    args = parse_method_args("srl", ["--output_dir", str(out)], recipe)
    assert args.train.num_generations_eval == 1 and args.train.max_generation_rounds == 5
    result = run(args)

    summary = json.loads((out / "run_summary.json").read_text(encoding="utf-8"))
    assert summary["complete"] and summary["global_step"] == 2
    lines = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines()]
    assert any("dynamic_sampling/rollouts_per_kept_rollout" in x for x in lines)
    evals = [x for x in lines if "eval_reward" in x]
    assert len(evals) == 2 and all(-1.0 <= x["eval_reward"] <= 1.0 for x in evals)
    saved = json.loads((out / "resolved_config.json").read_text(encoding="utf-8"))["train"]
    assert saved["refill_size"] == "adaptive" and saved["eval_greedy"] is True
    assert result.best_checkpoint is not None

    steps_out = tmp_path / "steps"
    code = main(
        [
            "eval-steps",
            str(out),
            str(swe_build),
            "--out",
            str(steps_out),
            "--limit",
            "3",
            "--max-new-tokens",
            "8",
            "--lenient",
        ]
    )
    assert code == 0
    steps = json.loads((steps_out / "summary.json").read_text(encoding="utf-8"))
    assert steps["n_instances"] == 3 and steps["mean_reward"] is not None


def test_data_step_without_a_hub_is_one_line_naming_the_local_path_option(tmp_path):
    """Before: a raw ConnectionError traceback (after 25 s of retries)."""
    env = {**os.environ, "PYTHON": sys.executable, "PYTHONPATH": str(REPO_ROOT / "src"),
           "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf")}  # fmt: skip
    result = subprocess.run(
        ["bash", str(RECIPE / "prepare_data.sh")],
        cwd=tmp_path, env=env, capture_output=True, check=False, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 2, result.stderr[-2000:]
    assert "Traceback" not in result.stderr and result.stderr.count("\n") == 1
    assert "give a local file or folder" in result.stderr
    usage = subprocess.run(
        ["bash", str(RECIPE / "prepare_data.sh"), "--help"],
        capture_output=True, check=True, text=True, timeout=60,
    )  # fmt: skip
    assert "Without network, give RAW" in usage.stdout
    script = (RECIPE / "prepare_data.sh").read_text()
    assert not [flag for flag in script.split() if flag.startswith("--") and "-" in flag[2:]]

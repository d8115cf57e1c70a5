"""Recipes and overrides: one dataclass set is the YAML schema and the CLI flags."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from srlkit.io import DataError
from srlkit.training.config import load_recipe, parse_method_args
from srlkit.training.pipeline import split_stage_argv, stage_recipes
from srlkit.training.runner import parse_reward_spec, save_run_config

REPO = Path(__file__).resolve().parents[2]


def test_paper_defaults_without_a_recipe(tmp_path):
    srl = parse_method_args("srl", ["--output_dir", str(tmp_path), "--bf16", "false"])
    t = srl.train
    assert (t.learning_rate, t.num_generations, t.temperature, t.beta, t.max_grad_norm) == (
        5e-7,
        8,
        1.0,
        0.0,
        1.0,
    )
    assert t.warmup_steps == 0 and t.epsilon == 0.2 and t.lr_scheduler_type == "constant"
    assert srl.run.resume == "auto" and srl.run.max_prompt_length == 2048
    sft = parse_method_args("sft", ["--output_dir", str(tmp_path), "--bf16", "false"]).train
    assert (sft.learning_rate, sft.lr_scheduler_type, sft.warmup_steps, sft.num_train_epochs) == (
        5e-6,
        "cosine",
        0.3,
        3.0,
    )
    rlvr = parse_method_args("rlvr", ["--output_dir", str(tmp_path), "--bf16", "false"]).train
    assert rlvr.max_completion_length == 2048 and rlvr.learning_rate == 5e-7


def test_recipe_then_cli_override(tmp_path):
    recipe = REPO / "recipes" / "tiny" / "srl" / "config.yaml"
    args = parse_method_args(
        "srl",
        [
            "--config",
            str(recipe),
            "--output_dir",
            str(tmp_path),
            "--learning_rate",
            "0.5",
            "--use_peft",
            "--lora_r",
            "4",
        ],
    )
    assert args.train.learning_rate == 0.5  # the command line wins over the recipe
    assert args.train.max_steps == 4 and args.train.num_generations == 4  # from the recipe
    assert args.model.use_peft and args.model.lora_r == 4
    assert args.run.reward_funcs == {"srl_step": {"lenient": True}}  # YAML mappings pass through
    assert (
        args.given["learning_rate"] == 0.5
        and args.given["max_steps"] == 4
        and args.given["lora_r"] == 4
    )
    assert "num_train_epochs" not in args.given  # only what the recipe or command line set


def test_unknown_recipe_key_names_file_and_key(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("learning_rate: 1.0e-6\nlearnig_rate: 2\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"bad\.yaml.*learnig_rate"):
        parse_method_args("srl", ["--config", str(bad), "--output_dir", str(tmp_path)])


def test_invalid_yaml_is_located(tmp_path):
    bad = tmp_path / "broken.yaml"
    bad.write_text("a: 1\nb: [unclosed\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"broken\.yaml:\d+: invalid YAML"):
        load_recipe(bad)


def test_relative_paths_resolve_against_recipe_then_repo(tmp_path, monkeypatch):
    import srlkit.training.config as config_module

    (tmp_path / "recipes" / "data").mkdir(parents=True)
    (tmp_path / "recipes" / "data" / "train.jsonl").write_text("{}\n", encoding="utf-8")
    fake_repo = tmp_path / "repo"
    (fake_repo / "extra").mkdir(parents=True)
    (fake_repo / "extra" / "test.jsonl").write_text("{}\n", encoding="utf-8")
    monkeypatch.setattr(config_module, "REPO_ROOT", fake_repo)
    recipe = tmp_path / "recipes" / "r.yaml"
    recipe.write_text(
        "train_file: data/train.jsonl\neval_file: extra/test.jsonl\n"
        "model_name_or_path: Qwen/Qwen2.5-7B-Instruct\nenv: {SRLKIT_TEST_ENV: yes}\n",
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SRLKIT_TEST_ENV", raising=False)
    cfg = load_recipe(recipe)
    assert cfg["train_file"] == str((tmp_path / "recipes" / "data" / "train.jsonl").resolve())
    assert cfg["eval_file"] == str((fake_repo / "extra" / "test.jsonl").resolve())  # repo
    assert cfg["model_name_or_path"] == "Qwen/Qwen2.5-7B-Instruct"  # a hub id stays as written
    import os

    assert os.environ["SRLKIT_TEST_ENV"] == "True"


def test_saved_config_reproduces_the_run(tmp_path):
    recipe = REPO / "recipes" / "tiny" / "rlvr" / "config.yaml"
    out = tmp_path / "run"
    first = parse_method_args(
        "rlvr", ["--config", str(recipe), "--output_dir", str(out), "--max_steps", "7"]
    )
    save_run_config(first)
    saved = yaml.safe_load((out / "config.yaml").read_text(encoding="utf-8"))
    assert saved["method"] == "rlvr" and saved["max_steps"] == 7
    again = parse_method_args("rlvr", ["--config", str(out / "config.yaml")])
    assert again.train.to_dict() == first.train.to_dict()
    resolved = json.loads((out / "resolved_config.json").read_text(encoding="utf-8"))
    assert resolved["train"]["max_steps"] == 7 and resolved["train"]["learning_rate"] == 1e-3
    assert resolved["run"]["problem_field"] == "question" and "trl" in resolved["versions"]
    with pytest.raises(DataError, match="srl train rlvr"):
        parse_method_args("sft", ["--config", str(out / "config.yaml")])


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("srl_step", "srl_step"),
        ("srl_step,format", ["srl_step", "format"]),
        ("outcome:1.0,format:0.1", {"outcome": 1.0, "format": 0.1}),
        ("my_pkg.rewards:length_penalty", "my_pkg.rewards:length_penalty"),
        ({"srl_step": {"lenient": True}}, {"srl_step": {"lenient": True}}),
        ('{"srl_step": {"lenient": true}}', {"srl_step": {"lenient": True}}),
    ],
    ids=["name", "list", "weighted", "dotted_path", "mapping", "json"],
)
def test_reward_spec(spec, expected):
    assert parse_reward_spec(spec) == expected


def test_pipeline_stage_flags():
    argv = [
        "--max_steps",
        "2",
        "--srl.learning_rate",
        "1e-3",
        "--rlvr.max_steps",
        "3",
        "--use_peft",
        "--srl.bf16=false",
    ]
    assert split_stage_argv(argv, "srl", ["srl", "rlvr"]) == [
        "--max_steps",
        "2",
        "--learning_rate",
        "1e-3",
        "--use_peft",
        "--bf16=false",
    ]
    assert split_stage_argv(argv, "rlvr", ["srl", "rlvr"]) == [
        "--max_steps",
        "2",
        "--max_steps",
        "3",
        "--use_peft",
    ]


def test_pipeline_recipe_merges_shared_and_stage_sections():
    recipe = yaml.safe_load(
        (REPO / "recipes" / "tiny" / "srl_rlvr" / "config.yaml").read_text(encoding="utf-8")
    )
    stages = dict(stage_recipes(recipe, "tiny"))
    assert list(stages) == ["srl", "rlvr"]
    assert stages["srl"]["bf16"] is False and stages["rlvr"]["bf16"] is False  # shared
    assert stages["rlvr"]["problem_field"] == "question" and "problem_field" not in stages["srl"]
    with pytest.raises(DataError, match="stages"):
        stage_recipes({"stages": ["srl", "dpo"]}, "bad.yaml")


def test_every_shipped_recipe_parses(tmp_path):
    recipes = sorted((REPO / "recipes").glob("*/*/config.yaml"))
    assert len(recipes) >= 8
    for path in recipes:
        recipe = yaml.safe_load(path.read_text(encoding="utf-8"))
        if path.parent.name == "loop":  # an `srl loop` recipe: tests/loop/test_loop_units.py
            continue
        stages = (
            stage_recipes(recipe, str(path))
            if "stages" in recipe
            else [(recipe.get("method", path.parent.name), recipe)]
        )
        for method, cfg in stages:
            cfg = {k: v for k, v in cfg.items() if k not in ("bf16", "tf32")}  # no GPU here
            args = parse_method_args(
                method, ["--output_dir", str(tmp_path), "--bf16", "false"], cfg
            )
            assert args.train.output_dir == str(tmp_path), path


def test_use_vllm_without_vllm_is_a_clear_error(tmp_path):
    import importlib.util

    from srlkit.training.runner import _check_generation_backend

    args = parse_method_args(
        "srl",
        ["--output_dir", str(tmp_path), "--bf16", "false", "--use_vllm", "--vllm_mode", "colocate"],
    )
    assert args.train.use_vllm and args.train.vllm_mode == "colocate"  # passed through to TRL as is
    if importlib.util.find_spec("vllm") is not None:
        pytest.skip("vLLM is installed here")
    with pytest.raises(DataError, match=r"pip install 'srlkit\[vllm\]'"):
        _check_generation_backend(args.train)


def test_changed_options_compare_final_values_not_spellings(tmp_path):
    from srlkit.training.runner import changed_options

    args = parse_method_args(
        "srl",
        ["--output_dir", str(tmp_path), "--bf16", "false", "--learning_rate", "5e-7",
         "--disable_tqdm", "true"],
    )  # fmt: skip
    saved = {"method": "srl", "bf16": False, "output_dir": "x", "max_steps": 4, "resume": "never"}
    # learning_rate written out at its default and display options change nothing trained;
    # max_steps 4 (saved) against the default -1 (now) does.
    assert changed_options(args, saved) == {"max_steps": (4, -1)}
    assert changed_options(args, {"method": "srl", "bf16": False, "max_steps": -1}) == {}
    assert changed_options(args, {"method": "srl", "max_steps": -1}) == {"bf16": (None, False)}


def test_a_run_folder_moved_with_its_inputs_is_the_same_run(tmp_path):
    from srlkit.training.runner import changed_options

    old, new = tmp_path / "demo", tmp_path / "moved"
    args = parse_method_args(
        "srl",
        ["--output_dir", str(new / "runs" / "srl"), "--bf16", "false",
         "--train_file", str(new / "data" / "train.jsonl"),
         "--model_name_or_path", str(tmp_path / "shared" / "student")],
    )  # fmt: skip
    saved = {
        "method": "srl",
        "bf16": False,
        "output_dir": str(old / "runs" / "srl"),
        "train_file": str(old / "data" / "train.jsonl"),  # moved along with the run folder
        "model_name_or_path": str(tmp_path / "shared" / "student"),  # stayed where it was
    }
    assert changed_options(args, saved) == {}
    saved["train_file"] = str(old / "data" / "other.jsonl")
    assert list(changed_options(args, saved)) == ["train_file"]

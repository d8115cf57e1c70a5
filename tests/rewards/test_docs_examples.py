"""The YAML examples of docs/rewards.md are recipes `srl train` accepts, as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "rewards.md"
# srlkit recipes; the verl block (custom_reward_function) is verl's own configuration.
BLOCKS = [
    block
    for block in re.findall(r"```yaml\n(.*?)```", DOC.read_text(encoding="utf-8"), re.DOTALL)
    if not block.startswith("custom_reward_function")
]


def test_the_doc_has_yaml_examples():
    assert BLOCKS


@pytest.mark.parametrize("block", BLOCKS)
def test_every_yaml_example_parses_as_a_recipe(block, tmp_path):
    """Before: the example's key was `rewards:`, which `srl train` refuses (`reward_funcs`)."""
    from srlkit.rewards.registry import build_reward_funcs
    from srlkit.training.config import parse_method_args

    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(block, encoding="utf-8")
    argv = ["--config", str(recipe), "--output_dir", str(tmp_path / "run"), "--bf16", "false"]
    args = parse_method_args("srl", argv)
    spec = args.given.get("reward_funcs") if isinstance(args.given, dict) else None
    if spec is not None:
        assert build_reward_funcs(spec)

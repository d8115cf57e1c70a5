"""Curricula: SRL then RLVR from the best SRL checkpoint (or SFT then RLVR), one command, one config.

A pipeline recipe is one YAML file::

    stages: [srl, rlvr]            # or [sft, rlvr]
    output_dir: runs/qwen7b-srl-rlvr
    model_name_or_path: Qwen/Qwen2.5-7B-Instruct
    bf16: true                     # top-level options apply to every stage ...
    srl:                           # ... a stage's section overrides them for that stage
      train_file: data/instances/train.jsonl
      learning_rate: 5.0e-7
    rlvr:
      train_file: ../shared/data/gsm8k/train.jsonl

Stage ``i`` writes to ``<output_dir>/<stage>`` and stage ``i+1`` starts from stage ``i``'s best
validation checkpoint (its final model when it had no validation; a LoRA checkpoint is merged
into its base first). Re-running the command skips finished stages and resumes the unfinished
one from its latest checkpoint. On the command line, ``--option value`` applies to every stage
and ``--<stage>.option value`` to one stage.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from srlkit.io import DataError, write_json
from srlkit.training.callbacks import read_best_checkpoint
from srlkit.training.checkpoints import (
    MERGED_DIR,
    RUN_SUMMARY_FILE,
    is_complete,
    loadable_model_path,
)
from srlkit.training.config import METHODS, load_recipe, parse_method_args, resolve_paths
from srlkit.training.preflight import check_run_options
from srlkit.training.runner import run

logger = logging.getLogger(__name__)

PIPELINE_FILE = "pipeline.json"


def split_stage_argv(argv: list[str], stage: str, stages: list[str]) -> list[str]:
    """Keep shared flags and ``--<stage>.x`` flags (renamed ``--x``); drop other stages' flags."""
    out: list[str] = []
    i = 0
    while i < len(argv):
        token = argv[i]
        has_value = i + 1 < len(argv) and not argv[i + 1].startswith("--") and "=" not in token
        chunk = argv[i : i + 2] if has_value else [token]
        i += len(chunk)
        name = token[2:].split("=", 1)[0] if token.startswith("--") else ""
        prefix, dot, _ = name.partition(".")
        if dot and prefix in stages:
            if prefix == stage:
                out += ["--" + token[len(prefix) + 3 :], *chunk[1:]]
            continue
        out += chunk
    return out


def stage_recipes(recipe: dict[str, Any], source: str) -> list[tuple[str, dict[str, Any]]]:
    """Split a pipeline recipe into ``(stage, recipe)`` pairs, validating the stage list."""
    stages = recipe.get("stages")
    if not isinstance(stages, list) or len(stages) < 2 or any(s not in METHODS for s in stages):
        raise DataError(
            source, f"'stages' must list at least two of {', '.join(METHODS)} (e.g. [srl, rlvr])"
        )
    if len(set(stages)) != len(stages):
        raise DataError(source, "'stages' lists a method twice")
    shared = {k: v for k, v in recipe.items() if k != "stages" and k not in METHODS}
    out = []
    for stage in stages:
        section = recipe.get(stage) or {}
        if not isinstance(section, dict):
            raise DataError(source, f"section '{stage}' must be a mapping of option: value")
        out.append((stage, {**shared, **section}))
    return out


def _root_output_dir(argv: list[str], recipe: dict[str, Any], source: str) -> str:
    for i, token in enumerate(argv):
        if token == "--output_dir" and i + 1 < len(argv):
            return argv[i + 1]
        if token.startswith("--output_dir="):
            return token.split("=", 1)[1]
    if not recipe.get("output_dir"):
        raise DataError(
            source, "a pipeline needs a top-level output_dir (stages write to <output_dir>/<stage>)"
        )
    return str(recipe["output_dir"])


def _next_model(stage_dir: Path) -> str:
    best = read_best_checkpoint(stage_dir)
    if best is None:
        logger.warning(
            "%s had no validation; the next stage starts from its final model", stage_dir
        )
        return str(stage_dir)
    return loadable_model_path(best["path"], stage_dir / MERGED_DIR)


def _validate_stages(
    stages: list[tuple[str, dict[str, Any]]],
    names: list[str],
    root: Path,
    base: Path,
    argv: list[str],
) -> None:
    """Parse and check every stage's options before the first one trains.

    A typo in the RLVR section must be reported in seconds, not after SRL has trained for
    hours. Later stages start from a model the stage before makes, so only the first stage's
    model is checked here.
    """
    for i, (name, stage_recipe) in enumerate(stages):
        if is_complete(root / name):
            continue
        stage_argv = [*split_stage_argv(argv, name, names), "--output_dir", str(root / name)]
        args = parse_method_args(
            name, stage_argv, resolve_paths(stage_recipe, base), prog=f"srl train pipeline ({name})"
        )
        check_run_options(args, check_model=i == 0)


def run_pipeline(config_path: str, argv: list[str]) -> list[dict[str, Any]]:
    """Run every stage of a pipeline recipe; returns one summary per stage."""
    recipe = load_recipe(config_path)
    base = Path(config_path).parent
    stages = stage_recipes(recipe, config_path)
    names = [name for name, _ in stages]
    root = Path(_root_output_dir(argv, recipe, config_path))
    _validate_stages(stages, names, root, base, argv)
    summaries: list[dict[str, Any]] = []
    model: str | None = None
    for name, stage_recipe in stages:
        stage_recipe = resolve_paths(
            {**stage_recipe, **({"model_name_or_path": model} if model else {})}, base
        )
        stage_dir = root / name
        stage_argv = [*split_stage_argv(argv, name, names), "--output_dir", str(stage_dir)]
        if model:  # appended last, so the previous stage's model wins over any shared flag
            stage_argv += ["--model_name_or_path", model]
        if is_complete(stage_dir):
            logger.info("stage %s already finished in %s; skipping", name, stage_dir)
        else:
            logger.info("stage %s -> %s", name, stage_dir)
            run(
                parse_method_args(
                    name, stage_argv, stage_recipe, prog=f"srl train pipeline ({name})"
                )
            )
        summaries.append(
            {
                "stage": name,
                "output_dir": str(stage_dir),
                "summary": str(stage_dir / RUN_SUMMARY_FILE),
            }
        )
        model = _next_model(stage_dir)
        summaries[-1]["next_model"] = model
        write_json(
            root / PIPELINE_FILE, {"config": str(Path(config_path).resolve()), "stages": summaries}
        )
    return summaries

"""Run one training method end to end: data, model, trainer, resume, outputs.

A run folder (``output_dir``) holds, besides TRL's ``checkpoint-N`` folders and the final model::

    config.yaml           the recipe + command-line overrides (re-run with --config)
    resolved_config.json  every option's final value, plus library versions
    data_summary.json     records in / kept / dropped (with reasons) per data file
    metrics.jsonl         every training and validation log line (MetricsJSONLCallback)
    rollouts.jsonl        srl/rlvr: sampled groups with every rollout and its reward (rollout_log)
    best_checkpoint.json  best validation checkpoint (BestCheckpointCallback)
    run_summary.json      written last: final metrics, best checkpoint, final model path

This module only wires TRL together; the pieces it wires are tested on their own.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
from dataclasses import MISSING, fields
from pathlib import Path
from typing import Any

import yaml

from srlkit.io import ConfigError, DataError, iter_jsonl, write_json
from srlkit.options import save_options
from srlkit.training import datasets as tdata
from srlkit.training.callbacks import (
    METRICS_FILE,
    BestCheckpointCallback,
    MetricsJSONLCallback,
)
from srlkit.training.checkpoints import (  # noqa: F401  (RUN_SUMMARY_FILE, is_complete: re-exported)
    RUN_SUMMARY_FILE,
    RunResult,
    finalize_from_checkpoint,
    finished_run,
    is_complete,
    is_final_checkpoint,
    latest_checkpoint,
    resolve_resume,
    write_run_summary,
)
from srlkit.training.config import MethodArgs
from srlkit.training.preflight import check_run_options, disk_full_error, is_disk_full
from srlkit.training.trainers import grpo_classes, sft_classes

logger = logging.getLogger(__name__)

DEFAULT_REWARDS = {"srl": "srl_step", "rlvr": "outcome", "r3": "outcome"}


def parse_reward_spec(spec: Any) -> Any:
    """``'a:1.0,b:0.1'`` -> ``{'a': 1.0, 'b': 0.1}``; ``'a,b'`` -> ``['a', 'b']``; JSON and mappings -> mappings."""
    if not isinstance(spec, str):
        return spec
    if spec.strip().startswith("{"):  # a JSON mapping on the command line, with reward options
        try:
            return json.loads(spec)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"reward_funcs: invalid JSON mapping ({exc.msg})") from None
    parts = [p.strip() for p in spec.split(",") if p.strip()]
    if not any(":" in p and p.rsplit(":", 1)[1].replace(".", "", 1).isdigit() for p in parts):
        return parts[0] if len(parts) == 1 else parts
    weighted: dict[str, float] = {}
    for part in parts:
        name, _, weight = part.rpartition(":")
        try:
            weighted[name or part] = float(weight) if name else 1.0
        except ValueError:
            raise DataError(
                None, f"reward_funcs: bad weight in {part!r}; expected name:number"
            ) from None
    return weighted


def save_run_config(args: MethodArgs) -> None:
    """Write ``config.yaml`` (re-runnable recipe) and ``resolved_config.json`` (every final value)."""
    import transformers
    import trl

    from srlkit import __version__

    out = Path(args.train.output_dir)
    save_options({"method": args.method, **args.given}, out)
    resolved = {
        "method": args.method,
        "run": {f.name: getattr(args.run, f.name) for f in fields(args.run)},
        "model": {f.name: getattr(args.model, f.name) for f in fields(args.model)},
        "train": args.train.to_dict(),
        "versions": {
            "srlkit": __version__,
            "trl": trl.__version__,
            "transformers": transformers.__version__,
        },
    }
    write_json(out / "resolved_config.json", resolved)


def _check_generation_backend(train_args: Any) -> None:
    if getattr(train_args, "use_vllm", False) and importlib.util.find_spec("vllm") is None:
        raise DataError(
            None,
            "use_vllm is set but vLLM is not installed; install it with `pip install 'srlkit[vllm]'` "
            "or drop --use_vllm to generate with transformers",
        )


def _model_init_kwargs(args: MethodArgs) -> dict[str, Any]:
    """TRL's ModelConfig -> ``from_pretrained`` keyword arguments (the TRL example-script pattern)."""
    from accelerate import PartialState
    from trl import get_quantization_config

    kwargs: dict[str, Any] = {
        "revision": args.model.model_revision,
        "attn_implementation": args.model.attn_implementation,
        "dtype": args.model.dtype,
    }
    quantization = get_quantization_config(args.model)
    if quantization is not None:
        kwargs["quantization_config"] = quantization
        kwargs["device_map"] = {
            "": PartialState().local_process_index
        }  # one quantized copy per process
    user = getattr(args.train, "model_init_kwargs", None) or {}
    return {**{k: v for k, v in kwargs.items() if v is not None}, **user}


def _load_tokenizer(args: MethodArgs, padding_side: str):
    from transformers import AutoTokenizer

    try:
        tok = AutoTokenizer.from_pretrained(
            args.model.model_name_or_path,
            revision=args.model.model_revision,
            trust_remote_code=getattr(args.train, "trust_remote_code", False),
            padding_side=padding_side,
        )
    except OSError as err:  # "couldn't connect to huggingface.co" for a name that is no model
        raise DataError(
            args.model.model_name_or_path,
            f"not a local model folder, and not loadable from the hub ({str(err).splitlines()[0][:160]})",
        ) from None
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    return tok


def _load_split(
    args: MethodArgs, path: str, tokenizer: Any, max_samples: int | None, split: str
) -> tuple[list[dict], dict]:
    run = args.run
    if args.method == "srl":
        rows, summary = tdata.load_srl_instances(path, split)
        rows = tdata.render_text_prompts(rows, tokenizer)
    elif args.method == "r3":
        from srlkit.training.r3 import load_r3_rows

        rows, summary = load_r3_rows(path, tokenizer, args.train, run.rlvr_prompt_template, split)
    elif args.method == "rlvr":
        rows, summary = tdata.load_rlvr_problems(
            path, run.rlvr_prompt_template, run.problem_field, run.answer_field, split
        )
    else:
        rows, summary = tdata.load_sft_examples(path, run.sft_mode, split)
        if len({tuple(sorted(r)) for r in rows}) > 1:
            raise DataError(path, "mixes math and agent trajectories; SFT them in separate runs")
    if args.method in ("srl", "rlvr"):  # r3 prompts are text, counted by TRL itself
        rows = tdata.filter_prompt_length(rows, tokenizer, run.max_prompt_length, summary)
    elif args.method == "sft" and args.train.max_length and rows and "prompt" in rows[0]:
        # TRL truncates SFT sequences to max_length; a prompt that fills it leaves no completion
        # token to learn, and TRL would drop the example without a word. Count it here instead.
        limit = args.train.max_length - 1
        reason = f"prompt leaves no completion token within max_length={args.train.max_length}"
        rows = tdata.filter_prompt_length(rows, tokenizer, limit, summary, reason=reason)
    rows = tdata.cap_rows(rows, summary, max_samples)
    if not rows:
        raise DataError(
            path,
            f"no usable records for `srl train {args.method}` (dropped: {dict(summary.dropped)})",
        )
    return rows, summary.to_dict()


def build_datasets(args: MethodArgs, tokenizer: Any) -> tuple[Any, Any, dict[str, Any]]:
    """Train and (optional) validation ``datasets.Dataset`` plus the data summary."""
    from datasets import Dataset

    if not args.run.train_file:
        raise ConfigError("train_file is required (in the recipe or as --train_file)")
    train_rows, train_summary = _load_split(
        args, args.run.train_file, tokenizer, args.run.max_train_samples, "train"
    )
    summary = {"train": train_summary}
    eval_ds = None
    if args.run.eval_file:
        eval_rows, summary["eval"] = _load_split(
            args, args.run.eval_file, tokenizer, args.run.max_eval_samples, "validation"
        )
        eval_ds = Dataset.from_list(eval_rows)
    return Dataset.from_list(train_rows), eval_ds, summary


def _disable_eval_without_data(train_args: Any) -> None:
    from transformers.trainer_utils import IntervalStrategy

    if train_args.eval_strategy != IntervalStrategy.NO:
        logger.info("no eval_file: validation and best-checkpoint selection are off")
    train_args.eval_strategy = IntervalStrategy.NO
    train_args.do_eval = False


def _absolute_local_model(args: MethodArgs) -> None:
    """A local model folder given as a relative path becomes absolute.

    Why: a LoRA adapter records the path it was trained from, and ``srl eval`` started from
    another folder could not find a relative one.
    """
    path = args.model.model_name_or_path
    if path and not os.path.isabs(path) and os.path.isdir(path):
        args.model.model_name_or_path = str(Path(path).resolve())


def build_trainer(args: MethodArgs, callbacks: list[Any] | None = None):
    """Everything up to (not including) ``train()``: returns ``(trainer, data_summary)``."""
    from trl import get_peft_config

    method = args.method
    grpo = method in ("srl", "rlvr", "r3")
    if grpo:
        _check_generation_backend(args.train)  # before any data is read: fail fast
    _absolute_local_model(args)
    tokenizer = _load_tokenizer(args, padding_side="left" if grpo else "right")
    train_ds, eval_ds, summary = build_datasets(args, tokenizer)
    if eval_ds is None:
        _disable_eval_without_data(args.train)
    args.train.model_init_kwargs = _model_init_kwargs(args)
    run_dir = args.train.output_dir
    all_callbacks = [
        MetricsJSONLCallback(run_dir),
        BestCheckpointCallback(run_dir),
        *(callbacks or []),
    ]
    common = {
        "model": args.model.model_name_or_path,
        "args": args.train,
        "train_dataset": train_ds,
        "eval_dataset": eval_ds,
        "processing_class": tokenizer,
        "callbacks": all_callbacks,
        "peft_config": get_peft_config(args.model),
    }
    if grpo:
        from srlkit.rewards.registry import build_reward_funcs

        spec = parse_reward_spec(args.run.reward_funcs or DEFAULT_REWARDS[method])
        funcs, weights = build_reward_funcs(spec)
        if args.train.reward_weights is None and len(funcs) > 1:
            args.train.reward_weights = weights
        _, trainer_cls = grpo_classes()
        return trainer_cls(reward_funcs=funcs, **common), summary
    _, trainer_cls = sft_classes()
    return trainer_cls(**common), summary


def run(args: MethodArgs, callbacks: list[Any] | None = None) -> RunResult:
    """Train one method as configured; resumes from the latest checkpoint when ``resume='auto'``.

    A finished run (its ``run_summary.json`` written) is left as it is and returned; a run
    killed after its last checkpoint is finished from that checkpoint without training.
    """
    out = Path(args.train.output_dir)
    finished = finished_run(out)  # first: a finished run needs nothing, not even its base model
    if finished is not None and not _continues(args, out, finished):
        logger.info(
            "%s already holds a finished run (step %s) with these options; nothing to do",
            out, finished.metrics.get("global_step"),
        )  # fmt: skip
        return finished
    check_run_options(args)
    resume = resolve_resume(args.train.resume_from_checkpoint or args.run.resume, out)
    try:
        if resume and is_final_checkpoint(resume, args.train.max_steps):
            from accelerate import PartialState

            is_main = PartialState().is_main_process
            state = finalize_from_checkpoint(resume, out) if is_main else {}
            return write_run_summary(
                args.method, out, state.get("global_step"), resume, {}, is_main
            )
        trainer, summary = build_trainer(args, callbacks)
        if trainer.is_world_process_zero():
            save_run_config(args)
            write_json(out / "data_summary.json", summary)
        result = trainer.train(resume_from_checkpoint=resume)
        trainer.save_model(str(out))
    except (OSError, RuntimeError) as err:
        if is_disk_full(err):
            raise disk_full_error(out) from None
        raise
    metrics = dict(result.metrics)
    metrics.update(_logged_train_loss(out))
    return write_run_summary(
        args.method,
        out,
        trainer.state.global_step,
        resume,
        metrics,
        trainer.is_world_process_zero(),
    )


# Options that do not change what a run trains: where it is, how it resumes, how it is shown.
_NOT_RUN_OPTIONS = (
    "output_dir",
    "resume",
    "resume_from_checkpoint",
    "disable_tqdm",
    "report_to",
    "run_name",
    "logging_dir",
)


def changed_options(args: MethodArgs, saved: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    """``option -> (saved value, new value)`` for every option whose final value differs
    between a run's saved ``config.yaml`` (recipe form) and ``args``; unset options are
    compared at their defaults, so writing a default out changes nothing, and absolute paths
    relative to the run folder, so a folder moved with its inputs is the same run."""
    defaults: dict[str, Any] = {}
    for part in (args.run, args.train, args.model):
        for f in fields(part):
            if f.default_factory is not MISSING:  # type: ignore[misc]
                defaults.setdefault(f.name, f.default_factory())  # type: ignore[misc]
            else:
                defaults.setdefault(f.name, None if f.default is MISSING else f.default)
    saved = {k: v for k, v in saved.items() if k != "method"}
    new_root = os.path.abspath(args.train.output_dir)
    old_root = os.path.abspath(str(saved.get("output_dir") or new_root))
    changed = {}
    for name in sorted(set(saved) | set(args.given)):
        old = saved.get(name, defaults.get(name))
        new = args.given.get(name, defaults.get(name))
        if name in _NOT_RUN_OPTIONS or old == new or _moved_along(old, new, old_root, new_root):
            continue
        changed[name] = (old, new)
    return changed


def _moved_along(old: Any, new: Any, old_root: str, new_root: str) -> bool:
    """Two absolute paths at the same place relative to their run folders: a run folder moved
    (or copied) with the inputs beside it, such as a demo folder, is the same run."""
    if not (isinstance(old, str) and isinstance(new, str)):
        return False
    if not (os.path.isabs(old) and os.path.isabs(new)):
        return False
    return os.path.relpath(old, old_root) == os.path.relpath(new, new_root)


def _continues(args: MethodArgs, out: Path, finished: RunResult) -> bool:
    """Whether a finished run given ``args`` trains on: only when the one change is a larger
    ``max_steps`` (TRL's resume then continues from the last checkpoint). Any other change
    is a :class:`DataError` naming the options, not a silent "nothing to do"."""
    path = out / "config.yaml"
    saved = yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else None
    if not isinstance(saved, dict):
        return False  # a run from before config.yaml was written: nothing to compare
    changed = changed_options(args, saved)
    if not changed:
        return False
    done = finished.metrics.get("global_step") or 0
    if set(changed) == {"max_steps"} and args.train.max_steps > done:
        if latest_checkpoint(out) is None:
            raise DataError(out, "holds a finished run without checkpoints to continue from")
        logger.info("continuing the finished run in %s from step %s to max_steps %s",
                    out, done, args.train.max_steps)  # fmt: skip
        return True
    differences = ", ".join(f"{k}: {old!r} -> {new!r}" for k, (old, new) in changed.items())
    raise DataError(
        out,
        f"holds a finished run made with other options ({differences}); give another "
        "--output_dir to train with them (a larger --max_steps alone continues the run)",
    )


def _logged_train_loss(out: Path) -> dict[str, Any]:
    """The ``train_loss`` of the run's last summary line in metrics.jsonl (whole-run mean on resume)."""
    path = out / METRICS_FILE
    found: dict[str, Any] = {}
    if path.exists():
        for _, rec in iter_jsonl(path, skip_invalid=True):
            if "train_loss" in rec:
                found = {"train_loss": rec["train_loss"]}
    return found

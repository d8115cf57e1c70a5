"""Step-level validation: how well a model predicts the expert's next step on held-out instances.

This is how the paper validated its software agent (650 held-out step instances from 30
trajectories): for each instance the model writes ``<think>...</think>`` and a step, which is
scored with the very reward SRL trains on (:func:`srlkit.rewards.srl.srl_step_reward`). We
report the mean step reward (format failures count at the penalty, as in training), the mean
similarity over well-formatted outputs, the format-failure rate with its reasons, and the
exact-match rate (a reward of exactly 1.0: the action equals the target, after agent actions
are canonicalised). Per-instance records are appended as they finish, so a run resumes.
"""

from __future__ import annotations

import logging
import statistics
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml
from tqdm.auto import tqdm

from srlkit.data.schema import COL_KIND, COL_TARGET, StepInstance
from srlkit.evaluation.backends import Backend, BackendOptions, SamplingSettings, backend_for
from srlkit.evaluation.metrics import count_words, usage_stats
from srlkit.evaluation.prompts import render_prompt
from srlkit.evaluation.store import SampleStore
from srlkit.io import DataError, write_json

logger = logging.getLogger(__name__)


@dataclass
class StepEvalConfig(BackendOptions):
    """Options of ``srl eval-steps``; saved as ``config.json`` next to its outputs."""

    model: str | None = field(
        default=None, metadata={"help": "model id or local folder (positional)"}
    )
    data: str | None = field(
        default=None,
        metadata={
            "help": "step instances: a `srl data build` folder (its --split), a JSONL / parquet "
            "file or a hub id (positional)"
        },
    )
    out_dir: str | None = field(
        default=None,
        metadata={
            "help": "output folder (default: eval_results/<model name>-<hash of its path>-steps)",
            "aliases": ["--out"],
        },
    )
    split: str = field(default="validation", metadata={"help": "split of a build folder"})
    limit: int | None = field(default=None, metadata={"help": "score only the first N instances"})
    max_new_tokens: int = field(default=1024, metadata={"help": "tokens generated at most"})
    temperature: float = field(
        default=0.0, metadata={"help": "0 = greedy, as the paper's validation"}
    )
    top_p: float = field(default=1.0, metadata={"help": "nucleus sampling (1.0 = off)"})
    lenient: bool = field(
        default=False, metadata={"help": "accept completions that start inside <think>"}
    )
    format_penalty: float = field(default=-1.0, metadata={"help": "reward of a malformed output"})
    metric: str = field(default="sequence_matcher", metadata={"help": "similarity metric"})
    autojunk: bool = field(default=False, metadata={"help": "difflib's autojunk heuristic"})
    chat_template: bool = field(
        default=True,
        metadata={
            "help": "render prompts with the tokenizer's chat template (--no_chat_template "
            "for base models)"
        },
    )


def load_step_instances(path: str | Path, split: str = "validation") -> list[StepInstance]:
    """Step instances from a ``srl data build`` folder (its ``split``), a JSONL, parquet or hub id.

    Reading is :func:`srlkit.data.reader.iter_instances`, the one instance reader, so
    every form the builder writes is understood; ids must be unique because they key resume.
    """
    from srlkit.data.reader import iter_instances

    instances = list(iter_instances(path, split))
    ids = Counter(i.id for i in instances)
    duplicated = [i for i, n in ids.items() if n > 1]
    if duplicated:
        raise DataError(
            path, f"duplicate instance ids (resume needs unique ids), e.g. {duplicated[:3]}"
        )
    return instances


def score_steps(
    instances: list[StepInstance], texts: list[str], **reward_options: Any
) -> list[dict[str, Any]]:
    """One record per instance: the step written, its format verdict, reward and exact match.

    The one scorer of step-level evaluation (``srl eval-steps`` and the demo): the reward SRL
    trains on (``reward_options`` go to :func:`srlkit.rewards.srl.srl_step_reward`), and
    "exact" meaning a well-formed step whose reward is 1.0.
    """
    from srlkit.rewards.format import parse_step
    from srlkit.rewards.srl import srl_step_reward

    rewards = srl_step_reward(
        texts,
        target=[i.target for i in instances],
        kind=[i.kind for i in instances],
        continuation=[i.continues_answer for i in instances],
        **reward_options,
    )
    lenient = bool(reward_options.get("lenient", False))
    records = []
    for inst, text, reward in zip(instances, texts, rewards, strict=True):
        parsed = parse_step(text, inst.continues_answer, lenient=lenient)
        records.append(
            {
                "id": inst.id,
                "trajectory_id": inst.trajectory_id,
                "step_index": inst.step_index,
                COL_KIND: inst.kind,
                COL_TARGET: inst.target,
                "completion": text,
                "action": parsed.action,
                "format_ok": parsed.ok,
                "format_reason": parsed.reason,
                "reward": reward,
                "exact_match": parsed.ok and reward == 1.0,
            }
        )
    return records


def summarize_steps(records: list[dict[str, Any]]) -> dict[str, Any]:
    """Mean step reward, similarity when well formatted, format-failure and exact-match rates."""
    n = len(records)
    ok = [r for r in records if r["format_ok"]]
    summary: dict[str, Any] = {
        "n_instances": n,
        "mean_reward": statistics.fmean(r["reward"] for r in records) if n else None,
        "mean_similarity_formatted": statistics.fmean(r["reward"] for r in ok) if ok else None,
        "format_failure_rate": (n - len(ok)) / n if n else None,
        "exact_match_rate": sum(1 for r in records if r["exact_match"]) / n if n else None,
        "format_failures": dict(
            Counter(r["format_reason"] for r in records if not r["format_ok"]).most_common()
        ),
        **usage_stats(
            [int(r["num_tokens"]) for r in records], [int(r["num_words"]) for r in records]
        ),
    }
    by_kind: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in records:
        by_kind[r[COL_KIND]].append(r)
    if len(by_kind) > 1:
        summary["by_kind"] = {kind: summarize_steps(rs) for kind, rs in sorted(by_kind.items())}
    return summary


REWARD_OPTIONS = ("lenient", "format_penalty", "metric", "autojunk")


def training_differences(config: StepEvalConfig) -> list[str]:
    """How this evaluation scores differently from the training run that made ``config.model``.

    A checkpoint of ``srl train`` sits in (or one level under) the run's output folder, beside
    the ``config.yaml`` the run saved. The step reward's options given there (``lenient``,
    ``format_penalty``, ``metric``, ``autojunk``) are eval-steps options too: each that differs
    is named with the flag that matches training. ``generation_kwargs`` (the tiny recipe's
    ``sequence_bias``) steer training's sampling only; eval-steps generates plainly, as the
    paper's validation does, so a model that needed them scores lower here.
    """
    if config.model is None:
        return []
    folder = Path(config.model)
    recipe = next(
        (f / "config.yaml" for f in (folder, folder.parent) if (f / "config.yaml").is_file()), None
    )
    if recipe is None:
        return []
    try:
        given = yaml.safe_load(recipe.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return []
    if not isinstance(given, dict):
        return []
    notes = []
    spec = given.get("reward_funcs")
    options = spec.get("srl_step") if isinstance(spec, dict) else None
    for name in REWARD_OPTIONS:
        if isinstance(options, dict) and name in options and options[name] != getattr(config, name):
            value = str(options[name]).lower() if isinstance(options[name], bool) else options[name]
            notes.append(f"training scored with srl_step {name}: {value} (pass --{name} {value})")
    if given.get("generation_kwargs"):
        keys = (
            ", ".join(sorted(given["generation_kwargs"]))
            if isinstance(given["generation_kwargs"], dict)
            else "generation_kwargs"
        )
        notes.append(f"training sampled with {keys}, which eval-steps does not apply")
    return notes


def run_step_evaluation(config: StepEvalConfig, backend: Backend | None = None) -> dict[str, Any]:
    """Generate one step per instance, score it, and write ``steps.jsonl`` and ``summary.json``.

    Where the options differ from the training run's (:func:`training_differences`), a warning
    says so and ``summary.json`` lists it under ``differs_from_training``.
    """
    differences = training_differences(config)
    if differences:
        logger.warning(
            "eval-steps scores differently from training: %s (%s)",
            "; ".join(differences),
            config.model,
        )
    instances = load_step_instances(config.data, config.split)
    if config.limit is not None:
        instances = instances[: config.limit]
    if backend is None:
        backend = backend_for(config)
    out = Path(config.out_dir)
    write_json(out / "config.json", asdict(config))
    store = SampleStore(out / "steps.jsonl", ("id",))
    prompts = {
        i.id: render_prompt(backend.tokenizer, i.prompt, config.chat_template) for i in instances
    }
    pending = sorted(
        (i for i in instances if (i.id,) not in store), key=lambda i: -len(prompts[i.id])
    )
    settings = SamplingSettings(
        config.temperature, config.top_p, 0, config.max_new_tokens, config.seed
    )
    size = max(1, backend.chunk_size)
    with tqdm(total=len(pending), desc="step instances", unit="instance", leave=False) as bar:
        for start in range(0, len(pending), size):
            chunk = pending[start : start + size]
            gens = backend.generate([prompts[i.id] for i in chunk], settings)
            records = score_steps(
                chunk,
                [g.text for g in gens],
                format_penalty=config.format_penalty,
                lenient=config.lenient,
                metric=config.metric,
                autojunk=config.autojunk,
            )
            for rec, gen in zip(records, gens, strict=True):
                rec.update(
                    num_tokens=gen.num_tokens,
                    num_words=count_words(gen.text),
                    finish_reason=gen.finish_reason,
                )
            store.append(records)
            bar.update(len(chunk))
    wanted = {i.id for i in instances}
    summary = {
        "model": config.model,
        "data": config.data,
        **summarize_steps([r for key, r in store.records.items() if key[0] in wanted]),
    }
    if differences:
        summary["differs_from_training"] = differences
    write_json(out / "summary.json", summary)
    return summary

"""``srl loop``: rounds of sample -> verify -> step instances -> SRL -> evaluate.

Each round is the toolkit's own commands in a folder of its own (``round-R/``):

1. ``problems.jsonl``: the training problems no verified solution in the pool solves yet;
2. ``generate/``: ``srl data generate`` samples ``num_samples`` solutions of each from the
   current model (round 1: the teacher, when one is given) and keeps those whose final answer
   is right; its response cache makes a killed round resume and a finished one ask nothing;
3. ``verify.json`` and ``pool.jsonl``: the process check (when the task has one) judges the
   kept solutions; the verified ones join the pool, unique by content, with their provenance;
4. ``data/``: ``srl data build`` cuts the pool (each entry as often as its weight) into step
   instances with the loop's layout options;
5. ``train/``: ``srl train srl`` from the current model on those instances (the runner resumes
   a killed run and leaves a finished one alone);
6. ``eval/``: ``srl eval`` (and ``srl eval-steps``) of the trained model on the held-out set;
7. ``round.json``: the round's numbers, written last: a round with it is finished and never
   rerun. ``loop.json`` gathers every round (the curve) after each one.

``round-0/`` holds the evaluation of the starting model, the curve's first point.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections import Counter
from dataclasses import asdict
from pathlib import Path
from typing import Any

from srlkit.io import ConfigError, iter_jsonl, write_json, write_jsonl
from srlkit.loop.config import LoopConfig
from srlkit.loop.evaluate import Evaluator, default_evaluator
from srlkit.loop.inputs import load_expert_pool, read_training_problems
from srlkit.loop.pool import PoolEntry, counts, merge, read_pool, training_trajectories, write_pool
from srlkit.loop.verify import process_check, renumbered

logger = logging.getLogger(__name__)


ROUND_FILE = "round.json"
LOOP_FILE = "loop.json"
KEY_FILE = "loop_key.json"
SOLVE_PROMPT_FILE = "solve_prompt.txt"
_NOT_IN_KEY = ("rounds", "progress", "out")
"""Options that do not change what a round produces (more rounds continue a finished loop)."""


def round_dir(out: Path, index: int) -> Path:
    return out / f"round-{index}"


def settings_key(config: LoopConfig) -> dict[str, Any]:
    """What a loop's rounds depend on: its options, and the content of its training recipe
    (an edited recipe would train the next rounds otherwise than the finished ones)."""
    key = {k: v for k, v in asdict(config).items() if k not in _NOT_IN_KEY}
    recipe = Path(config.train_config or "")
    if recipe.is_file():
        key["train_config_sha256"] = hashlib.sha256(recipe.read_bytes()).hexdigest()
    return key


def _check_key(out: Path, config: LoopConfig) -> None:
    """A folder holds one loop: rerunning it with other settings is refused (naming them)."""
    path = out / KEY_FILE
    key = settings_key(config)
    if path.is_file():
        saved = json.loads(path.read_text("utf-8"))
        changed = sorted(k for k in set(saved) | set(key) if saved.get(k) != key.get(k))
        if changed:
            raise ConfigError(
                f"{out} holds a loop run with other settings ({', '.join(changed)} differ); "
                "use another --out, or remove the folder to start afresh"
            )
    write_json(path, key)


def solve_prompt_file(out: Path) -> Path:
    """``srl eval``'s solve prompt as a generate prompt: what the student is asked when scored."""
    from srlkit.evaluation.prompts import SOLVE_TEMPLATE

    path = out / SOLVE_PROMPT_FILE
    path.write_text(SOLVE_TEMPLATE, "utf-8")
    return path


class LoopRunner:
    """Runs (or resumes) the rounds of one loop folder."""

    def __init__(
        self,
        config: LoopConfig,
        evaluator: Evaluator | None = None,
        problems: list[dict[str, Any]] | None = None,
    ) -> None:
        config.validate()
        self.config = config
        self.out = Path(config.out)
        self.evaluator = evaluator or default_evaluator(config)
        self.problems = problems if problems is not None else read_training_problems(config)
        self.by_id = {p["id"]: p for p in self.problems}
        self.check = process_check(config.process_check) if config.process_check else None

    def run(self) -> dict[str, Any]:
        """Every round not yet finished; the loop's summary (also ``loop.json``)."""
        from srlkit.options import save_options

        self.out.mkdir(parents=True, exist_ok=True)
        _check_key(self.out, self.config)
        save_options(self.config, self.out)
        start = self._start_round()
        records = [start]
        pool, model = read_pool(round_dir(self.out, 0) / "pool.jsonl"), self.config.model
        for index in range(1, self.config.rounds + 1):
            saved = round_dir(self.out, index) / ROUND_FILE
            if saved.is_file():
                record = json.loads(saved.read_text("utf-8"))
                logger.info("round %d is finished (%s): nothing to do", index, saved)
            else:
                record = self._round(index, pool, model, records[-1])
            records.append(record)
            pool = read_pool(round_dir(self.out, index) / "pool.jsonl")
            model = record["model_after"]
            summary = self._summary(records)
            write_json(self.out / LOOP_FILE, summary)
        return self._summary(records)

    # -- round 0: the starting model and the expert pool --------------------------------------
    def _start_round(self) -> dict[str, Any]:
        folder = round_dir(self.out, 0)
        saved = folder / ROUND_FILE
        if saved.is_file():
            return json.loads(saved.read_text("utf-8"))
        folder.mkdir(parents=True, exist_ok=True)
        pool, expert = load_expert_pool(self.config)
        write_pool(folder / "pool.jsonl", pool)
        t = time.monotonic()
        metrics = self.evaluator(self.config.model, folder / "eval")
        record = {
            "round": 0,
            "model_after": self.config.model,
            "expert_pool": expert,
            "pool": counts(pool),
            "pool_size": len(pool),
            "solved_problems": 0,
            "eval": metrics,
            "timings_s": {"eval": round(time.monotonic() - t, 1)},
        }
        write_json(saved, record)
        return record

    # -- one round -----------------------------------------------------------------------------
    def _round(
        self, index: int, pool: list[PoolEntry], model: str, previous: dict[str, Any]
    ) -> dict[str, Any]:
        folder = round_dir(self.out, index)
        folder.mkdir(parents=True, exist_ok=True)
        timings: dict[str, float] = {}
        solved = {e.problem_id for e in pool if e.source != "expert"}
        unsolved = [p for p in self.problems if p["id"] not in solved]
        sampler, source = self._sampler(index, model)
        t = time.monotonic()
        generated = self._generate(folder, index, unsolved, sampler, source)
        timings["generate"] = round(time.monotonic() - t, 1)
        candidates, verdicts = self._verify(
            folder, generated["trajectories"], index, sampler, source
        )
        pool, repeats = merge(pool, candidates)
        write_pool(folder / "pool.jsonl", pool)
        new_problems = {e.problem_id for e in candidates} - solved
        record: dict[str, Any] = {
            "round": index,
            "sampler": sampler,
            "sampled_from": source,
            "model_before": model,
            "unsolved_before": len(unsolved),
            "samples": generated["stats"].get("samples", {}),
            "samples_asked": generated["asked"],
            "verification": {**verdicts, "repeats_of_pool": repeats},
            "new_entries": len(pool) - sum(previous["pool"].values()),
            "newly_solved": len(new_problems),
            "solved_problems": len(solved | new_problems),
            "pool": counts(pool),
            "pool_size": len(pool),
        }
        t = time.monotonic()
        record.update(self._train(folder, index, pool, model))
        record["instances_added"] = record["instances"] - previous.get("instances", 0)
        timings["build_and_train"] = round(time.monotonic() - t, 1)
        t = time.monotonic()
        if record["trained"]:
            record["eval"] = self.evaluator(record["model_after"], folder / "eval")
        else:  # the same model as before: its numbers are the previous round's
            record["eval"] = previous["eval"]
        timings["eval"] = round(time.monotonic() - t, 1)
        record["timings_s"] = timings
        write_json(folder / ROUND_FILE, record)
        logger.info(
            "round %d: %d newly solved, pool %d, accuracy %.3f",
            index, record["newly_solved"], len(pool), record["eval"].get("accuracy", 0.0),
        )  # fmt: skip
        return record

    def _sampler(self, index: int, model: str) -> tuple[str, str]:
        if index == 1 and self.config.teacher:
            return self.config.teacher, "teacher"
        return model, "self"

    def _generate(
        self,
        folder: Path,
        index: int,
        unsolved: list[dict[str, Any]],
        sampler: str,
        source: str,
    ) -> dict[str, Any]:
        """``srl data generate`` on the unsolved problems; its kept trajectories and stats."""
        from srlkit.data.schema import Trajectory
        from srlkit.teacher.config import GenerateConfig
        from srlkit.teacher.run import TRAJECTORIES_FILE, run_teacher

        asked = [{k: p[k] for k in ("id", "problem", "answer")} for p in unsolved]
        write_jsonl(folder / "problems.jsonl", asked)
        if not asked:
            return {"trajectories": [], "stats": {}, "asked": 0}
        c = self.config
        teacher = source == "teacher"
        prompt = (
            c.teacher_prompt_file
            if teacher
            else (c.prompt_file or str(solve_prompt_file(self.out)))
        )
        generate = GenerateConfig(
            inputs=[str(folder / "problems.jsonl")],
            out=str(folder / "generate"),
            teacher=sampler,
            teacher_model=c.teacher_model if teacher else "",
            api_key_env=c.api_key_env,
            backend=c.backend,
            prompt_file=prompt,
            num_samples=c.num_samples,
            temperature=c.temperature,
            top_p=c.top_p,
            max_tokens=c.max_tokens,
            seed=c.seed + 1000 * index,
            concurrency=c.concurrency,
            batch_size=c.batch_size,
            device=c.device,
            dtype=c.dtype,
            min_steps=c.min_steps,
            progress=c.progress,
        )
        stats = run_teacher(generate)
        kept = [
            Trajectory.from_dict(rec)
            for _, rec in iter_jsonl(folder / "generate" / TRAJECTORIES_FILE)
        ]
        return {"trajectories": kept, "stats": stats, "asked": stats["samples"]["in"]}

    def _verify(
        self, folder: Path, kept: list[Any], index: int, sampler: str, source: str
    ) -> tuple[list[PoolEntry], dict[str, Any]]:
        """The process check over the outcome-verified solutions; the entries that pass the
        loop's verifier, and the counts (written to ``verify.json``)."""
        reasons: Counter = Counter()
        entries: list[PoolEntry] = []
        repaired = 0
        for trajectory in kept:
            if source == "self" and (fixed := renumbered(trajectory)) is not None:
                trajectory, repaired = fixed, repaired + 1
            problem_id = str(trajectory.metadata.get("record_id"))
            reason = self.check(self.by_id[problem_id], trajectory) if self.check else None
            if reason is not None:
                reasons[reason] += 1
                if self.config.verification == "process":
                    continue
            weight = self.config.self_weight
            verifier = self.config.verification
            entries.append(
                PoolEntry(trajectory, source, index, sampler, verifier, weight, problem_id)
            )
        verdicts = {
            "outcome_verified": len(kept),
            "renumbered": repaired,
            "process_checked": self.check is not None,
            "process_failed": dict(reasons),
            "outcome_only_wrongly_let_in": reasons.get("wrong_chain", 0) if self.check else None,
            "kept": len(entries),
        }
        write_json(folder / "verify.json", verdicts)
        return entries, verdicts

    def _train(self, folder: Path, index: int, pool: list[PoolEntry], model: str) -> dict[str, Any]:
        """Build the round's step instances from the pool and train SRL from ``model``."""
        if not pool:
            logger.warning("round %d: the pool is empty, nothing to train on", index)
            return {"trained": False, "model_after": model, "instances": 0}
        from srlkit.data.build import BuildConfig, build_dataset
        from srlkit.data.instances import InstanceOptions
        from srlkit.options import to_argv
        from srlkit.training.invoke import train_command

        c = self.config
        trajectories = folder / "train_trajectories.jsonl"
        write_jsonl(trajectories, (t.to_dict() for t in training_trajectories(pool)))
        instances = InstanceOptions(
            targets=c.targets, layout=c.layout, answer_opening=c.answer_opening,
            title_hint=c.title_hint,
        )  # fmt: skip
        build = BuildConfig(
            instances=instances, validation_size=0, dedup=False, parquet=False, seed=c.seed
        )
        stats = build_dataset([trajectories], folder / "data", build)
        argv = ["--config", str(c.train_config)] + to_argv(
            {
                "model_name_or_path": model,
                "train_file": str(folder / "data"),
                "output_dir": str(folder / "train"),
                "seed": c.seed,
                "disable_tqdm": not c.progress,
            }
        )
        run = train_command("srl", argv, launcher=c.train_launcher)
        return {
            "trained": True,
            "model_after": run["model_dir"],
            "instances": stats.splits["train"].instances,
            "train_command": run["command"],
            "rollouts_generated": run["rollouts_generated"],
            "kept_fraction": run["kept_fraction"],
            "final_step_reward": _last(run["history"], "reward"),
        }

    # -- the summary ---------------------------------------------------------------------------
    def _summary(self, records: list[dict[str, Any]]) -> dict[str, Any]:
        rounds = [r for r in records if r["round"] > 0]
        return {
            "config": asdict(self.config),
            "problems": len(self.problems),
            "curve": [
                {
                    "round": r["round"],
                    "accuracy": r["eval"].get("accuracy"),
                    "pool_size": r["pool_size"],
                    "solved_problems": r["solved_problems"],
                    "newly_solved": r.get("newly_solved", 0),
                }
                for r in records
            ],
            "filters": {
                "outcome_verified": sum(r["verification"]["outcome_verified"] for r in rounds),
                "outcome_only_wrongly_let_in": (
                    sum(r["verification"]["outcome_only_wrongly_let_in"] or 0 for r in rounds)
                    if self.check
                    else None
                ),
                "process_failed": dict(
                    sum((Counter(r["verification"]["process_failed"]) for r in rounds), Counter())
                ),
                "kept": sum(r["verification"]["kept"] for r in rounds),
            },
            "rollouts": {
                "sampled": sum(r["samples_asked"] for r in rounds),
                "training": sum(r.get("rollouts_generated") or 0 for r in rounds),
            },
            "rounds": records,
        }


def _last(history: list[dict[str, Any]], key: str) -> float | None:
    values = [h[key] for h in history if key in h]
    return values[-1] if values else None

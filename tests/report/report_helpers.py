"""Run folders for report tests, written by the same code paths real runs use.

Rollout records are built by :func:`srlkit.training.rollout_log.rollout_entry` with rewards
from :func:`srlkit.rewards.srl.srl_step_reward`; the evaluation run is written by
:func:`srlkit.evaluation.runner.run_evaluation` with a scripted, model-free backend.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

from srlkit.evaluation.backends import FINISH_STOP, Generation
from srlkit.io import write_json, write_jsonl
from srlkit.rewards.srl import srl_step_reward
from srlkit.training import dynamic_sampling as ds
from srlkit.training.rollout_log import MatchSettings, rollout_entry

KNOWN_TARGET = "Multiply the 12 boxes by 4 pencils: 12 * 4 = 48 pencils."
KNOWN_COMPLETION = "<think>count them</think>Multiply 12 boxes with 4 pens: 12 * 4 = 48 pens."
REWARD_NAME = "srl_step_reward"


def _mutate(text: str, rng: random.Random) -> str:
    chars = list(text)
    for _ in range(rng.randint(0, len(chars) // 3)):
        i = rng.randrange(len(chars))
        op = rng.random()
        if op < 0.4:
            chars[i] = rng.choice("abcdefxyz0123456789 ")
        elif op < 0.7:
            del chars[i]
        else:
            chars.insert(i, rng.choice("+-*= the"))
    return "".join(chars)


def _completion(target: str, rng: random.Random) -> str:
    if rng.random() < 0.1:
        return _mutate(target, rng)  # no think block: fails the format check
    return f"<think>step {rng.randint(1, 9)}</think>{_mutate(target, rng)}"


def group_record(step: int, group: int, target: str, completions: list[str], split: str = "train"):
    rewards = srl_step_reward(completions, target=[target] * len(completions))
    std = float(ds.group_population_std([rewards])[0])
    rollouts = [
        rollout_entry(c, {"target": target}, {REWARD_NAME: r}, r, MatchSettings(), 4000)
        for c, r in zip(completions, rewards)
    ]
    return {
        "split": split,
        "step": step,
        "round": 0,
        "group": group,
        "prompt": f"Problem {group}: a shop sells boxes of pencils. What is the next step?",
        "target": target,
        "answer": None,
        "kind": "math",
        "reward_mean": sum(rewards) / len(rewards),
        "reward_std": std,
        "kept": None if split == "eval" else std > ds.DEFAULT_STD_EPSILON,
        "rollouts": rollouts,
        "matcher": {"autojunk": False, "metric": "sequence_matcher"},
    }


def write_train_run(path: Path, steps: int = 6, groups: int = 3, G: int = 4, seed: int = 0) -> Path:
    """metrics.jsonl, best_checkpoint.json and rollouts.jsonl of a made-up SRL run."""
    rng = random.Random(seed)
    path.mkdir(parents=True, exist_ok=True)
    records, history = [], []
    targets = [KNOWN_TARGET, "Add 7 apples to 5 apples: 7 + 5 = 12 apples.", "So x = 48 / 6 = 8."]
    for step in range(1, steps + 1):
        step_records = []
        for g in range(groups):
            target = targets[g % len(targets)]
            completions = [_completion(target, rng) for _ in range(G)]
            if step == 1 and g == 0:
                completions[0] = KNOWN_COMPLETION
            if g == groups - 1 and step % 2 == 0:
                completions = [completions[0]] * G  # a flat group: dropped
            step_records.append(group_record(step, g, target, completions))
        records += step_records
        rewards = [ro["reward"] for rec in step_records for ro in rec["rollouts"]]
        mean = sum(rewards) / len(rewards)
        history.append(
            {
                "step": step,
                "loss": 0.5 / step,
                "reward": mean,
                "reward_std": (sum((r - mean) ** 2 for r in rewards) / len(rewards)) ** 0.5,
                "dynamic_sampling/kept_fraction": sum(r["kept"] for r in step_records) / groups,
                "dynamic_sampling/generation_rounds": 1 + step % 2,
                "completions/mean_length": 20 + step,
            }
        )
        if step % 3 == 0:
            history.append({"step": step, "eval_reward": 0.1 * step, "eval_loss": 1.0 / step})
            records.append(group_record(step, 0, KNOWN_TARGET, [KNOWN_COMPLETION] * G, "eval"))
    write_jsonl(path / "metrics.jsonl", history)
    write_jsonl(path / "rollouts.jsonl", records)
    write_json(
        path / "best_checkpoint.json",
        {"path": str(path / "checkpoint-6"), "step": 6, "metric": "reward", "value": 0.6},
    )
    return path


class ScriptedBackend:
    """Answers every prompt with its gold answer on even calls and a wrong one on odd calls."""

    name = "scripted"
    chunk_size = 4

    class tokenizer:
        chat_template = None

    def __init__(self, golds: dict[str, str]):
        self.golds, self.calls = golds, 0

    def generate(self, prompts, settings):
        out = []
        for prompt in prompts:
            gold = next(g for p, g in self.golds.items() if prompt.startswith(p))
            answer = gold if self.calls % 2 == 0 else "nothing"
            self.calls += 1
            text = f"<think>work</think> so \\boxed{{{answer}}}"
            out.append(Generation(text, len(text.split()) + 1, FINISH_STOP))
        return out


def write_eval_run(path: Path, shared_data: Path, benchmarks=("aime24", "gsm8k")) -> Path:
    """An `srl eval` output folder (greedy + k=2 samples on 4 problems of each benchmark)."""
    from srlkit.evaluation.benchmarks import BENCHMARKS, load_benchmark
    from srlkit.evaluation.runner import EvalConfig, run_evaluation

    golds = {}
    for name in benchmarks:
        for p in load_benchmark(BENCHMARKS[name], shared_data).problems[:4]:
            golds[p.problem] = p.gold
    config = EvalConfig(
        model="scripted",
        out_dir=str(path),
        benchmarks=list(benchmarks),
        data_dir=str(shared_data),
        k=2,
        limit=4,
    )
    run_evaluation(config, ScriptedBackend(golds))
    return path


def write_demo_run(path: Path) -> Path:
    """A demo output folder: results.json as `srl demo` writes it (its method list, numbers and
    reading), and its first seed's SRL run (rollouts on disk, history in results.json)."""
    run = path / "seed-0" / "runs" / "srl"
    write_train_run(run, steps=4)
    history = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]

    def method(accuracy: float, correct: int, exact: float, reward: float) -> dict:
        return {
            "accuracy": accuracy,
            "accuracy_se": 0.05,
            "n": 4,
            "correct_chains": correct,
            "exact_step": exact,
            "step_reward": reward,
            "mean_tokens": 40.0,
            "rollouts": 32,
        }

    srl = method(0.25, 1, 0.3, 0.7)
    srl["examples"] = [
        {
            "id": "test-00000",
            "problem": "Start with 3. Operations: (1) add 4. What is the value after each operation?",
            "completion": "1. **Add 4** 3 + 4 = 7",
            "answer": "(7)",
            "extracted": "7",
            "correct": False,
        }
    ]
    names = {"base": "base", "rlvr": "RLVR", "srl": "SRL", "srl_rlvr": "SRL->RLVR"}
    write_json(path / "demo_config.json", {"config": {}})
    write_json(
        path / "results.json",
        {
            "config": {"grpo": {"steps": 4}},
            "methods": [{"name": k, "label": v} for k, v in names.items()],
            "seeds": {"0": {"srl": {"history": history}}},
            "base": method(0.0, 0, 0.1, 0.4),
            "rlvr": method(0.0, 0, 0.05, 0.3),
            "srl": srl,
            "srl_rlvr": method(0.25, 1, 0.2, 0.6),
            "reading": ["SRL - base = +25.0 points (+1.0 standard errors): within noise."],
        },
    )
    return path


def _loop_round(index: int, source: str, pool: dict, accuracy: float, **numbers) -> dict:
    """One round of ``loop.json`` as ``srlkit.loop.rounds`` writes it (round 1 and later)."""
    failed = numbers.pop("process_failed")
    return {
        "round": index,
        "sampler": "runs/teacher" if source == "teacher" else f"runs/loop/round-{index - 1}/train",
        "sampled_from": source,
        "model_before": f"runs/loop/round-{index - 1}/train",
        "unsolved_before": numbers["unsolved_before"],
        "samples": {"in": numbers["samples_asked"], "kept": numbers["outcome_verified"],
                    "dropped_total": numbers["samples_asked"] - numbers["outcome_verified"],
                    "dropped": {"wrong_answer": numbers["samples_asked"]
                                - numbers["outcome_verified"]}},
        "samples_asked": numbers["samples_asked"],
        "verification": {"outcome_verified": numbers["outcome_verified"],
                         "renumbered": numbers["outcome_verified"] // 2, "process_checked": True,
                         "process_failed": failed, "outcome_only_wrongly_let_in":
                         numbers["wrongly_let_in"], "kept": numbers["kept"],
                         "repeats_of_pool": 0},
        "new_entries": numbers["kept"],
        "newly_solved": numbers["newly_solved"],
        "solved_problems": numbers["solved"],
        "pool": pool,
        "pool_size": sum(pool.values()),
        "trained": True,
        "model_after": f"runs/loop/round-{index}/train",
        "instances": numbers["instances"],
        "instances_added": numbers["instances"] - (12 if index == 2 else 0),
        "train_command": f"srl train srl --output_dir runs/loop/round-{index}/train",
        "rollouts_generated": 24,
        "kept_fraction": 0.75,
        "final_step_reward": 0.9,
        "eval": {"accuracy": accuracy, "n": 16, "correct_chains": 3,
                 "right_answer_wrong_chain": 1, "step_reward": 0.95, "exact_step": 0.75},
        "timings_s": {"generate": 1.4, "build_and_train": 0.6, "eval": 0.7},
    }  # fmt: skip


LOOP_ACCURACY = (0.25, 0.375, 0.3125)


def write_loop_run(path: Path, train_steps: int = 3) -> Path:
    """An ``srl loop`` folder: loop.json and loop_key.json (the shape ``srlkit.loop.rounds``
    and the demo's comparisons write), and each round's SRL training at round-<r>/train."""
    path.mkdir(parents=True, exist_ok=True)
    rounds = [
        {"round": 0, "model_after": "student", "expert_pool": {"read": 2, "kept": 2, "dropped": {}},
         "pool": {"expert": 2, "teacher": 0, "self": 0}, "pool_size": 2, "solved_problems": 0,
         "eval": {"accuracy": LOOP_ACCURACY[0], "n": 16, "exact_step": 0.7},
         "timings_s": {"eval": 1.1}},
        _loop_round(1, "teacher", {"expert": 2, "teacher": 3, "self": 0}, LOOP_ACCURACY[1],
                    unsolved_before=16, samples_asked=64, outcome_verified=4,
                    process_failed={"misnumbered_steps": 1}, wrongly_let_in=1, kept=3,
                    newly_solved=3, solved=3, instances=12),
        _loop_round(2, "self", {"expert": 2, "teacher": 3, "self": 2}, LOOP_ACCURACY[2],
                    unsolved_before=13, samples_asked=52, outcome_verified=2,
                    process_failed={}, wrongly_let_in=0, kept=2, newly_solved=2, solved=5,
                    instances=20),
    ]  # fmt: skip
    summary = {
        "config": {"model": "student", "rounds": 2, "verifier": "process"},
        "problems": 16,
        "curve": [
            {"round": r["round"], "accuracy": r["eval"]["accuracy"], "pool_size": r["pool_size"],
             "solved_problems": r["solved_problems"], "newly_solved": r.get("newly_solved", 0)}
            for r in rounds
        ],
        "filters": {"outcome_verified": 6, "outcome_only_wrongly_let_in": 1,
                    "process_failed": {"misnumbered_steps": 1}, "kept": 5},
        "rollouts": {"sampled": 116, "training": 48},
        "rounds": rounds,
        "comparisons": {
            "srl_expert": {"steps": 8, "rollouts_generated": 56, "accuracy": 0.4375,
                           "command": "srl train srl ..."},
            "rlvr_budget": {"steps": 22, "rollouts_generated": 352, "accuracy": 0.1875,
                            "command": "srl train rlvr ..."},
        },
        "reading": ["accuracy by round: 0: 25.0%, 1: 37.5%, 2: 31.2%; pool size: 2, 5, 7",
                    "6 sampled solutions had the right answer; 1 of them through a wrong chain"],
    }  # fmt: skip
    write_json(path / "loop.json", summary)
    write_json(path / "loop_key.json", summary["config"])
    for index in (1, 2):
        write_train_run(path / f"round-{index}" / "train", steps=train_steps, seed=index)
    (path / "round-0").mkdir(exist_ok=True)  # round 0 trains nothing: no train folder
    return path

"""One demo stage = one toolkit command: ``srl train METHOD`` or ``srl eval`` + ``srl eval-steps``.

The demo builds no trainer and computes no metric of its own beyond its task's process check:
a training stage is :func:`srlkit.training.runner.run` on the argument list that the printed
``srl train`` command carries (so a user can rerun any stage from the terminal, and the run
folder holds what every ``srl train`` run holds: ``config.yaml``, ``metrics.jsonl``,
``rollouts.jsonl``, ``run_summary.json``), and resume and "finished, nothing to do" are the
runner's. An evaluation stage is ``srl eval`` on the seed's test file and ``srl eval-steps`` on
its step instances (both resumable sample stores); from their sample records the demo adds what
only its task can check: whether every line of a solution is the expert's (a *correct chain*).

Why the demo's settings differ from the recipes' (which follow the paper): a 0.36M-parameter
student on a CPU needs a far larger learning rate than a 7B model (1e-4, not 5e-7), short
completions and a few prompts per step. Everything else is the trainer's default.
"""

from __future__ import annotations

import json
import logging
import re
import shlex
import shutil
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from srlkit.demo.data import DemoData
from srlkit.demo.methods import MethodSpec
from srlkit.demo.prompts import THINK_OPEN
from srlkit.demo.tasks import written_results
from srlkit.evaluation.prompts import SOLVE_TEMPLATE
from srlkit.io import iter_jsonl
from srlkit.options import to_argv
from srlkit.rewards.similarity import DEFAULT_METRIC
from srlkit.training.invoke import train_command

logger = logging.getLogger(__name__)

SOLVE_TOKENS = 192
"""Tokens of a whole solution (8 operations and the tuple answer take about 150)."""
STEP_TOKENS = 48
"""Tokens of one step (the answer step, a tuple of up to 8 values, takes about 35)."""
SAMPLES_BENCHMARK = "chain"


@dataclass(frozen=True)
class GRPOSettings:
    """The knobs of one GRPO run on the demo task (the same for every RL method, but SRL's
    prompts per step: ``srl_batch_ratio``)."""

    steps: int = 40
    prompts_per_step: int = 4
    srl_batch_ratio: int = 4
    """SRL's prompts per step as a multiple of ``prompts_per_step``: the paper trains SRL on
    batches of 512 prompts and RLVR on 128. An SRL rollout is one step (at most 48 tokens), an
    RLVR rollout a whole solution (up to 192), so both generate about as many tokens a step.
    With SRL at RLVR's batch its step gains did not reach whole solutions (trial 36); at the
    paper's ratio they did (trial 40, docs/paper-table.md)."""
    num_generations: int = 8
    learning_rate: float = 1e-4
    step_completion_length: int = STEP_TOKENS
    solution_completion_length: int = SOLVE_TOKENS
    max_generation_rounds: int = 4
    r3_stages: int = 4
    step_metric: str = "levenshtein"
    """SRL's similarity metric (:mod:`srlkit.rewards.similarity`). Not the paper's character
    ``2M/T`` (``sequence_matcher``, the toolkit's default): on this task it scores a two-digit
    value cut to its first digit (``8 * 2 = 1``) above any wrong whole value, and SRL learned to
    cut values on two seeds of three; edit distance charges a cut like a wrong digit
    (docs/paper-table.md, trials 30-32)."""

    def prompts(self, algorithm: str | None) -> int:
        """Prompts per step of a run of ``srl train ALGORITHM``."""
        return self.prompts_per_step * (self.srl_batch_ratio if algorithm == "srl" else 1)

    def rollouts(self, algorithm: str | None) -> int:
        """Rollouts a run is budgeted (dynamic sampling may generate more to refill)."""
        return self.steps * self.prompts(algorithm) * self.num_generations


@dataclass(frozen=True)
class SFTSettings:
    """The SFT baseline: TRL's SFTTrainer on the expert's whole solutions."""

    epochs: float = 2.0
    learning_rate: float = 1e-3
    batch_size: int = 16
    warmup_ratio: float = 0.05


@dataclass(frozen=True)
class EvalSettings:
    """``samples`` > 0 adds avg@samples and pass@samples at temperature 1.0."""

    samples: int = 0
    batch_size: int = 64


def train_argv(
    spec: MethodSpec,
    start_model: str,
    data: DemoData,
    run_dir: Path,
    grpo: GRPOSettings,
    sft: SFTSettings,
    seed: int,
    progress: bool = True,
) -> list[str]:
    """The ``srl train`` options of one method's run (``spec.flags`` last, so they win)."""
    options: dict[str, Any] = {
        "model_name_or_path": start_model,
        "train_file": str(data.path(spec.data)),
        "output_dir": str(run_dir),
        "use_cpu": "true",
        "bf16": "false",
        "report_to": "none",
        "save_strategy": "no",
        "seed": seed,
        "disable_tqdm": str(not progress).lower(),
    }
    if spec.algorithm == "sft":
        options.update(
            num_train_epochs=sft.epochs,
            learning_rate=sft.learning_rate,
            per_device_train_batch_size=sft.batch_size,
            warmup_steps=sft.warmup_ratio,
            logging_steps=10,
        )
    else:
        whole = spec.algorithm != "srl"
        options.update(
            per_device_train_batch_size=grpo.prompts(spec.algorithm) * grpo.num_generations,
            num_generations=grpo.num_generations,
            max_completion_length=(
                grpo.solution_completion_length if whole else grpo.step_completion_length
            ),
            max_steps=grpo.steps,
            learning_rate=grpo.learning_rate,
            max_generation_rounds=grpo.max_generation_rounds,
            logging_steps=1,
        )
        if spec.algorithm == "srl" and grpo.step_metric != DEFAULT_METRIC:
            options["reward_funcs"] = json.dumps({"srl_step": {"metric": grpo.step_metric}})
        if spec.algorithm == "r3":
            options.update(
                r3_stages=grpo.r3_stages,
                r3_prefix_open=THINK_OPEN,
                rlvr_prompt_template=SOLVE_TEMPLATE,
            )
    options.update(spec.flags)
    return to_argv(options)


def train(algorithm: str, argv: list[str]) -> dict[str, Any]:
    """Run ``srl train ALGORITHM argv`` in this process; the run's summary for the results."""
    return train_command(algorithm, argv)


def _forget_other_model(folder: Path, model_dir: str) -> None:
    """An evaluation folder of the demo made for another model path (a moved or copied demo
    folder, another installation's shipped student) is the demo's own: it is evaluated again
    instead of refused, as ``srl eval`` refuses a folder made with other settings."""
    saved = folder / "config.json"
    if saved.is_file() and json.loads(saved.read_text("utf-8")).get("model") != model_dir:
        logger.info("%s was evaluated for another model path: evaluating again", folder)
        shutil.rmtree(folder)


def evaluate(
    model_dir: str, data: DemoData, out_dir: Path, settings: EvalSettings, seed: int
) -> dict[str, Any]:
    """``srl eval`` (whole solutions) and ``srl eval-steps`` (next steps) of one model; the
    result names both commands, so a user can rerun them."""
    from srlkit.evaluation.runner import EvalConfig, run_evaluation
    from srlkit.evaluation.steps import StepEvalConfig, run_step_evaluation

    common = {"batch_size": settings.batch_size, "seed": seed, "device": "cpu", "dtype": "float32"}
    solve_options = {
        "out_dir": str(out_dir / "solve"),
        "benchmarks": [f"{SAMPLES_BENCHMARK}={data.path('test_problems')}"],
        "k": settings.samples,
        "greedy": True,
        "max_new_tokens": SOLVE_TOKENS,
        **common,
    }
    step_options = {
        "data": str(data.path("test_instances")),
        "out_dir": str(out_dir / "steps"),
        "max_new_tokens": STEP_TOKENS,
        "temperature": 0.0,
        **common,
    }
    for folder in (out_dir / "solve", out_dir / "steps"):
        _forget_other_model(folder, model_dir)
    solve = run_evaluation(EvalConfig(model=model_dir, **solve_options))
    steps = run_step_evaluation(StepEvalConfig(model=model_dir, **step_options))
    samples = [
        rec for _, rec in iter_jsonl(out_dir / "solve" / "samples" / f"{SAMPLES_BENCHMARK}.jsonl")
    ]
    step_records = [rec for _, rec in iter_jsonl(out_dir / "steps" / "steps.jsonl")]
    problems = [rec for _, rec in iter_jsonl(data.path("test_problems"))]
    benchmark = solve["benchmarks"][SAMPLES_BENCHMARK]
    return {
        "model": model_dir,
        "eval_commands": [
            shlex.join(["srl", "eval", model_dir, *to_argv(solve_options)]),
            shlex.join(
                ["srl", "eval-steps", model_dir, step_options["data"]]
                + to_argv({k: v for k, v in step_options.items() if k != "data"})
            ),
        ],
        **solution_metrics(problems, samples, benchmark, settings.samples),
        **step_metrics(steps, step_records),
    }


_THINK_RE = re.compile(r"<think>.*?</think>", re.DOTALL)
_NUMBER_RE = re.compile(r"^\d+\.\s*")


def _steps(text: str) -> list[str]:
    """Non-empty lines without their leading step number (``3. ``)."""
    return [_NUMBER_RE.sub("", line.strip()) for line in text.splitlines() if line.strip()]


def expert_lines(solution: str) -> list[str]:
    """The expert's steps (title and equation, or the answer), in order, numbers dropped."""
    return _steps(solution)


def solution_lines(text: str) -> list[str]:
    """The steps a solution writes outside its think blocks, in order, numbers dropped.

    The process check compares what each step does (its title and its equation), not how it is
    numbered: the student sometimes numbers two steps alike (``5.`` twice) in an otherwise right
    chain, a slip of counting, not of reasoning.
    """
    return _steps(_THINK_RE.sub("", text))


def solution_metrics(
    problems: list[dict[str, Any]],
    samples: list[dict[str, Any]],
    benchmark: dict[str, Any],
    k: int,
) -> dict[str, Any]:
    """Accuracy (``srl eval``'s), correct chains and right answers from wrong chains, per problem.

    ``two_digit_results`` counts the equations whose right result (from the solution's own
    operands) has two digits: how many were written right, and how many *cut* to one of their
    digits (``8 * 2 = 1``), the error the paper's character similarity rewards over a wrong
    whole value (docs/demo.md).

    ``problems`` are the test file's records in order (``srl eval`` numbers them 0, 1, ...).
    """
    greedy = {r["problem_id"]: r for r in samples if r["mode"] == "greedy"}
    right, chains, tokens, texts = [], [], [], []
    for index, problem in enumerate(problems):
        record = greedy.get(str(index), {})
        text = record.get("completion", "")
        right.append(int(record.get("correct") is True))
        chains.append(int(solution_lines(text) == expert_lines(problem["solution"])))
        tokens.append(int(record.get("num_tokens", 0)))
        texts.append(text)
    n = len(problems)
    accuracy = float(benchmark["greedy"]["accuracy"])
    result: dict[str, Any] = {
        "accuracy": accuracy,
        "accuracy_se": (accuracy * (1 - accuracy) / n) ** 0.5 if n else 0.0,
        "n": n,
        "correct": sum(right),
        "correct_chains": sum(chains),
        "right_answer_wrong_chain": sum(r and not c for r, c in zip(right, chains, strict=True)),
        "correct_by_problem": right,
        "chain_by_problem": chains,
        "mean_tokens": sum(tokens) / max(1, n),
        "two_digit_results": two_digit_results(texts),
        "examples": [
            {"id": problems[i]["id"], "problem": problems[i]["problem"], **_example(greedy, i)}
            for i in range(min(3, n))
        ],
    }
    if k > 0 and "sampled" in benchmark:
        result[f"accuracy_avg@{k}"] = benchmark["sampled"]["avg"]
        result[f"pass@{k}"] = benchmark["sampled"]["pass@k"][str(k)]
    return result


def two_digit_results(solutions: Iterable[str]) -> dict[str, int]:
    """Equations of ``solutions`` whose right result (from their own operands) has two digits:
    how many, how many written right, how many cut to one of their digits (``8 * 2 = 1``)."""
    counts = {"steps": 0, "right": 0, "cut": 0}
    for text in solutions:
        for value, written in written_results(_THINK_RE.sub("", text)):
            if 10 <= value <= 99:
                counts["steps"] += 1
                counts["right"] += written == str(value)
                counts["cut"] += len(written) == 1 and written in str(value)
    return counts


def _example(greedy: dict[str, dict[str, Any]], index: int) -> dict[str, Any]:
    record = greedy.get(str(index), {})
    return {
        "answer": record.get("gold"),
        "extracted": record.get("extracted"),
        "correct": record.get("correct") is True,
        "completion": record.get("completion", ""),
    }


def step_kind(target: str) -> str:
    """``double``, ``add_subtract`` or ``answer`` from an expert step's title."""
    title = target.split("**")[1] if target.count("**") >= 2 else ""
    if title == "Double":
        return "double"
    return "add_subtract" if title.startswith(("Add", "Subtract")) else "answer"


def step_metrics(summary: dict[str, Any], records: list[dict[str, Any]]) -> dict[str, Any]:
    """``srl eval-steps``' numbers, with exact next steps split by the task's step kinds."""
    by_kind: dict[str, list[bool]] = defaultdict(list)
    for record in records:
        by_kind[step_kind(record["target"])].append(bool(record["exact_match"]))
    return {
        "step_reward": summary["mean_reward"],
        "format_failure_rate": summary["format_failure_rate"],
        "exact_step": summary["exact_match_rate"],
        "exact_step_by_kind": {k: sum(v) / len(v) for k, v in sorted(by_kind.items())},
        "step_instances": summary["n_instances"],
    }

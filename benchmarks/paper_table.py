"""A miniature reproduction of the SRL paper's main table and its two ablations, on CPU.

Every method starts from the same cached base student (``srlkit.demo.student``, warm-started on
fresh easy chain problems, doubling rare) and is evaluated on the same held-out hard problems
(the ``chain-hard`` benchmark: 7-8 operations, at least two doublings):

    base | SFT (solutions) | RLVR | R3 | SFT -> RLVR | SRL | SRL -> RLVR
    ablations: SRL without dynamic sampling | similarity on the whole solution in one step

RLVR, R3, SRL and the ablations get the same rollout budget (steps x prompts x rollouts) and
the same GRPO settings as ``srl demo`` (40 steps of 4 prompts x 8 rollouts, lr 1e-4); SRL trains
on the demo's continuation-layout step instances.

Per seed the hard training problems and every training run's randomness change; the base student
and the held-out test set stay fixed, so differences between rows are the methods'. Results go to
``--out`` one JSON file per (seed, method), so an interrupted run resumes where it stopped;
the table (mean and spread over seeds) is printed and written as markdown.

    .venv/bin/python benchmarks/paper_table.py --seeds 0,1,2 --out runs/paper_table
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from srlkit.demo import prompts
from srlkit.demo.evaluate import EvalSettings, evaluate_model, load_model, standard_error
from srlkit.demo.sft import SFTExample, SFTSettings, train_sft
from srlkit.demo.student import StudentConfig, build_student
from srlkit.demo.tasks import HARD, generate_problems, held_out_problems
from srlkit.demo.train import (
    GRPOSettings,
    r3_dataset,
    run_grpo,
    solve_dataset,
    srl_dataset,
    whole_solution_reward,
)
from srlkit.io import write_json

logger = logging.getLogger("paper_table")

METHODS = ["base", "sft", "rlvr", "r3", "sft_rlvr", "srl", "srl_rlvr", "srl_no_ds", "srl_whole"]
LABELS = {
    "base": "base student",
    "sft": "SFT (solutions)",
    "rlvr": "RLVR",
    "r3": "R3 (reverse curriculum)",
    "sft_rlvr": "SFT -> RLVR",
    "srl": "SRL",
    "srl_rlvr": "SRL -> RLVR",
    "srl_no_ds": "ablation: SRL without dynamic sampling",
    "srl_whole": "ablation: similarity on the whole solution (one step)",
}


@dataclass(frozen=True)
class TableConfig:
    train_problems: int = 256
    test_problems: int = 256
    srl: GRPOSettings = field(default_factory=lambda: GRPOSettings(show_progress=False))
    rlvr: GRPOSettings = field(
        default_factory=lambda: GRPOSettings(max_completion_length=160, show_progress=False)
    )
    sft: SFTSettings = field(
        default_factory=lambda: SFTSettings(epochs=2.0, learning_rate=1e-3, batch_size=16)
    )
    eval: EvalSettings = field(default_factory=lambda: EvalSettings(samples=0))


def _seeded(settings: GRPOSettings, seed: int) -> GRPOSettings:
    return replace(settings, seed=seed)


class Runner:
    """Runs the methods of one seed, each once (results are cached as JSON under ``out``)."""

    def __init__(self, out: Path, config: TableConfig, student: Path, test: list, seed: int):
        self.out, self.config, self.student, self.seed = out, config, student, seed
        self.test = test
        self.test_instances = prompts.step_instances([p.trajectory() for p in test])
        self.train = generate_problems(
            HARD,
            config.train_problems,
            seed=100 + seed,
            prefix="hard-train",
            exclude={p.question for p in held_out_problems()},
        )
        self.models: dict[str, Path] = {"base": student}

    def result_path(self, method: str) -> Path:
        return self.out / f"seed{self.seed}" / f"{method}.json"

    def run(self, method: str) -> dict[str, Any]:
        path = self.result_path(method)
        if path.is_file():
            result = json.loads(path.read_text(encoding="utf-8"))
            self.models[method] = Path(result["model_dir"])
            return result
        start = time.monotonic()
        model_dir, history = getattr(self, f"_train_{method}")()
        trained = time.monotonic()
        metrics = evaluate_model(
            model_dir, self.test, self.test_instances, self.config.eval, LABELS[method]
        )
        metrics.pop("greedy", None)
        result = {
            "method": method,
            "seed": self.seed,
            "model_dir": str(model_dir),
            **metrics,
            "train_seconds": round(trained - start, 1),
            "eval_seconds": round(time.monotonic() - trained, 1),
            "history": history,
        }
        write_json(path, result)
        self.models[method] = Path(model_dir)
        logger.info(
            "seed %d %-10s greedy %.3f step reward %.3f (%.0f s)",
            self.seed,
            method,
            result["accuracy"],
            result.get("step_reward", float("nan")),
            time.monotonic() - start,
        )
        return result

    def _dir(self, method: str) -> Path:
        return self.out / f"seed{self.seed}" / method

    def _grpo(self, method: str, start: Path, dataset, reward, settings: GRPOSettings, kind: str):
        result = run_grpo(
            start, self._dir(method), dataset, reward, _seeded(settings, self.seed), kind
        )
        return result.model_dir, result.history

    def _train_base(self):
        return self.student, []

    def _train_sft(self):
        model, tokenizer = load_model(self.student)
        examples = [
            SFTExample(
                tuple(prompts.solve_messages(p.question)), prompts.solve_completion(p.steps())
            )
            for p in self.train
        ]
        losses = train_sft(
            model, tokenizer, examples, replace(self.config.sft, seed=self.seed), "SFT (solutions)"
        )
        final = self._dir("sft") / "model"
        model.save_pretrained(final)
        tokenizer.save_pretrained(final)
        return final, [{"step": i + 1, "loss": loss} for i, loss in enumerate(losses)]

    def _rlvr_from(self, method: str, start: Path):
        from srlkit.rewards.outcome import outcome_reward

        return self._grpo(
            method, start, solve_dataset(self.train), outcome_reward, self.config.rlvr, "rlvr"
        )

    def _srl(self, method: str, settings: GRPOSettings):

        from srlkit.rewards.srl import srl_step_reward

        instances = prompts.step_instances([p.trajectory() for p in self.train])
        dataset = srl_dataset(instances, self.student)
        return self._grpo(method, self.student, dataset, srl_step_reward, settings, "srl")

    def _train_rlvr(self):
        return self._rlvr_from("rlvr", self.student)

    def _train_r3(self):
        from transformers import AutoTokenizer

        from srlkit.rewards.outcome import outcome_reward

        settings = _seeded(self.config.rlvr, self.seed)
        dataset = r3_dataset(self.train, AutoTokenizer.from_pretrained(self.student), settings)
        return self._grpo("r3", self.student, dataset, outcome_reward, settings, "r3")

    def _train_sft_rlvr(self):
        return self._rlvr_from("sft_rlvr", self.models["sft"])

    def _train_srl(self):
        return self._srl("srl", self.config.srl)

    def _train_srl_rlvr(self):
        return self._rlvr_from("srl_rlvr", self.models["srl"])

    def _train_srl_no_ds(self):
        return self._srl("srl_no_ds", replace(self.config.srl, dynamic_sampling=False))

    def _train_srl_whole(self):
        settings = replace(
            self.config.srl, max_completion_length=self.config.rlvr.max_completion_length
        )
        dataset = solve_dataset(self.train, with_solution=True)
        return self._grpo(
            "srl_whole", self.student, dataset, whole_solution_reward, settings, "srl"
        )


COLUMNS = [
    ("accuracy", "hard greedy (%)"),
    ("correct_chains", "fully correct (of n)"),
    ("exact_step", "exact next step (%)"),
    ("double_exact", "doubling steps exact (%)"),
    ("step_reward", "step reward"),
    ("mean_tokens", "tokens"),
]


def _value(row: dict[str, Any], key: str) -> float | None:
    if key == "double_exact":
        return (row.get("exact_step_by_kind") or {}).get("double")
    value = row.get(key)
    return None if value is None else float(value)


def accuracy_cell(rows: list[dict[str, Any]]) -> str:
    """Mean over seeds ± its standard error, then the per-seed values.

    The standard error is the larger of the binomial one on the test set and the seed-to-seed
    one (sample std / sqrt(seeds)), so neither test-set nor training noise is hidden. The
    binomial one is *not* pooled over seeds: every seed is scored on the same problems, so
    test-set noise does not average out (pooling would give the untrained base, identical in
    every seed, a standard error sqrt(seeds) times too small).
    """
    values = [float(r["accuracy"]) for r in rows]
    mean = statistics.fmean(values)
    se = standard_error(mean, int(rows[0]["n"]))
    if len(values) > 1:
        se = max(se, statistics.stdev(values) / len(values) ** 0.5)
    seeds = ", ".join(f"{100 * v:.1f}" for v in values)
    return f"{100 * mean:.1f} ± {100 * se:.1f} ({seeds})"


CONTRASTS = [("srl", "base"), ("srl", "rlvr"), ("srl_rlvr", "srl"), ("srl", "sft")]


def paired_contrast(
    rows_a: list[dict[str, Any]], rows_b: list[dict[str, Any]], key: str = "correct_by_problem"
) -> tuple[float, float] | None:
    """Mean difference of two methods over seeds and its paired standard error.

    Both are scored on the same problems, so the comparison is paired by problem: for problem
    i, d_i = (a's mean over seeds) - (b's mean over seeds) of its 0/1 outcome; the difference
    is mean(d_i) and its standard error stdev(d_i) / sqrt(n). Problems both solve or both miss
    add no noise, which the unpaired error (two independent binomials) would count. Seeds are
    matched by their seed; None when a run lacks per-problem outcomes (scored before they were
    kept: ``--rescore`` adds them).
    """
    by_seed = {r["seed"]: r.get(key) for r in rows_b}
    pairs = [(a.get(key), by_seed.get(a["seed"])) for a in rows_a if a["seed"] in by_seed]
    if not pairs or any(x is None or y is None or len(x) != len(y) for x, y in pairs):
        return None
    n = len(pairs[0][0])
    diffs = [statistics.fmean(x[i] - y[i] for x, y in pairs) for i in range(n)]
    return statistics.fmean(diffs), statistics.stdev(diffs) / n**0.5


def contrast_lines(results: dict[str, list[dict[str, Any]]]) -> list[str]:
    """The table's key comparisons in points, with their paired standard errors."""
    lines = []
    for a, b in CONTRASTS:
        if not results.get(a) or not results.get(b):
            continue
        for key, what in (
            ("correct_by_problem", "accuracy"),
            ("chain_by_problem", "fully correct"),
        ):
            contrast = paired_contrast(results[a], results[b], key)
            if contrast is None:
                continue
            diff, se = contrast
            ratio = diff / se if se else float("inf") if diff else 0.0
            lines.append(
                f"- {LABELS[a]} - {LABELS[b]}, {what}: {100 * diff:+.1f} points "
                f"(paired SE {100 * se:.1f}; {ratio:+.1f} SE)"
            )
    return lines


def table_markdown(results: dict[str, list[dict[str, Any]]], seeds: list[int]) -> str:
    """The paper's layout: one row per method; accuracy as mean ± SE (per seed), others mean."""
    header = "| method | " + " | ".join(name for _, name in COLUMNS) + " | runs |"
    lines = [header, "|" + "---|" * (len(COLUMNS) + 2)]
    for method in METHODS:
        rows = results.get(method, [])
        if not rows:
            continue
        cells = [accuracy_cell(rows)]
        for key, _ in COLUMNS[1:]:
            values = [v for v in (_value(r, key) for r in rows) if v is not None]
            if not values:
                cells.append("-")
            elif key == "correct_chains":
                cells.append(" / ".join(f"{v:.0f}" for v in values) + f" of {rows[0]['n']}")
            elif key in ("exact_step", "double_exact"):
                cells.append(f"{100 * statistics.fmean(values):.1f}")
            elif key == "mean_tokens":
                cells.append(f"{statistics.fmean(values):.0f}")
            else:
                cells.append(f"{statistics.fmean(values):.3f}")
        lines.append(f"| {LABELS[method]} | " + " | ".join(cells) + f" | {len(rows)} |")
    lines.append("")
    lines.append(
        "Accuracy: mean over seeds ± standard error (the larger of the test set's binomial one and "
        f"the seed-to-seed one), per-seed values in brackets; seeds {', '.join(map(str, seeds))}. "
        "Fully correct: solutions whose every step is the expert's, per seed."
    )
    contrasts = contrast_lines(results)
    if contrasts:
        lines += ["", "Differences (mean over seeds; paired by test problem):", *contrasts]
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seeds", default="0,1,2", help="comma-separated training seeds")
    parser.add_argument("--out", default="runs/paper_table", help="results directory (resumable)")
    parser.add_argument(
        "--methods", default=",".join(METHODS), help="subset of: " + ",".join(METHODS)
    )
    parser.add_argument("--train-problems", type=int, default=TableConfig.train_problems)
    parser.add_argument("--test-problems", type=int, default=TableConfig.test_problems)
    parser.add_argument(
        "--steps", type=int, default=TableConfig().srl.steps, help="GRPO steps of every RL run"
    )
    parser.add_argument("--cache-dir", help="base-student cache (default $XDG_CACHE_HOME/srlkit)")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    parser.add_argument(
        "--rescore",
        action="store_true",
        help="re-evaluate the finished runs under --out (after a metric was added), then tabulate",
    )
    parser.add_argument(
        "--report-only",
        action="store_true",
        help="train nothing: tabulate the results already under --out for --seeds",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    import torch

    args = parse_args(argv)
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
    )
    torch.set_num_threads(args.threads)
    seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    methods = [m for m in args.methods.split(",") if m]
    unknown = set(methods) - set(METHODS)
    if unknown:
        raise SystemExit(f"unknown methods {sorted(unknown)}; expected some of {METHODS}")
    defaults = TableConfig()
    config = replace(
        defaults,
        train_problems=args.train_problems,
        test_problems=args.test_problems,
        srl=replace(defaults.srl, steps=args.steps),
        rlvr=replace(defaults.rlvr, steps=args.steps),
    )
    out = Path(args.out)
    if args.rescore:
        rescore(out, seeds, methods, config)
    if args.report_only or args.rescore:
        return report(out, seeds, methods)
    write_json(
        out / f"table_config.seeds-{'-'.join(map(str, seeds))}.json",
        {"argv": sys.argv, "config": asdict(config)},
    )
    student = build_student(StudentConfig(), args.cache_dir)
    test = held_out_problems()[: config.test_problems]
    needs = {"sft_rlvr": "sft", "srl_rlvr": "srl"}
    for seed in seeds:
        runner = Runner(out, config, student, test, seed)
        for method in METHODS:
            if method in methods or method in {needs.get(m) for m in methods}:
                runner.run(method)
    return report(out, seeds, methods)


def rescore(out: Path, seeds: list[int], methods: list[str], config: TableConfig) -> None:
    """Evaluate every finished run's saved model again and update its metrics (history kept)."""
    test = held_out_problems()[: config.test_problems]
    instances = prompts.step_instances([p.trajectory() for p in test])
    for seed in seeds:
        for method in methods:
            path = out / f"seed{seed}" / f"{method}.json"
            if not path.is_file():
                continue
            result = json.loads(path.read_text(encoding="utf-8"))
            metrics = evaluate_model(
                result["model_dir"], test, instances, config.eval, LABELS[method]
            )
            metrics.pop("greedy", None)
            write_json(path, {**result, **metrics})


def report(out: Path, seeds: list[int], methods: list[str]) -> int:
    """Tabulate every finished (seed, method) result under ``out``; missing ones are listed."""
    results: dict[str, list[dict[str, Any]]] = {m: [] for m in METHODS}
    missing = []
    for seed in seeds:
        for method in methods:
            path = out / f"seed{seed}" / f"{method}.json"
            if path.is_file():
                results[method].append(json.loads(path.read_text(encoding="utf-8")))
            else:
                missing.append(f"seed {seed} {method}")
    table = table_markdown(results, seeds)
    if missing:
        table += "\nNot finished (left out of the table): " + ", ".join(missing) + "."
    (out / "table.md").write_text(table + "\n", encoding="utf-8")
    write_json(
        out / "table.json",
        {
            m: [{k: v for k, v in r.items() if k != "history"} for r in rows]
            for m, rows in results.items()
        },
    )
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())

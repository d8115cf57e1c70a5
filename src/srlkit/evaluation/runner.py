"""Run a model on math benchmarks: greedy and k sampled answers per problem, scored, resumable.

Why this shape: every (problem, mode, sample index) is one request; requests already in the
benchmark's sample file are skipped, the rest are sorted by prompt length (so a batch pads
little) and generated chunk by chunk, each chunk scored and appended before the next. The
summary is always recomputed from the sample files, so a resumed run and an uninterrupted one
report the same numbers. Answers are graded by :func:`srlkit.rewards.outcome.score_answer`, the
one scoring function the RLVR reward also uses, so training and evaluation cannot disagree.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from srlkit.evaluation.backends import Backend, BackendOptions, SamplingSettings, backend_for
from srlkit.evaluation.benchmarks import (
    BENCHMARKS,
    GOLD_MODES,
    PAPER_BENCHMARKS,
    LoadedBenchmark,
    Problem,
    load_benchmark,
    resolve_spec,
)
from srlkit.evaluation.metrics import count_words
from srlkit.evaluation.prompts import (
    DEFAULT_INSTRUCTION,
    DEFAULT_TEMPLATE,
    build_messages,
    render_prompt,
)
from srlkit.evaluation.store import SampleStore
from srlkit.evaluation.tables import summarize_benchmark, write_reports
from srlkit.io import DataError, write_json

logger = logging.getLogger(__name__)

MODE_GREEDY = "greedy"
MODE_SAMPLE = "sample"
SAMPLE_KEY = ("problem_id", "mode", "sample_index")
# Settings that change what a finished sample would be: a resumed run must not mix them.
_FINGERPRINT_FIELDS = (
    "model", "prompt_template", "instruction", "system_prompt", "chat_template",
    "temperature", "top_p", "top_k", "max_new_tokens",
)  # fmt: skip


@dataclass
class EvalConfig(BackendOptions):
    """Everything that defines an evaluation run (the options of ``srl eval``); saved as
    ``config.json`` next to its outputs, which ``srl eval --config`` reads back."""

    model: str | None = field(
        default=None, metadata={"help": "model id or local folder to evaluate (positional)"}
    )
    out_dir: str | None = field(
        default=None,
        metadata={
            "help": "output folder (default: eval_results/<model name>-<hash of its path>-math)",
            "aliases": ["--out"],
        },
    )
    benchmarks: list[str] = field(
        default_factory=lambda: list(PAPER_BENCHMARKS),
        metadata={
            "help": f"benchmark names ({', '.join(BENCHMARKS)}, or registered with "
            "srlkit.evaluation.benchmarks.register_benchmark, such as the demo's chain-hard), "
            "JSONL files or NAME=FILE, space- or comma-separated"
        },
    )
    data_dir: str | None = field(
        default=None, metadata={"help": "read local copies (e.g. ../shared/data), not the hub"}
    )
    k: int | None = field(
        default=None,
        metadata={"help": "samples per problem for avg@k/pass@k (default: 32 AIME/AMC, else 0)"},
    )
    greedy: bool = field(
        default=True, metadata={"help": "also decode greedily (one answer per problem)"}
    )
    temperature: float = field(default=1.0, metadata={"help": "sampling temperature for avg@k"})
    top_p: float = field(default=1.0, metadata={"help": "nucleus sampling (1.0 = off)"})
    top_k: int = field(default=0, metadata={"help": "top-k sampling (0 = off)"})
    max_new_tokens: int = field(default=4096, metadata={"help": "tokens generated at most"})
    limit: int | None = field(default=None, metadata={"help": "evaluate only the first N problems"})
    prompt_template: str = field(
        default=DEFAULT_TEMPLATE, metadata={"help": "user turn; uses {problem} and {instruction}"}
    )
    instruction: str = field(
        default=DEFAULT_INSTRUCTION, metadata={"help": "the answer-format instruction"}
    )
    system_prompt: str | None = field(default=None, metadata={"help": "optional system message"})
    chat_template: bool = field(
        default=True,
        metadata={
            "help": "render prompts with the tokenizer's chat template (--no_chat_template "
            "for base models: plain text)"
        },
    )
    problem_field: str = field(default="problem", metadata={"help": "custom JSONL: problem field"})
    answer_field: str = field(default="answer", metadata={"help": "custom JSONL: answer field"})
    gold_from: str = field(
        default="answer",
        metadata={
            "help": f"custom JSONL: how the answer field holds the gold ({', '.join(GOLD_MODES)})"
        },
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        self.benchmarks = [
            b.strip() for item in self.benchmarks for b in item.split(",") if b.strip()
        ]
        if self.gold_from not in GOLD_MODES:
            raise ValueError(f"gold_from must be one of {', '.join(GOLD_MODES)}")
        for name in self.benchmarks:  # a typo should fail before a model is loaded
            resolve_spec(name)

    def fingerprint(self) -> dict[str, Any]:
        return {f: getattr(self, f) for f in _FINGERPRINT_FIELDS}


def _check_resumable(config: EvalConfig, out: Path) -> None:
    """Refuse to resume into a directory whose samples were generated with other settings."""
    path = out / "config.json"
    if not path.exists():
        return
    try:
        previous = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DataError(path, f"unreadable run config: {exc}") from exc
    changed = {
        f: (previous.get(f), v) for f, v in config.fingerprint().items() if previous.get(f) != v
    }
    if changed:
        detail = ", ".join(f"{f}: {a!r} -> {b!r}" for f, (a, b) in changed.items())
        raise DataError(
            path,
            f"this output directory holds a run with other settings ({detail}); use another --out",
        )


def score_completion(completion: str, gold: str) -> dict[str, Any]:
    """Grade one completion with the shared outcome scorer; never raises on model output."""
    from srlkit.rewards.outcome import score_answer

    result = score_answer(completion, gold)
    correct = None if result.score is None else result.score >= 1.0
    return {"extracted": result.extracted, "correct": correct, "reason": result.reason}


def _seed_for(seed: int, key: tuple[Any, ...]) -> int:
    """A chunk's seed from the run seed and its first request, stable across resumes."""
    digest = hashlib.sha256(repr((seed, key)).encode()).digest()
    return int.from_bytes(digest[:4], "little")


def _requests(
    problems: list[Problem], mode: str, n: int, store: SampleStore
) -> list[tuple[Problem, int]]:
    return [(p, i) for p in problems for i in range(n) if (p.id, mode, i) not in store]


def _run_mode(
    backend: Backend,
    bench: str,
    prompts: dict[str, str],
    pending: list[tuple[Problem, int]],
    mode: str,
    settings: SamplingSettings,
    store: SampleStore,
) -> None:
    """Generate, score and append every pending request of one mode, chunk by chunk."""
    if not pending:
        return
    lengths = {pid: len(text) for pid, text in prompts.items()}
    pending = sorted(pending, key=lambda r: (-lengths[r[0].id], r[0].id, r[1]))
    size = max(1, backend.chunk_size)
    with tqdm(total=len(pending), desc=f"{bench} {mode}", unit="sample", leave=False) as bar:
        for start in range(0, len(pending), size):
            chunk = pending[start : start + size]
            chunk_settings = SamplingSettings(
                temperature=settings.temperature,
                top_p=settings.top_p,
                top_k=settings.top_k,
                max_new_tokens=settings.max_new_tokens,
                seed=_seed_for(settings.seed, (bench, chunk[0][0].id, mode, chunk[0][1])),
            )
            gens = backend.generate([prompts[p.id] for p, _ in chunk], chunk_settings)
            records = []
            for (problem, index), gen in zip(chunk, gens, strict=True):
                records.append(
                    {
                        "benchmark": bench,
                        "problem_id": problem.id,
                        "mode": mode,
                        "sample_index": index,
                        "prompt": prompts[problem.id],
                        "completion": gen.text,
                        **score_completion(gen.text, problem.gold),
                        "gold": problem.gold,
                        "num_tokens": gen.num_tokens,
                        "num_words": count_words(gen.text),
                        "finish_reason": gen.finish_reason,
                    }
                )
            store.append(records)
            bar.update(len(chunk))


def samples_per_problem(config: EvalConfig, loaded: LoadedBenchmark) -> int:
    """Sampled answers per problem: ``--k`` when given, else the benchmark's default (0 = greedy only)."""
    return loaded.spec.default_k if config.k is None else config.k


def evaluate_benchmark(
    config: EvalConfig, backend: Backend, loaded: LoadedBenchmark, out: Path
) -> dict[str, Any]:
    """Evaluate one loaded benchmark into ``out/samples/<name>.jsonl``; returns its summary."""
    problems = loaded.problems[: config.limit] if config.limit is not None else loaded.problems
    prompts = {
        p.id: render_prompt(
            backend.tokenizer,
            build_messages(
                p.problem, config.prompt_template, config.instruction, config.system_prompt
            ),
            config.chat_template,
        )
        for p in problems
    }
    store = SampleStore(out / "samples" / f"{loaded.name}.jsonl", SAMPLE_KEY)
    k = samples_per_problem(config, loaded)
    common = {
        "top_p": config.top_p,
        "top_k": config.top_k,
        "max_new_tokens": config.max_new_tokens,
        "seed": config.seed,
    }
    if config.greedy:
        pending = _requests(problems, MODE_GREEDY, 1, store)
        _run_mode(
            backend,
            loaded.name,
            prompts,
            pending,
            MODE_GREEDY,
            SamplingSettings(0.0, **common),
            store,
        )
    if k > 0:
        pending = _requests(problems, MODE_SAMPLE, k, store)
        settings = SamplingSettings(config.temperature, **common)
        _run_mode(backend, loaded.name, prompts, pending, MODE_SAMPLE, settings, store)
    return summarize_benchmark(
        loaded, problems, store.records.values(), k if k > 0 else None, config.greedy
    )


def load_benchmarks(config: EvalConfig) -> list[LoadedBenchmark]:
    """Resolve and read every benchmark named in the config (errors before any generation)."""
    custom = {
        "problem_field": config.problem_field,
        "answer_field": config.answer_field,
        "gold_from": config.gold_from,
    }
    loaded = [
        load_benchmark(resolve_spec(token, **custom), config.data_dir)
        for token in config.benchmarks
    ]
    names = [b.name for b in loaded]
    if len(set(names)) != len(names):
        raise ValueError(f"benchmark names must be unique, got {names}")
    return loaded


def run_evaluation(config: EvalConfig, backend: Backend | None = None) -> dict[str, Any]:
    """Evaluate ``config.model`` on ``config.benchmarks``; writes samples, summary.json and results.md.

    ``backend`` may be given (tests, notebooks holding a model already); otherwise it is built
    from ``config.backend``. Returns the summary that was written.
    """
    out = Path(config.out_dir)
    _check_resumable(config, out)
    benchmarks = load_benchmarks(config)
    if backend is None:
        backend = backend_for(config)
    write_json(out / "config.json", asdict(config))
    summaries = {}
    for loaded in benchmarks:
        logger.info(
            "evaluating %s (%d problems from %s)", loaded.name, len(loaded.problems), loaded.source
        )
        summaries[loaded.name] = evaluate_benchmark(config, backend, loaded, out)
    return write_reports(out, config.model, summaries, settings=config.fingerprint())

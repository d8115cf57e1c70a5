"""``srl data generate`` and ``srl data rewrite`` as library functions.

The flow: read problems -> classify golds (:mod:`~srlkit.teacher.golds`) -> one request per
problem and sample, keyed for the cache -> ask what the cache lacks (each reply measured and
persisted on arrival) -> decide and de-duplicate -> write, atomically,

- ``trajectories.jsonl``: kept trajectories in the data contract (``srl data build`` reads it),
  with teacher, prompt version and verdicts in each one's metadata;
- ``rlvr.jsonl``: ``{id, problem, answer}`` for every problem whose gold is checkable;
- ``stats.json``: problems by gold status, samples in = kept + dropped by reason, requests,
  retries, failures and token usage, and the resolved config (no secret in it).

``responses.jsonl`` is the cache itself. A rerun of a finished job asks nothing and writes the
same files; a killed job resumes where it stopped.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import json
import logging
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import orjson

from srlkit.io import atomic_write, write_json, write_jsonl
from srlkit.teacher.cache import ResponseCache, identity_text, request_key
from srlkit.teacher.client import AskStats, ask_all
from srlkit.teacher.config import RewriteConfig, TeacherRunConfig
from srlkit.teacher.golds import Gold, check_gold
from srlkit.teacher.outcomes import UNREADABLE, assemble, needs_asking
from srlkit.teacher.problems import Problem, read_problems
from srlkit.teacher.prompts import PromptTemplate, load_prompt
from srlkit.teacher.teachers import (
    LocalTeacher,
    OpenAITeacher,
    Reply,
    Request,
    Teacher,
    is_endpoint,
    sampling_identity,
    teacher_identity,
)
from srlkit.teacher.verify import measure

logger = logging.getLogger(__name__)

CACHE_FILE = "responses.jsonl"
TRAJECTORIES_FILE = "trajectories.jsonl"
RLVR_FILE = "rlvr.jsonl"
STATS_FILE = "stats.json"
GOLD_VERSION = 2  # 2: a proof problem's gold restating its claim is not checkable


def _write_jsonl_fast(path: Path, records: Iterable[dict[str, Any]]) -> None:
    """:func:`srlkit.io.write_jsonl` with orjson (3x faster; a cached rerun is mostly writing)."""
    with atomic_write(path, "wb") as f:
        for rec in records:
            f.write(orjson.dumps(rec) + b"\n")


def make_teacher(config: TeacherRunConfig) -> Teacher:
    """The teacher ``config.teacher`` names (endpoint URL, or local model path / id)."""
    if is_endpoint(config.teacher):
        return OpenAITeacher(
            config.teacher,
            config.teacher_model,
            api_key_env=config.api_key_env,
            timeout_s=config.timeout_s,
            retry=config.retry(),
        )
    return LocalTeacher(
        config.teacher,
        backend=config.backend,
        batch_size=config.batch_size,
        device=config.device,
        dtype=config.dtype,
    )


def _gold_key(problem: Problem) -> str:
    blob = json.dumps([GOLD_VERSION, str(problem.gold_value), problem.problem], ensure_ascii=False)
    return "gold:" + hashlib.sha256(blob.encode("utf-8")).hexdigest()[:32]


def check_golds(problems: list[Problem], cache: ResponseCache, workers: int = 4) -> dict[str, Gold]:
    """Every problem's gold verdict; new verdicts are judged in parallel and cached."""
    todo = [p for p in problems if _gold_key(p) not in cache]

    def judge(problem: Problem) -> None:
        gold = check_gold(problem.gold_value, problem.problem)
        cache.append({"key": _gold_key(problem), "gold": gold.to_dict()})

    if todo:
        logger.info("checking %d gold answers", len(todo))
        with ThreadPoolExecutor(max_workers=workers) as pool:
            list(pool.map(judge, todo))
    return {p.id: Gold.from_dict(cache.get(_gold_key(p))["gold"]) for p in problems}


def build_requests(
    config: TeacherRunConfig, prompt: PromptTemplate, problems: list[Problem]
) -> list[Request]:
    """One request per problem and sample, keyed by everything that determines its answer."""
    identity = identity_text(
        {
            **teacher_identity(config.teacher, config.teacher_model, config.backend),
            "prompt": prompt.version,
            "sampling": sampling_identity(config.sampling()),
        }
    )
    requests = []
    for p in problems:
        content = prompt.render(p.problem, p.solution)
        messages = [{"role": "user", "content": content}]
        for sample in range(config.num_samples):
            requests.append(Request(request_key(identity, p.id, sample), p.id, sample, messages))
    return requests


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while tens of thousands of dicts are built.

    Loading the cache and assembling the outputs create no reference cycles, but every
    allocation of that many containers triggers generation scans: a third of a cached rerun's
    time (measured, docs/benchmarks.md). Reference counting still frees everything.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _persist_reply(
    cache: ResponseCache,
    problems: dict[str, Problem],
    golds: dict[str, Gold],
    rewrite: bool,
    max_chars: int,
) -> Callable[[Request, Reply], None]:
    """The callback that measures a reply and appends it to the cache the moment it arrives.

    A reply that cannot be measured or stored (text that is not valid Unicode, a value JSON
    cannot hold) is stored as a drop (``unreadable_reply``): counted like any other drop, and
    never asked again, so one broken reply can neither crash a run nor every rerun after it.
    """

    def on_reply(request: Request, reply: Reply) -> None:
        if reply.error is not None:
            logger.warning(
                "request %s/%d failed: %s", request.record_id, request.sample, reply.error
            )
            return
        problem, gold = problems[request.record_id], golds[request.record_id]
        head = {"key": request.key, "record": request.record_id, "sample": request.sample}
        try:
            reply.text.encode("utf-8")  # a lone surrogate: not text anyone can store or train on
            measures = measure(
                reply.text, gold.answer, problem.solution if rewrite else None, max_chars
            )
            entry = {
                **head,
                "finish_reason": reply.finish_reason,
                "usage": [reply.prompt_tokens, reply.completion_tokens],
                "attempts": reply.attempts,
                "measures": measures,
            }
            if "parsed" in measures:  # a reply over max_chars keeps its measures only
                entry["text"] = reply.text
            cache.append(entry)
        except (TypeError, ValueError, OverflowError, RecursionError) as exc:
            logger.warning(
                "request %s/%d: unreadable reply (%s), counted as dropped",
                request.record_id,
                request.sample,
                type(exc).__name__,
            )
            cache.append({**head, "dropped": UNREADABLE, "usage": [0, 0]})

    return on_reply


def run_teacher(config: TeacherRunConfig, teacher: Teacher | None = None) -> dict[str, Any]:
    """Run generate or rewrite (by the config's class); returns the stats also written to disk.

    ``teacher`` may be given (tests, notebooks); by default it is built from the config, and
    only when something is left to ask.
    """
    config.validate()
    rewrite = isinstance(config, RewriteConfig)
    prompt = load_prompt(config.task, config.prompt_file)
    problems, skipped = read_problems(
        config.inputs,
        config.problem_field,
        config.answer_field,
        getattr(config, "solution_field", None),
        need_solution=rewrite,
        skip_invalid=config.skip_invalid,
        limit=config.limit,
        exclude=config.out,
    )
    out = Path(config.out)
    with _gc_paused():
        cache = ResponseCache(out / CACHE_FILE)
    try:
        golds = check_golds(problems, cache)
        with _gc_paused():
            asked = (
                []
                if config.golds_only
                else [p for p in problems if golds[p.id].checkable or config.keep_uncheckable]
            )
            requests = build_requests(config, prompt, asked)
            pending = [r for r in requests if needs_asking(cache.get(r.key), config.max_chars)]
        by_id = {p.id: p for p in asked}
        logger.info(
            "%d requests: %d cached, %d to ask",
            len(requests),
            len(requests) - len(pending),
            len(pending),
        )
        ask = AskStats()
        if pending:
            teacher = teacher or make_teacher(config)
            ask = ask_all(
                teacher,
                pending,
                config.sampling(),
                _persist_reply(cache, by_id, golds, rewrite, config.max_chars),
                config.concurrency,
                progress=config.progress,
            )
        with _gc_paused():
            result = assemble(config, prompt, requests, by_id, golds, cache, rewrite)
    finally:
        cache.close()
    with _gc_paused():
        rlvr = _write_outputs(config, out, problems, golds, result)
    stats = {
        "task": config.task,
        "teacher": teacher_identity(config.teacher, config.teacher_model, config.backend),
        "prompt": {"version": prompt.version, "source": prompt.source},
        "problems": {
            "read": len(problems) + sum(skipped.values()),
            "skipped": dict(skipped),
            "gold": dict(Counter(g.status for g in golds.values())),
            "asked": len(asked),
            "rlvr_written": rlvr,
        },
        "samples": result.stats,
        "requests": {
            "total": len(requests),
            "cached": len(requests) - len(pending),
            **ask.to_dict(),
        },
        "config": config.to_dict(),
    }
    write_json(out / STATS_FILE, stats)
    return stats


def _write_outputs(
    config: TeacherRunConfig,
    out: Path,
    problems: list[Problem],
    golds: dict[str, Gold],
    result: Any,
) -> int:
    """trajectories.jsonl (unless golds only) and rlvr.jsonl; returns the RLVR rows written."""
    if not config.golds_only:
        _write_jsonl_fast(out / TRAJECTORIES_FILE, (t.to_dict() for t in result.trajectories))
    rlvr = [
        {"id": p.id, "problem": p.problem, "answer": golds[p.id].answer}
        for p in problems
        if golds[p.id].checkable
    ]
    write_jsonl(out / RLVR_FILE, rlvr)
    return len(rlvr)

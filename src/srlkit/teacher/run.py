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

import hashlib
import json
import logging
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from srlkit.io import write_json, write_jsonl
from srlkit.teacher.cache import ResponseCache, request_key
from srlkit.teacher.client import AskStats, ask_all
from srlkit.teacher.config import RewriteConfig, TeacherRunConfig
from srlkit.teacher.golds import Gold, check_gold
from srlkit.teacher.problems import Problem, read_problems
from srlkit.teacher.prompts import PromptTemplate, load_prompt
from srlkit.teacher.report import assemble
from srlkit.teacher.teachers import (
    LocalTeacher,
    OpenAITeacher,
    Reply,
    Request,
    Teacher,
    is_endpoint,
    teacher_identity,
)
from srlkit.teacher.verify import measure

logger = logging.getLogger(__name__)

CACHE_FILE = "responses.jsonl"
TRAJECTORIES_FILE = "trajectories.jsonl"
RLVR_FILE = "rlvr.jsonl"
STATS_FILE = "stats.json"
GOLD_VERSION = 1


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
        config.teacher, backend=config.backend, batch_size=config.batch_size,
        device=config.device, dtype=config.dtype,
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
    identity = {
        **teacher_identity(config.teacher, config.teacher_model, config.backend),
        "prompt": prompt.version,
        "sampling": config.sampling().to_dict(),
    }
    requests = []
    for p in problems:
        content = prompt.render(p.problem, p.solution)
        messages = [{"role": "user", "content": content}]
        for sample in range(config.num_samples):
            requests.append(Request(request_key(identity, p.id, sample), p.id, sample, messages))
    return requests


def run_teacher(config: TeacherRunConfig, teacher: Teacher | None = None) -> dict[str, Any]:
    """Run generate or rewrite (by the config's class); returns the stats also written to disk.

    ``teacher`` may be given (tests, notebooks); by default it is built from the config, and
    only when something is left to ask.
    """
    config.validate()
    rewrite = isinstance(config, RewriteConfig)
    prompt = load_prompt(config.task, config.prompt_file)
    problems, skipped = read_problems(
        config.inputs, config.problem_field, config.answer_field,
        getattr(config, "solution_field", None), need_solution=rewrite,
        skip_invalid=config.skip_invalid, limit=config.limit,
    )
    out = Path(config.out)
    with ResponseCache(out / CACHE_FILE) as cache:
        golds = check_golds(problems, cache)
        asked = [p for p in problems if golds[p.id].checkable or config.keep_uncheckable]
        if config.golds_only:
            asked = []
        requests = build_requests(config, prompt, asked)
        pending = [r for r in requests if r.key not in cache]
        by_id = {p.id: p for p in asked}
        logger.info("%d requests: %d cached, %d to ask", len(requests), len(requests) - len(pending), len(pending))

        def on_reply(request: Request, reply: Reply) -> None:
            if reply.error is not None:
                logger.warning("request %s/%d failed: %s", request.record_id, request.sample, reply.error)
                return
            problem, gold = by_id[request.record_id], golds[request.record_id]
            measures = measure(reply.text, gold.answer, problem.solution if rewrite else None)
            cache.append({
                "key": request.key, "record": request.record_id, "sample": request.sample,
                "text": reply.text, "finish_reason": reply.finish_reason,
                "usage": [reply.prompt_tokens, reply.completion_tokens],
                "attempts": reply.attempts, "measures": measures,
            })

        ask = AskStats()
        if pending:
            teacher = teacher or make_teacher(config)
            ask = ask_all(teacher, pending, config.sampling(), on_reply, config.concurrency,
                          progress=not config.no_progress)
        result = assemble(config, prompt, requests, by_id, golds, cache, rewrite)
    if not config.golds_only:
        write_jsonl(out / TRAJECTORIES_FILE, (t.to_dict() for t in result.trajectories))
    rlvr = [{"id": p.id, "problem": p.problem, "answer": golds[p.id].answer}
            for p in problems if golds[p.id].checkable]
    write_jsonl(out / RLVR_FILE, rlvr)
    stats = {
        "task": config.task,
        "teacher": teacher_identity(config.teacher, config.teacher_model, config.backend),
        "prompt": {"version": prompt.version, "source": prompt.source},
        "problems": {
            "read": len(problems) + sum(skipped.values()),
            "skipped": dict(skipped),
            "gold": dict(Counter(g.status for g in golds.values())),
            "asked": len(asked),
            "rlvr_written": len(rlvr),
        },
        "samples": result.stats,
        "requests": {"total": len(requests), "cached": len(requests) - len(pending), **ask.to_dict()},
        "config": config.to_dict(),
    }
    write_json(out / STATS_FILE, stats)
    return stats

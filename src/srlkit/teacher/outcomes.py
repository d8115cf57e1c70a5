"""Every request's outcome: a kept trajectory or a counted drop, decided from the cache.

Every request ends in exactly one bucket: kept, or dropped with one reason (the first filter
it fails, in the order of :func:`srlkit.teacher.verify.decide`, then ``duplicate``), or
``request_failed`` when no reply could be had. So samples in = kept + dropped, always.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from srlkit.data.schema import KIND_MATH, Step, Trajectory
from srlkit.teacher.cache import ResponseCache
from srlkit.teacher.config import TeacherRunConfig
from srlkit.teacher.golds import Gold
from srlkit.teacher.problems import Problem
from srlkit.teacher.prompts import PromptTemplate
from srlkit.teacher.teachers import Request, teacher_identity
from srlkit.teacher.verify import MEASURE_VERSION, decide, dedup_key, measure

EXAMPLES_PER_REASON = 5
UNREADABLE = "unreadable_reply"


def needs_asking(entry: dict[str, Any] | None, max_chars: int) -> bool:
    """Whether a request must be asked: nothing cached, or a reply stored without its text
    (it was over the ``max_chars`` of its run) that this run's ``max_chars`` would admit."""
    if entry is None:
        return True
    if "dropped" in entry or "text" in entry:
        return False
    return entry["measures"]["chars"] <= max_chars


@dataclass
class Assembled:
    trajectories: list[Trajectory] = field(default_factory=list)
    stats: dict[str, Any] = field(default_factory=dict)


def _distribution(values: list[float]) -> dict[str, float]:
    if not values:
        return {"count": 0}
    q = statistics.quantiles(values, n=10) if len(values) > 1 else [values[0]] * 9
    return {
        "count": len(values),
        "mean": round(statistics.fmean(values), 4),
        "p10": round(q[0], 4),
        "median": round(statistics.median(values), 4),
        "p90": round(q[8], 4),
    }


def assemble(
    config: TeacherRunConfig,
    prompt: PromptTemplate,
    requests: list[Request],
    problems: dict[str, Problem],
    golds: dict[str, Gold],
    cache: ResponseCache,
    rewrite: bool,
) -> Assembled:
    """Decide every request's fate from the cache (no teacher, no judge unless measures are stale)."""
    options = config.filters()
    teacher = teacher_identity(config.teacher, config.teacher_model, config.backend)
    out = Assembled()
    dropped: Counter = Counter()
    examples: dict[str, list[str]] = defaultdict(list)
    seen: set[str] = set()
    faithful: list[float] = []
    prompt_tokens = completion_tokens = 0
    for req in requests:
        problem, gold = problems[req.record_id], golds[req.record_id]
        entry = cache.get(req.key)
        reason, traj = None, None
        if entry is None:
            reason = "request_failed"
        elif "dropped" in entry:
            reason = entry["dropped"]
        else:
            m = entry["measures"]
            if m.get("version") != MEASURE_VERSION and "text" in entry:  # an older srlkit's
                m = measure(
                    entry["text"],
                    gold.answer,
                    problem.solution if rewrite else None,
                    config.max_chars,
                )
            prompt_tokens += entry["usage"][0]
            completion_tokens += entry["usage"][1]
            if m.get("faithfulness") is not None:
                faithful.append(m["faithfulness"])
            check = options if gold.checkable else _no_answer_check(options)
            reason = decide(entry["finish_reason"], m, check)
            if reason is None and "parsed" not in m:  # stored over-long, and re-asking failed
                reason = "request_failed"
            if reason is None:
                traj = _trajectory(req, problem, gold, entry, m, teacher, prompt, config.task)
                key = dedup_key(traj.task, traj.steps)
                if config.dedup and key in seen:
                    reason, traj = "duplicate", None
                seen.add(key)
        if reason is None:
            out.trajectories.append(traj)
        else:
            dropped[reason] += 1
            if len(examples[reason]) < EXAMPLES_PER_REASON:
                examples[reason].append(f"{req.record_id}/s{req.sample}")
    out.stats = {
        "in": len(requests),
        "kept": len(out.trajectories),
        "dropped_total": sum(dropped.values()),
        "dropped": dict(dropped.most_common()),
        "drop_examples": dict(examples),
        "steps_per_trajectory": _distribution([len(t.steps) for t in out.trajectories]),
        "faithfulness": _distribution(faithful),
        "tokens_in_cache": {"prompt": prompt_tokens, "completion": completion_tokens},
    }
    return out


def _no_answer_check(options: Any) -> Any:
    from dataclasses import replace

    return replace(options, check_answer=False)


def _trajectory(
    req: Request,
    problem: Problem,
    gold: Gold,
    entry: dict[str, Any],
    m: dict[str, Any],
    teacher: dict[str, Any],
    prompt: PromptTemplate,
    task: str,
) -> Trajectory:
    verdicts = {k: m[k] for k in ("answer_score", "answer_reason", "faithfulness") if k in m}
    return Trajectory(
        id=f"{problem.id}/s{req.sample}",
        task=problem.problem.strip(),
        steps=[Step(title=t, body=b) for t, b in m["parsed"]],
        kind=KIND_MATH,
        final_answer=gold.answer if gold.checkable else m.get("extracted"),
        source_format=f"teacher_{task}",
        metadata={
            "source_file": problem.source_file,
            "source_record": problem.source_record,
            "record_id": problem.id,
            "sample": req.sample,
            "teacher": teacher,
            "prompt_version": prompt.version,
            "gold_status": gold.status,
            "verdicts": verdicts,
        },
    )

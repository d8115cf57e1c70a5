"""Ask a teacher many questions: bounded concurrency, progress with rate and ETA, token usage.

An endpoint teacher answers one request per call; ``concurrency`` calls are in flight at once
(threads: the work is waiting on HTTP, and the ``openai`` client is thread-safe). A local model
answers a batch per call, one batch at a time. Either way ``on_reply`` runs as soon as a reply
arrives (measuring it and persisting it to the cache), so a kill loses at most the requests in
flight.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

from srlkit.evaluation.backends import SamplingSettings
from srlkit.teacher.teachers import Reply, Request, Teacher

logger = logging.getLogger(__name__)


@dataclass
class AskStats:
    """What asking cost: requests, failures and retries by reason, tokens."""

    asked: int = 0
    answered: int = 0
    failed: Counter = field(default_factory=Counter)
    retries: Counter = field(default_factory=Counter)
    prompt_tokens: int = 0
    completion_tokens: int = 0

    def add(self, reply: Reply) -> None:
        self.asked += 1
        self.retries.update(reply.retries)
        if reply.error is not None:
            self.failed[reply.error] += 1
            return
        self.answered += 1
        self.prompt_tokens += reply.prompt_tokens
        self.completion_tokens += reply.completion_tokens

    def to_dict(self) -> dict[str, Any]:
        return {
            "asked": self.asked,
            "answered": self.answered,
            "failed": dict(self.failed),
            "retries": dict(self.retries),
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
        }


def _progress(total: int, enabled: bool) -> Any:
    from tqdm.auto import tqdm

    return tqdm(
        total=total,
        unit="req",
        desc="teacher",
        disable=not enabled or total == 0,
        dynamic_ncols=True,
    )


def ask_all(
    teacher: Teacher,
    requests: list[Request],
    sampling: SamplingSettings,
    on_reply: Callable[[Request, Reply], None],
    concurrency: int = 16,
    progress: bool = True,
) -> AskStats:
    """Ask every request once (with the teacher's own retries); ``on_reply`` sees each reply.

    A :class:`~srlkit.teacher.teachers.TeacherError` (bad key, unknown model) stops the run:
    queued requests are cancelled and the error propagates; what arrived is already persisted.
    """
    stats = AskStats()
    bar = _progress(len(requests), progress)
    try:
        for request, reply in _replies(teacher, requests, sampling, on_reply, concurrency):
            stats.add(reply)
            bar.update(1)
            bar.set_postfix(
                tokens=stats.prompt_tokens + stats.completion_tokens,
                failed=sum(stats.failed.values()),
                refresh=False,
            )
    finally:
        bar.close()
    return stats


def _replies(
    teacher: Teacher,
    requests: list[Request],
    sampling: SamplingSettings,
    on_reply: Callable[[Request, Reply], None],
    concurrency: int,
) -> Iterator[tuple[Request, Reply]]:
    if teacher.batched:
        size = max(1, teacher.batch_size)
        for start in range(0, len(requests), size):
            chunk = requests[start : start + size]
            for request, reply in zip(chunk, teacher.complete(chunk, sampling)):
                on_reply(request, reply)
                yield request, reply
        return

    def one(request: Request) -> tuple[Request, Reply]:
        reply = teacher.complete([request], sampling)[0]
        on_reply(request, reply)
        return request, reply

    # Submit at most `concurrency` ahead, so a cancelled run leaves nothing queued behind it.
    pool = ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="teacher")
    pending: set[Future] = set()
    queue = iter(requests)
    try:
        while True:
            while len(pending) < max(1, concurrency):
                request = next(queue, None)
                if request is None:
                    break
                pending.add(pool.submit(one, request))
            if not pending:
                return
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                yield future.result()
    finally:
        # On an error or Ctrl-C, return at once: requests still in flight finish in their
        # threads (the interpreter joins them at exit) and their replies are still persisted.
        for future in pending:
            future.cancel()
        pool.shutdown(wait=False, cancel_futures=True)

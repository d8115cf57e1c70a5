"""A pool of math-verify judge processes with a hard time limit, usable from any thread.

The outcome reward and evaluation both call :func:`judge_answer`. Each call borrows an idle
child process (started on demand, at most ``max_workers``), sends one request and waits at most
``timeout_s`` plus a grace period; a child that overruns is killed and replaced, so one hostile
answer costs at most that long and never blocks other threads. Children read their requests
from stdin and exit on EOF, so none outlives the parent.

Starting a child costs about a second (it imports sympy); it is paid once per child per
process, not per call. A call that finds no idle child and the pool full waits for one; but
when no child has come free for ``STALL_S``, every child is busy with a slow answer (a hostile
one can hold a child for ``timeout_s`` + ``GRACE_S``), and the call starts an extra child
(at most :func:`overflow_ceiling` in all) rather than queue behind it. Easy answers therefore
never wait out a hostile one, while a busy pool of quick answers starts no extra children.

Two plain decimal numbers never reach a child: they are compared here, exactly, by
:func:`srlkit.rewards.numeric.numbers_equal` (the stated numeric tolerance).
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import select
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from srlkit.rewards.numeric import numbers_equal

logger = logging.getLogger(__name__)

STARTUP_TIMEOUT_S = 120.0
"""Upper bound for a child's imports on a loaded machine."""

GRACE_S = 2.0
"""Extra wait beyond the soft deadline before the child is killed."""

STALL_S = 0.25
"""How long no child may come free before a waiting call starts an extra one."""


def overflow_ceiling(max_workers: int) -> int:
    """Children allowed in all while the regular ones are stalled: half as many again, at least 2 more."""
    return max_workers + max(2, max_workers // 2)


class JudgeError(RuntimeError):
    """A judge process could not be started (e.g. math-verify is not installed)."""


class _Child:
    """One judge process speaking JSON lines over its stdin/stdout pipes."""

    def __init__(self) -> None:
        env = dict(os.environ)
        src_root = str(Path(__file__).resolve().parents[2])
        env["PYTHONPATH"] = os.pathsep.join(p for p in (src_root, env.get("PYTHONPATH")) if p)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "srlkit.rewards._judge_worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
            bufsize=0,
        )
        self._buffer = b""
        ready = self._read_line(STARTUP_TIMEOUT_S)
        if ready is None or not ready.get("ready"):
            self.kill()
            raise JudgeError(
                "the math-verify judge process did not start (is math-verify installed?)"
            )

    def _read_line(self, timeout_s: float) -> dict[str, Any] | None:
        """The next JSON line, or None on timeout or EOF."""
        deadline = time.monotonic() + timeout_s
        fd = self.proc.stdout.fileno()
        while b"\n" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                return None
            chunk = os.read(fd, 65536)
            if not chunk:
                return None
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        return json.loads(line)

    def ask(self, gold: str, pred: str, timeout_s: float) -> dict[str, Any] | None:
        """Send one request; None when the child overran its deadline or died."""
        request = json.dumps({"gold": gold, "pred": pred, "timeout": timeout_s}) + "\n"
        try:
            self.proc.stdin.write(request.encode("utf-8", errors="surrogatepass"))
        except (BrokenPipeError, OSError):
            return None
        return self._read_line(timeout_s + GRACE_S)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        for pipe in (self.proc.stdin, self.proc.stdout):
            if pipe is not None:
                pipe.close()

    def close(self) -> None:
        """Ask politely (EOF), then kill after a short wait."""
        try:
            self.proc.stdin.close()
            self.proc.wait(timeout=2)
        except (OSError, subprocess.TimeoutExpired):
            pass
        self.kill()


class JudgePool:
    """Judge processes shared by all threads of this process."""

    def __init__(self, max_workers: int | None = None) -> None:
        self.max_workers = max_workers or os.cpu_count() or 1
        self.pid = os.getpid()  # children belong to this process only (see default_pool)
        self._idle: list[_Child] = []
        self._started = 0
        self._last_progress = time.monotonic()  # last time a child was handed out or came free
        self._cond = threading.Condition()

    def _acquire(self) -> _Child:
        with self._cond:
            ceiling = overflow_ceiling(self.max_workers)
            while not self._idle and self._started >= self.max_workers:
                stalled = time.monotonic() - self._last_progress >= STALL_S
                if stalled and self._started < ceiling:
                    break  # no child came free for a while: all busy with slow answers
                self._cond.wait(STALL_S)
            self._last_progress = time.monotonic()
            if self._idle:
                return self._idle.pop()
            self._started += 1
        try:
            return _Child()
        except BaseException:
            with self._cond:
                self._started -= 1
                self._cond.notify()
            raise

    def _release(self, child: _Child | None) -> None:
        with self._cond:
            self._last_progress = time.monotonic()
            if child is None:
                self._started -= 1
            else:
                self._idle.append(child)
            self._cond.notify()

    def judge(self, gold: str, pred: str, timeout_s: float) -> dict[str, Any]:
        """``{"score": 1.0 | 0.0 | None, "reason": str}`` for one (gold, prediction) pair."""
        child = self._acquire()
        try:
            reply = child.ask(gold, pred, timeout_s)
        except (ValueError, OSError):  # a garbled reply: treat the child as broken
            reply = None
        if reply is None:
            logger.warning("math judge overran %.1f s or died; restarting it", timeout_s)
            child.kill()
            self._release(None)
            return {"score": 0.0, "reason": "timeout (judge killed)"}
        if reply.pop("restart", False):  # it hit its memory cap: replace it
            logger.warning("math judge reached its memory limit; restarting it")
            child.kill()
            self._release(None)
            return reply
        self._release(child)
        return reply

    def close(self) -> None:
        """Stop the idle children (those in use are stopped by their EOF at exit)."""
        if os.getpid() != self.pid:
            return
        with self._cond:
            children, self._idle = self._idle, []
            self._started -= len(children)
        for child in children:
            child.close()


_POOL: JudgePool | None = None
_POOL_LOCK = threading.Lock()


def default_pool() -> JudgePool:
    """The process-wide pool (created on first use, closed at exit).

    A forked process (a DataLoader worker, a multiprocessing pool) must not talk to its
    parent's children through the inherited pipes, so it starts a pool of its own.
    """
    global _POOL
    with _POOL_LOCK:
        if _POOL is None or _POOL.pid != os.getpid():
            _POOL = JudgePool()
            atexit.register(_POOL.close)
        return _POOL


def _reset_after_fork() -> None:
    global _POOL, _POOL_LOCK
    _POOL = None
    _POOL_LOCK = threading.Lock()  # another thread may have held it at the fork


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_after_fork)


def judge_answer(gold: str, pred: str, timeout_s: float = 5.0) -> dict[str, Any]:
    """Judge one extracted answer against one gold answer, time- and memory-limited.

    Two plain decimal numbers are compared in this process (:mod:`srlkit.rewards.numeric`);
    anything else goes to a math-verify child process.
    """
    same = numbers_equal(gold, pred)
    if same is not None:
        return {
            "score": 1.0 if same else 0.0,
            "reason": "equal numbers" if same else "different numbers",
        }
    return default_pool().judge(gold, pred, timeout_s)

"""The math-verify judge, run as a child process: ``python -m srlkit.rewards._judge_worker``.

Why a process: math-verify's own time limit is ``signal.alarm``, which works only in the main
thread, and sympy can spend minutes inside one C call (``10^{10^{10}}``) where no signal
handler runs. Here the judge always runs in the main thread of its own process, with a soft
``setitimer`` deadline; the parent kills the process if even that does not fire.

Protocol: one JSON object per line on stdin, ``{"gold": str, "pred": str, "timeout": float}``;
one per line on stdout, ``{"score": 1.0 | 0.0 | null, "reason": str}``. The first line written
is ``{"ready": true}`` once the imports are done. EOF on stdin ends the process.

Memory: each process caps its own address space (``RLIMIT_AS``) at its size after the imports
plus ``SRLKIT_JUDGE_MEMORY_MB`` (default 1024; 0 disables). A short answer can make sympy
build a gigabyte-sized number or matrix (``2^{3\\cdot 10^{9}}``) well within the time limit;
over the cap the allocation fails, the verdict is 0.0 with reason ``"memory limit"``, and the
process asks to be replaced (``"restart": true``) since a failed allocation can leave a
library half-updated. math-verify catches ``MemoryError`` itself (as any ``Exception``) and
reports "not equivalent", so the worker also watches its peak resident size: a request that
raised it by more than a quarter of the budget is a memory-limit failure whatever the verdict.

Only LaTeX extraction is used (an ANTLR parser building sympy objects). math-verify's
``ExprExtractionConfig`` goes through sympy's ``parse_expr``, which calls ``eval``: model text is
never executed.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
from functools import lru_cache
from typing import Any


class _Deadline(BaseException):
    """Raised by the alarm; a BaseException so math-verify's ``except Exception`` cannot eat it."""


def _on_alarm(signum: int, frame: Any) -> None:
    raise _Deadline()


@lru_cache(maxsize=4096)
def _parse(answer: str) -> tuple[Any, ...]:
    """Parse an answer's LaTeX as math-verify would parse ``\\boxed{answer}``; cached for golds."""
    from math_verify import LatexExtractionConfig, parse

    return tuple(
        parse(
            "\\boxed{" + answer + "}",
            [LatexExtractionConfig()],
            fallback_mode="no_fallback",
            parsing_timeout=None,
        )
    )


def judge(gold: str, pred: str, timeout: float) -> dict[str, Any]:
    """Score ``pred`` against ``gold`` within ``timeout`` seconds (gold first, as math-verify asks)."""
    from math_verify import verify

    signal.setitimer(signal.ITIMER_REAL, max(timeout, 0.01))
    try:
        gold_parsed = _parse(gold)
        if not gold_parsed:
            return {"score": None, "reason": "gold answer unparseable"}
        pred_parsed = _parse(pred)
        if not pred_parsed:
            return {"score": 0.0, "reason": "answer unparseable"}
        ok = verify(list(gold_parsed), list(pred_parsed), timeout_seconds=None)
        return {"score": 1.0 if ok else 0.0, "reason": "equivalent" if ok else "not equivalent"}
    except _Deadline:
        return {"score": 0.0, "reason": "timeout"}
    except MemoryError:
        return {"score": 0.0, "reason": "memory limit", "restart": True}
    except Exception as err:  # noqa: BLE001 - sympy raises anything on hostile input; judged wrong
        return {"score": 0.0, "reason": f"judge error: {type(err).__name__}"}
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


MEMORY_ENV = "SRLKIT_JUDGE_MEMORY_MB"
DEFAULT_MEMORY_MB = 1024


def _address_space_bytes() -> int | None:
    """This process's current virtual size (Linux ``/proc``); None where unknown."""
    try:
        with open("/proc/self/statm", encoding="ascii") as f:
            return int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


def cap_memory(budget_mb: int) -> int | None:
    """Limit this process's address space to its current size plus ``budget_mb``.

    Returns the limit set in bytes, or None when not capped (budget 0, no ``resource`` module
    or no ``/proc``: the time limit then remains the only bound).
    """
    if budget_mb <= 0:
        return None
    try:
        import resource
    except ImportError:  # pragma: no cover - not on Windows
        return None
    current = _address_space_bytes()
    if current is None:
        return None
    limit = current + budget_mb * 1024 * 1024
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    return limit


def _peak_rss_bytes() -> int:
    """This process's peak resident size (``VmHWM``); 0 where ``/proc`` is missing.

    Not ``getrusage``'s ``ru_maxrss``: Linux carries it over ``fork`` and ``exec``, so a child
    of a parent holding torch starts with the parent's peak and would never see its own grow.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def _memory_budget_mb() -> int:
    try:
        return int(os.environ.get(MEMORY_ENV, DEFAULT_MEMORY_MB))
    except ValueError:
        return DEFAULT_MEMORY_MB


def _protocol_stream() -> Any:
    """A private copy of stdout for replies; fd 1 itself then points at stderr.

    A library that prints (a warning from sympy, a debug line) would otherwise corrupt the
    JSON lines the parent reads.
    """
    out = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return out


def main() -> None:
    out = _protocol_stream()
    logging.basicConfig(level=logging.ERROR)
    logging.getLogger("math_verify").setLevel(logging.ERROR)
    signal.signal(signal.SIGALRM, _on_alarm)
    import math_verify  # noqa: F401 - import before announcing readiness

    judge("1", "1", 60.0)  # load the judge's lazy parts before measuring the size to cap
    budget_mb = _memory_budget_mb()
    # A quarter of the budget: real answers grow the process by a few MB, and a bomb whose next
    # allocation fails at the cap has usually grown it by half the budget or more by then.
    peak_limit = _peak_rss_bytes() + budget_mb * 2**18 if cap_memory(budget_mb) else None
    out.write('{"ready": true}\n')
    out.flush()
    for line in sys.stdin:
        try:
            request = json.loads(line)
            reply = judge(str(request["gold"]), str(request["pred"]), float(request["timeout"]))
        except (ValueError, KeyError, TypeError) as err:
            reply = {"score": 0.0, "reason": f"bad request: {err}"}
        except _Deadline:  # the alarm fired between the verdict and its cancellation
            reply = {"score": 0.0, "reason": "timeout"}
        except MemoryError:
            reply = {"score": 0.0, "reason": "memory limit", "restart": True}
        if peak_limit is not None and _peak_rss_bytes() > peak_limit:
            reply = {"score": 0.0, "reason": "memory limit", "restart": True}
        out.write(json.dumps(reply) + "\n")
        out.flush()
        if reply.get("restart"):
            return


if __name__ == "__main__":
    main()

"""A bound on the whole time of one endpoint request, not on the time between its bytes.

Why: ``httpx`` timeouts (and so the ``openai`` client's ``timeout``) bound each phase and each
read separately. A server that sends one byte every half second never trips a 3-second read
timeout, and one request can hang a run for as long as the server likes. Two parts:

- :func:`call_with_deadline` runs the request in a helper thread and waits at most
  ``timeout_s`` for it: the caller's bound is exact, whatever the server does;
- :func:`http_client`'s transport makes the abandoned request stop at its next byte after the
  deadline (the response body is read through a stream that checks the clock), so the helper
  thread and its connection are released instead of trickling on.
"""

from __future__ import annotations

import importlib
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

T = TypeVar("T")
_local = threading.local()


class DeadlineExceeded(TimeoutError):
    """The request took longer than its whole-request deadline."""


def http_client(openai: Any, timeout_s: float) -> Any:
    """An HTTP client for ``openai.OpenAI(http_client=...)`` whose response bodies stop at the
    calling thread's deadline (set by :func:`call_with_deadline`).

    Built on whatever HTTP library the installed ``openai`` uses (``httpx``, or ``httpx2`` in
    its later versions), with the client's default pool of 1,000 connections.
    """
    http = importlib.import_module(openai.DefaultHttpxClient.__mro__[1].__module__.split(".")[0])

    class DeadlineStream(http.SyncByteStream):
        def __init__(self, inner: Any, deadline: float):
            self.inner, self.deadline = inner, deadline

        def __iter__(self) -> Iterator[bytes]:
            for chunk in self.inner:
                if time.monotonic() > self.deadline:
                    raise http.ReadTimeout("the request ran past its deadline")
                yield chunk

        def close(self) -> None:
            self.inner.close()

    class DeadlineTransport(http.HTTPTransport):
        def handle_request(self, request: Any) -> Any:
            deadline = getattr(_local, "deadline", None)
            response = super().handle_request(request)
            if deadline is None:
                return response
            return http.Response(
                status_code=response.status_code,
                headers=response.headers,
                stream=DeadlineStream(response.stream, deadline),
                extensions=response.extensions,
            )

    limits = http.Limits(max_connections=1000, max_keepalive_connections=100)
    return openai.DefaultHttpxClient(transport=DeadlineTransport(limits=limits), timeout=timeout_s)


def call_with_deadline(fn: Callable[[], T], timeout_s: float) -> T:
    """``fn()``, or :class:`DeadlineExceeded` once ``timeout_s`` seconds have passed.

    >>> call_with_deadline(lambda: 42, 1.0)
    42
    """
    box: dict[str, Any] = {}
    done = threading.Event()

    def target() -> None:
        _local.deadline = time.monotonic() + timeout_s
        try:
            box["value"] = fn()
        except BaseException as exc:  # noqa: BLE001 (re-raised in the caller's thread)
            box["error"] = exc
        finally:
            done.set()

    threading.Thread(target=target, daemon=True, name="teacher-request").start()
    if not done.wait(timeout_s):
        raise DeadlineExceeded(f"no complete reply within {timeout_s:g} s")
    if "error" in box:
        raise box["error"]
    return box["value"]

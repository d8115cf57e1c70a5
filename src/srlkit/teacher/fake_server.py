"""A scripted chat-completions server on localhost, for tests, benchmarks and dry runs.

Why ship it: the retry, resume and concurrency logic of :mod:`srlkit.teacher` can only be
proven against the real ``openai`` client speaking real HTTP; this server speaks the protocol
(``POST /v1/chat/completions``), answers from a user function, and can misbehave on purpose:
rate limits (429 with ``Retry-After``), server errors (500), slow replies, malformed JSON,
truncated replies (``finish_reason: length``), replies without choices, dropped connections.
It records every request it served, so a test can prove that nothing was asked twice.

>>> server = FakeChatServer(lambda body: "1. **A** $1+1=2$\\n2. **B** \\\\boxed{2}").start()  # doctest: +SKIP
>>> server.base_url  # doctest: +SKIP
'http://127.0.0.1:40123/v1'
"""

from __future__ import annotations

import hashlib
import json
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from typing_extensions import Self

Responder = Callable[[dict[str, Any]], str]
Fault = Callable[[dict[str, Any], int], "Action | None"]


@dataclass(frozen=True)
class Action:
    """How to answer one request: ``kind`` is ok, status, slow, malformed, truncated, empty, drop,
    raw (``body`` sent as the reply, byte for byte) or trickle (a good reply, one byte every
    ``delay_s`` seconds: a read timeout never fires). ``body`` of a status reply is its JSON."""

    kind: str = "ok"
    status: int = 200
    delay_s: float = 0.0
    retry_after: float | None = None
    body: bytes | None = None


def request_id(body: dict[str, Any]) -> str:
    """What identifies a request across retries and runs: its messages and its seed."""
    blob = json.dumps([body.get("messages"), body.get("seed")], sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


class FakeChatServer:
    """``responder(body) -> text`` answers; ``fault(body, nth_time_seen) -> Action`` misbehaves.

    ``served`` counts successful answers per :func:`request_id`; ``seen`` counts every
    arrival (errors included) and ``arrivals`` keeps their bodies in order. ``latency_s`` delays every reply (the benchmark's 200 ms).
    """

    def __init__(self, responder: Responder, fault: Fault | None = None, latency_s: float = 0.0):
        self.responder = responder
        self.fault = fault
        self.latency_s = latency_s
        self.seen: dict[str, int] = {}
        self.served: dict[str, int] = {}
        self.arrivals: list[dict[str, Any]] = []  # every request body, in arrival order
        self.lock = threading.Lock()
        self.httpd: ThreadingHTTPServer | None = None

    @property
    def base_url(self) -> str:
        assert self.httpd is not None, "start() the server first"
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def start(self) -> FakeChatServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go out as separate writes

            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                server._handle(self, body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.httpd.request_queue_size = 256
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.httpd is not None:
            self.httpd.shutdown()
            self.httpd.server_close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _handle(self, handler: BaseHTTPRequestHandler, body: dict[str, Any]) -> None:
        rid = request_id(body)
        with self.lock:
            nth = self.seen.get(rid, 0)
            self.seen[rid] = nth + 1
            self.arrivals.append(body)
        action = (self.fault(body, nth) if self.fault else None) or Action()
        time.sleep(self.latency_s + (0.0 if action.kind == "trickle" else action.delay_s))
        if action.kind == "raw":
            self._send_raw(handler, 200, action.body or b"")
            return
        if action.kind == "drop":
            handler.close_connection = True
            handler.connection.shutdown(socket.SHUT_RDWR)
            return
        if action.kind == "status":
            headers = (
                {"retry-after": str(action.retry_after)} if action.retry_after is not None else {}
            )
            error = {"error": {"message": "injected", "type": "test"}}
            if action.body is not None:
                self._send_raw(handler, action.status, action.body, headers)
            else:
                self._send(handler, action.status, error, headers)
            return
        if action.kind == "malformed":
            self._send_raw(handler, 200, b'{"id": "x", "choices": [ {"message": ')
            return
        text = self.responder(body)
        choices = (
            []
            if action.kind == "empty"
            else [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": text},
                    "finish_reason": "length" if action.kind == "truncated" else "stop",
                }
            ]
        )
        reply = {
            "id": f"chatcmpl-{rid}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model", "fake"),
            "choices": choices,
            "usage": {
                "prompt_tokens": len(json.dumps(body.get("messages"))) // 4,
                "completion_tokens": len(text) // 4,
                "total_tokens": 0,
            },
        }
        with self.lock:
            self.served[rid] = self.served.get(rid, 0) + 1
        if action.kind == "trickle":
            self._trickle(handler, json.dumps(reply).encode(), action.delay_s)
            return
        self._send(handler, 200, reply)

    @staticmethod
    def _trickle(handler: BaseHTTPRequestHandler, data: bytes, every_s: float) -> None:
        handler.send_response(200)
        handler.send_header("content-type", "application/json")
        handler.send_header("content-length", str(len(data)))
        handler.end_headers()
        try:
            for i in range(len(data)):
                handler.wfile.write(data[i : i + 1])
                handler.wfile.flush()
                time.sleep(every_s)
        except OSError:  # the client gave up: what a trickle is for
            handler.close_connection = True

    @staticmethod
    def _send(
        handler: BaseHTTPRequestHandler,
        status: int,
        obj: Any,
        headers: dict[str, str] | None = None,
    ) -> None:
        FakeChatServer._send_raw(handler, status, json.dumps(obj).encode(), headers)

    @staticmethod
    def _send_raw(
        handler: BaseHTTPRequestHandler,
        status: int,
        data: bytes,
        headers: dict[str, str] | None = None,
    ) -> None:
        handler.send_response(status)
        handler.send_header("content-type", "application/json")
        handler.send_header("content-length", str(len(data)))
        for key, value in (headers or {}).items():
            handler.send_header(key, value)
        handler.end_headers()
        handler.wfile.write(data)

"""Fixtures for teacher tests: real MATH-500 records, a scripted localhost chat server."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from srlkit.teacher.fake_server import FakeChatServer

_SENTENCE_RE = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")


def numbered_from(original: str) -> str:
    """A faithful "teacher" rewrite: the original's sentences as numbered steps (at least 2)."""
    parts = [p.strip() for p in _SENTENCE_RE.split(original.strip()) if p.strip()]
    if len(parts) < 2:
        parts = [parts[0], "So the answer is as above."] if parts else ["Nothing.", "Nothing."]
    lines = [f"{i}. **Step {i}** {p.replace(chr(10), ' ')}" for i, p in enumerate(parts, start=1)]
    return "SOLUTION:\n" + "\n".join(lines)


def prompt_text(body: dict) -> str:
    return body["messages"][-1]["content"]


def original_of(body: dict) -> str:
    return prompt_text(body).split("ORIGINAL SOLUTION:", 1)[1]


def rewrite_responder(body: dict) -> str:
    return numbered_from(original_of(body))


@pytest.fixture
def math500_file(shared_data, tmp_path) -> Path:
    """The first 12 MATH-500 records (problem, solution with \\boxed, answer)."""
    out = tmp_path / "math500_12.jsonl"
    with open(shared_data / "math500" / "test.jsonl", encoding="utf-8") as f:
        lines = [next(f) for _ in range(12)]
    out.write_text("".join(lines), encoding="utf-8")
    return out


@pytest.fixture
def records(math500_file) -> list[dict]:
    return [json.loads(line) for line in math500_file.read_text().splitlines()]


@pytest.fixture
def chat_server():
    """Start a FakeChatServer with the given responder / fault; stopped after the test."""
    servers: list[FakeChatServer] = []

    def start(responder=rewrite_responder, fault=None, latency_s=0.0) -> FakeChatServer:
        server = FakeChatServer(responder, fault, latency_s).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()

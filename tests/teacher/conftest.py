"""Fixtures for teacher tests: real MATH-500 records, a scripted localhost chat server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from teacher_helpers import rewrite_responder

from srlkit.teacher.fake_server import FakeChatServer


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

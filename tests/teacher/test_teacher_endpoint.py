"""The endpoint teacher through the real ``openai`` client over HTTP, with injected faults."""

from __future__ import annotations

import json
import logging

import pytest

from srlkit.teacher.cache import ResponseCache
from srlkit.teacher.config import GenerateConfig, RewriteConfig
from srlkit.teacher.fake_server import Action
from srlkit.teacher.run import CACHE_FILE, RLVR_FILE, STATS_FILE, TRAJECTORIES_FILE, run_teacher
from srlkit.teacher.teachers import TeacherError


def _config(server, inputs, out, cls=RewriteConfig, **kw):
    defaults = {
        "inputs": [str(inputs)],
        "out": str(out),
        "teacher": server.base_url,
        "teacher_model": "fake-teacher",
        "concurrency": 4,
        "retry_backoff_s": 0.01,
        "max_retries": 3,
        "timeout_s": 5.0,
        "progress": False,
    }
    return cls(**{**defaults, **kw})


def _fault_on(first_prompts: set[str], action: Action, times: int = 1):
    """Misbehave ``times`` times for requests whose problem text starts with one of ``first_prompts``."""

    def fault(body, nth):
        content = body["messages"][-1]["content"]
        if nth < times and any(p in content for p in first_prompts):
            return action
        return None

    return fault


def test_rewrite_happy_path_writes_contract_and_stats(chat_server, math500_file, records, tmp_path):
    server = chat_server()
    stats = run_teacher(_config(server, math500_file, tmp_path / "out"))
    assert (
        stats["samples"]["in"] == 12 == stats["samples"]["kept"] + stats["samples"]["dropped_total"]
    )
    assert stats["samples"]["kept"] == 12
    assert stats["requests"]["asked"] == 12 and stats["requests"]["cached"] == 0
    assert stats["requests"]["completion_tokens"] > 0
    trajs = [
        json.loads(line) for line in (tmp_path / "out" / TRAJECTORIES_FILE).read_text().splitlines()
    ]
    assert {t["metadata"]["record_id"] for t in trajs} == {r["unique_id"] for r in records}
    first = trajs[0]
    assert first["metadata"]["teacher"]["model"] == "fake-teacher"
    assert first["metadata"]["prompt_version"].startswith("rewrite-")
    assert first["metadata"]["verdicts"]["answer_score"] == 1.0
    assert len(first["steps"]) >= 2 and first["steps"][0]["title"] == "Step 1"
    rlvr = [json.loads(line) for line in (tmp_path / "out" / RLVR_FILE).read_text().splitlines()]
    assert {r["answer"] for r in rlvr} == {r["answer"] for r in records}
    assert all(n == 1 for n in server.served.values()) and len(server.served) == 12


def test_rerun_of_finished_job_asks_nothing_and_writes_same_files(
    chat_server, math500_file, tmp_path
):
    server = chat_server()
    config = _config(server, math500_file, tmp_path / "out")
    run_teacher(config)
    before = (tmp_path / "out" / TRAJECTORIES_FILE).read_bytes()
    stats = run_teacher(config)
    assert stats["requests"]["asked"] == 0 and stats["requests"]["cached"] == 12
    assert sum(server.seen.values()) == 12
    assert (tmp_path / "out" / TRAJECTORIES_FILE).read_bytes() == before


@pytest.mark.parametrize(
    ("action", "reason"),
    [
        pytest.param(
            Action("status", status=429, retry_after=0.05), "rate_limited", id="rate_limit_429"
        ),
        pytest.param(Action("status", status=500), "server_error", id="server_error_500"),
        pytest.param(Action("status", status=503), "server_error", id="unavailable_503"),
        pytest.param(Action("malformed"), "malformed", id="malformed_json"),
        pytest.param(Action("empty"), "malformed", id="no_choices"),
        pytest.param(Action("drop"), "connection", id="dropped_connection"),
        pytest.param(Action("slow", delay_s=1.5), "timeout", id="slow_past_timeout"),
    ],
)
def test_transient_faults_are_retried_and_counted(
    chat_server, math500_file, records, tmp_path, action, reason
):
    victims = {records[0]["problem"], records[5]["problem"]}
    server = chat_server(fault=_fault_on(victims, action, times=2))
    stats = run_teacher(_config(server, math500_file, tmp_path / "out", timeout_s=1.0))
    assert stats["requests"]["retries"] == {reason: 4}  # 2 victims x 2 faults each
    assert stats["requests"]["failed"] == {}
    assert stats["samples"]["kept"] == 12


def test_truncated_reply_is_persisted_and_dropped_not_retried(
    chat_server, math500_file, records, tmp_path
):
    victim = records[3]["problem"]
    server = chat_server(fault=_fault_on({victim}, Action("truncated"), times=99))
    stats = run_teacher(_config(server, math500_file, tmp_path / "out"))
    assert stats["samples"]["dropped"] == {"truncated": 1}
    assert stats["samples"]["drop_examples"]["truncated"] == [f"{records[3]['unique_id']}/s0"]
    assert sum(server.seen.values()) == 12  # a truncated reply is an answer: not asked again


def test_request_failing_every_retry_is_counted_and_asked_again_on_rerun(
    chat_server, math500_file, records, tmp_path
):
    victim = records[7]["problem"]
    broken = {"on": True}

    def fault(body, nth):
        if broken["on"] and victim in body["messages"][-1]["content"]:
            return Action("status", status=500)
        return None

    server = chat_server(fault=fault)
    config = _config(server, math500_file, tmp_path / "out", max_retries=2)
    stats = run_teacher(config)
    assert stats["requests"]["failed"] == {"gave up after 3 attempts (server_error)": 1}
    assert stats["samples"]["dropped"] == {"request_failed": 1}
    assert (
        stats["samples"]["in"] == stats["samples"]["kept"] + stats["samples"]["dropped_total"] == 12
    )
    broken["on"] = False
    stats = run_teacher(config)
    assert stats["requests"]["asked"] == 1 and stats["requests"]["cached"] == 11
    assert stats["samples"]["kept"] == 12


def test_bad_request_fails_that_request_only(chat_server, math500_file, records, tmp_path):
    server = chat_server(
        fault=_fault_on({records[2]["problem"]}, Action("status", status=400), times=99)
    )
    stats = run_teacher(_config(server, math500_file, tmp_path / "out"))
    assert stats["requests"]["failed"] == {"rejected (400)": 1}
    assert stats["samples"]["kept"] == 11


def test_authentication_error_stops_the_run(chat_server, math500_file, tmp_path):
    server = chat_server(fault=lambda body, nth: Action("status", status=401))
    with pytest.raises(TeacherError, match="refused"):
        run_teacher(_config(server, math500_file, tmp_path / "out"))


def test_api_key_never_reaches_outputs_or_logs(
    chat_server, math500_file, tmp_path, monkeypatch, caplog
):
    secret = "sk-test-DO-NOT-LEAK-0123456789"
    monkeypatch.setenv("SRL_TEST_KEY", secret)
    server = chat_server(
        fault=_fault_on({"Convert the point"}, Action("status", status=500), times=1)
    )
    with caplog.at_level(logging.DEBUG):
        run_teacher(_config(server, math500_file, tmp_path / "out", api_key_env="SRL_TEST_KEY"))
    for path in (tmp_path / "out").iterdir():
        assert secret not in path.read_text(encoding="utf-8"), path.name
    assert secret not in caplog.text
    stats = json.loads((tmp_path / "out" / STATS_FILE).read_text())
    assert stats["config"]["api_key_env"] == "SRL_TEST_KEY"


def test_generate_checks_answers_against_gold(chat_server, math500_file, records, tmp_path):
    golds = {r["problem"]: r["answer"] for r in records}
    wrong = records[4]["problem"]

    def responder(body):
        content = body["messages"][-1]["content"]
        problem = content.split("PROBLEM:", 1)[1].strip()
        answer = "123456789" if problem == wrong else golds[problem]
        return f"SOLUTION:\n1. **Read** We read the problem.\n2. **Answer** So it is $\\boxed{{{answer}}}$."

    server = chat_server(responder=responder)
    stats = run_teacher(
        _config(server, math500_file, tmp_path / "out", cls=GenerateConfig, num_samples=2)
    )
    assert stats["samples"]["in"] == 24
    # the 2 samples of a problem are identical text: one is a duplicate of the other
    assert stats["samples"]["dropped"] == {"duplicate": 11, "wrong_answer": 2}
    assert stats["samples"]["kept"] == 11
    assert len(server.served) == 24  # sample i is asked with seed + i: 24 distinct requests


def test_cache_holds_one_line_per_answered_request(chat_server, math500_file, tmp_path):
    server = chat_server()
    run_teacher(_config(server, math500_file, tmp_path / "out"))
    cache = ResponseCache(tmp_path / "out" / CACHE_FILE)
    answers = [e for e in cache.entries.values() if "text" in e]
    golds = [e for e in cache.entries.values() if "gold" in e]
    assert len(answers) == 12 and len(golds) == 12
    lines = (tmp_path / "out" / CACHE_FILE).read_text().splitlines()
    assert len(lines) == 24

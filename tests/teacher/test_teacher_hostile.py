"""A hostile or broken endpoint: every reply ends as a kept sample or a counted drop, requests are
bounded in total time, and no credential reaches the terminal or a file."""

from __future__ import annotations

import json
import math
import os
import time

import pytest
from teacher_helpers import rewrite_responder

from srlkit.cli.main import main
from srlkit.teacher.config import GenerateConfig, RewriteConfig
from srlkit.teacher.fake_server import Action
from srlkit.teacher.prompts import PromptTemplate, load_prompt
from srlkit.teacher.run import CACHE_FILE, STATS_FILE, TRAJECTORIES_FILE, run_teacher
from srlkit.teacher.teachers import TeacherError
from srlkit.teacher.verify import _MATH_RE, _NUMBER_RE, faithfulness, math_items


def _config(server, inputs, out, cls=RewriteConfig, **kw):
    defaults = {
        "inputs": [str(inputs)],
        "out": str(out),
        "teacher": server.base_url,
        "teacher_model": "fake-teacher",
        "concurrency": 4,
        "retry_backoff_s": 0.01,
        "max_retries": 1,
        "timeout_s": 5.0,
        "progress": False,
    }
    return cls(**{**defaults, **kw})


def _reply_body(content: str, usage: str) -> bytes:
    """A chat completion as raw JSON text (so it can hold what json.dumps refuses to write)."""
    message = json.dumps({"role": "assistant", "content": content})
    return (
        '{"id": "x", "object": "chat.completion", "created": 0, "model": "m", "choices": '
        f'[{{"index": 0, "message": {message}, "finish_reason": "stop"}}], "usage": {usage}}}'
    ).encode()


def _on_victim(victim: str, action_of):
    def fault(body, nth):
        if victim in body["messages"][-1]["content"]:
            return action_of(body)
        return None

    return fault


GOOD_USAGE = '{"prompt_tokens": 5, "completion_tokens": 7, "total_tokens": 12}'


@pytest.mark.parametrize(
    ("content", "usage", "kept"),
    [
        pytest.param("1. **A** \ud800 x\n2. **B** y", GOOD_USAGE, False, id="lone_surrogate"),
        pytest.param(
            None, '{"prompt_tokens": Infinity, "completion_tokens": 1}', True, id="usage_infinity"
        ),
        pytest.param(
            None, '{"prompt_tokens": 1e30, "completion_tokens": -3}', True, id="usage_1e30"
        ),
        pytest.param(
            None,
            '{"prompt_tokens": 99999999999999999999999, "completion_tokens": "x"}',
            True,
            id="usage_huge_int",
        ),
    ],
)
def test_a_broken_reply_is_a_counted_drop_and_reruns_finish(
    chat_server, math500_file, records, tmp_path, content, usage, kept
):
    """Before: the cache write raised (TypeError / OverflowError) on every run and rerun."""
    victim = records[2]["problem"]

    def action(body):
        text = content if content is not None else rewrite_responder(body)
        return Action("raw", body=_reply_body(text, usage))

    server = chat_server(fault=_on_victim(victim, action))
    config = _config(server, math500_file, tmp_path / "out")
    stats = run_teacher(config)
    samples = stats["samples"]
    assert samples["in"] == 12 == samples["kept"] + samples["dropped_total"]
    if kept:
        assert samples["kept"] == 12
    else:
        assert samples["dropped"] == {"unreadable_reply": 1}
    asked = sum(server.seen.values())
    again = run_teacher(config)  # finishes, asks nothing, decides the same
    assert again["samples"] == samples and sum(server.seen.values()) == asked
    json.loads((tmp_path / "out" / STATS_FILE).read_text())


def test_timeout_bounds_the_whole_request_not_the_gap_between_bytes(
    chat_server, math500_file, records, tmp_path
):
    """Before: a reply trickled one byte per 0.05 s (about 40 s in all) ran to its end."""
    victim = records[4]["problem"]
    server = chat_server(fault=_on_victim(victim, lambda body: Action("trickle", delay_s=0.05)))
    config = _config(server, math500_file, tmp_path / "out", timeout_s=1.5, max_retries=0)
    start = time.monotonic()
    stats = run_teacher(config)
    assert time.monotonic() - start < 10
    assert stats["requests"]["failed"] == {"gave up after 1 attempts (timeout)": 1}
    assert stats["samples"]["dropped"] == {"request_failed": 1}


SECRET = "sk-test-0123456789abcdefSECRET"


def test_an_echoed_api_key_never_reaches_the_terminal(
    chat_server, math500_file, tmp_path, monkeypatch, capsys
):
    """Before: the 401 body, echoing ``Bearer sk-...``, was printed verbatim."""
    body = json.dumps(
        {"error": {"message": f"Incorrect API key provided: Bearer {SECRET}.", "code": 401}}
    ).encode()
    server = chat_server(fault=lambda b, nth: Action("status", status=401, body=body))
    monkeypatch.setenv("SRL_TEST_KEY", SECRET)
    config = _config(server, math500_file, tmp_path / "out", api_key_env="SRL_TEST_KEY")
    with pytest.raises(TeacherError) as err:
        run_teacher(config)
    assert "401" in str(err.value) and SECRET not in str(err.value)
    assert "sk-test" not in str(err.value)
    code = main(
        ["data", "rewrite", "--inputs", str(math500_file), "--out", str(tmp_path / "cli"),
         "--teacher", server.base_url, "--teacher_model", "m", "--api_key_env", "SRL_TEST_KEY",
         "--progress", "false"]
    )  # fmt: skip
    printed = capsys.readouterr()
    assert code == 1 and "[redacted]" in printed.err
    assert SECRET not in printed.out + printed.err


def test_credentials_in_the_endpoint_url_are_written_nowhere(chat_server, math500_file, tmp_path):
    """Before: ``user:pass@`` went into every trajectory's metadata and into stats.json."""
    server = chat_server()
    url = server.base_url.replace("http://", "http://alice:hunter2pw@")
    stats = run_teacher(_config(server, math500_file, tmp_path / "out", teacher=url))
    assert stats["samples"]["kept"] == 12
    for name in (TRAJECTORIES_FILE, STATS_FILE):
        text = (tmp_path / "out" / name).read_text()
        assert "hunter2pw" not in text and "alice" not in text and "[redacted]@127.0.0.1" in text


def test_a_reply_over_max_chars_is_stored_once_as_measures_and_asked_again_when_allowed(
    chat_server, math500_file, records, tmp_path
):
    """Before: a 2 MB reply was stored twice (text and parsed steps) though dropped as too long."""
    victim = records[1]["problem"]
    huge = "SOLUTION:\n1. **A** " + "x = 1. " * 150_000 + "\n2. **B** \\boxed{1}"

    def responder(body):
        return huge if victim in body["messages"][-1]["content"] else rewrite_responder(body)

    server = chat_server(responder=responder)
    config = _config(server, math500_file, tmp_path / "out", max_step_chars=10**7)
    stats = run_teacher(config)
    assert stats["samples"]["dropped"] == {"too_long": 1}
    assert os.path.getsize(tmp_path / "out" / CACHE_FILE) < 200_000
    asked = sum(server.seen.values())
    assert run_teacher(config)["requests"]["asked"] == 0  # same limit: decided from the cache
    config.max_chars = 2 * len(huge)
    stats = run_teacher(config)  # a limit that admits it: asked again, now measured in full
    assert stats["requests"]["asked"] == 1 and sum(server.seen.values()) == asked + 1
    assert "too_long" not in stats["samples"]["dropped"]


@pytest.mark.parametrize(
    ("option", "value"),
    [("timeout_s", -1.0), ("timeout_s", math.inf), ("temperature", math.nan),
     ("temperature", -0.5), ("top_p", 0.0), ("top_p", 1.5), ("retry_backoff_s", math.nan),
     ("max_chars", 0)],
)  # fmt: skip
def test_impossible_sampling_and_timeout_values_are_refused_up_front(option, value):
    """Before: accepted, then every request was retried as malformed."""
    config = GenerateConfig(inputs=["x.jsonl"], out="o", teacher="http://h/v1", teacher_model="m")
    setattr(config, option, value)
    with pytest.raises(ValueError, match=f"--{option}"):
        config.validate()


def test_outputs_inside_the_input_folder_are_not_read_as_problems(
    chat_server, math500_file, tmp_path
):
    """Before: each rerun read its own trajectories.jsonl and rlvr.jsonl as new problems."""
    server = chat_server()
    config = _config(server, tmp_path, tmp_path / "out", skip_invalid=True)
    first = run_teacher(config)
    asked = sum(server.seen.values())
    second = run_teacher(config)
    assert second["problems"]["read"] == first["problems"]["read"] == 12
    assert second["requests"]["asked"] == 0 and sum(server.seen.values()) == asked


def test_a_solution_holding_the_problem_placeholder_is_inserted_as_written():
    """Before: {solution} was substituted first, so its '{problem}' got the problem pasted in."""
    prompt = load_prompt("rewrite")
    text = prompt.render("What is 1+1?", "Write {problem} here; 1+1=2.")
    assert "Write {problem} here" in text
    assert PromptTemplate("t", "{solution}|{problem}", "x").render("{solution}", "s") == (
        "s|{solution}"
    )


def test_formula_scan_is_linear_on_unclosed_openers():
    """Before: 70,000 unclosed ``\\[`` took 144 s (a lazy regex retried to the end each time)."""
    start = time.perf_counter()
    faithfulness("1. **A** " + "\\[ a " * 70_000, "We get $2 + 3 = 5$.")
    faithfulness("1. **A** " + "\\( $$ " * 50_000, "We get $2 + 3 = 5$.")
    assert time.perf_counter() - start < 2.0


def test_formula_scan_finds_what_the_regex_finds():
    import random

    alphabet = ["$", "$$", "\\", "[", "]", "(", ")", "a", "12", " ", "\n", "\\[", "\\]", "\\("]
    rng = random.Random(7)
    for _ in range(20_000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 14)))
        formulas = [next(g for g in m.groups() if g is not None) for m in _MATH_RE.finditer(text)]
        numbers = _NUMBER_RE.findall(_MATH_RE.sub(" ", text))
        assert math_items(text) == (formulas, numbers), text

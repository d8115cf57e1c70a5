"""Property-based fuzzing of every reward and every loader with hostile values.

Hostile means what real data and real models produce on a bad day: integers of thousands of
digits, JSON nested thousands deep, lone surrogate escapes, runs of tens of thousands of one
character, and values of the wrong type wherever a field is read. The properties:

- rewards: every reward function returns one float (or None, for an unparseable gold answer)
  per completion, never raises, and takes under ``REWARD_BOUND_S`` per completion;
- loaders: every loader, named or auto-detected, turns every record into exactly one outcome
  (a trajectory or a counted drop naming the file and line) and never raises with
  ``skip_invalid``; a whole build reconciles (read = kept + dropped) within ``BUILD_BOUND_S``;
- readers of built data (step instances, and the SRL, RLVR and SFT training readers) either
  read a hostile file or refuse it with one :class:`~srlkit.io.DataError` line naming it.

The bounds are about ten times the worst case measured on one loaded core, so they catch
super-linear behaviour (which costs seconds to minutes on these inputs), not noise.
"""

from __future__ import annotations

import json
import math
import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from srlkit.data.build import BuildConfig, build_dataset
from srlkit.data.loaders import LOADERS, load_file
from srlkit.rewards.format import format_reward
from srlkit.rewards.numeric import numbers_equal
from srlkit.rewards.outcome import extract_answer, normalize_answer
from srlkit.rewards.srl import srl_step_reward
from srlkit.rewards.verl import compute_score_batch

REWARD_BOUND_S = 2.0
BUILD_BOUND_S = 20.0
HUGE_INT = "__HUGE_INT__"
DEEP = "__DEEP__"
RUN_CHARS = [" ", "\n", "\t", "#", "-", "*", "`", "{", "}", "[", "<", "1", "\\", "\ud800", "é",
             "# ", " \n", "1. ", "## ", "\n\n"]  # fmt: skip
FRAGMENTS = [
    "<think>", "</think>", "<tool_call>", "</tool_call>", "<function=bash>", "<parameter=x>",
    "</parameter>", "</function>", "```bash\n", "```", "\\boxed{", "####", "1. **", "Step 1:",
    "## ", "OBSERVATION:", "EXECUTION RESULT of [x]:", "--- NEW TASK DESCRIPTION ---\n",
    '{"name": "f", "arguments": {"n": ', "9" * 5000, "}}", "\x00", "\ud800",
]  # fmt: skip

long_runs = st.builds(
    lambda char, n, head, tail: head + char * n + tail,
    st.sampled_from(RUN_CHARS),
    st.integers(2_000, 40_000),
    st.sampled_from(["", *FRAGMENTS]),
    st.sampled_from(["", "x", *FRAGMENTS]),
)
hostile_text = st.one_of(
    st.text(max_size=50),
    st.lists(st.sampled_from(FRAGMENTS) | st.text(max_size=8), max_size=30).map("".join),
    long_runs,
)
scalars = st.one_of(
    hostile_text,
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.just(HUGE_INT),
    st.just(DEEP),
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(hostile_text, inner, max_size=4),
    max_leaves=12,
)


def _message(role_values=("system", "user", "assistant", "tool", "ai")):
    return st.one_of(
        values,
        st.fixed_dictionaries(
            {"role": st.sampled_from(role_values) | values, "content": values},
            optional={
                "tool_calls": values
                | st.lists(
                    st.fixed_dictionaries(
                        {"function": st.fixed_dictionaries({"name": values, "arguments": values})}
                    ),
                    max_size=2,
                ),
                "text": values,
            },
        ),
    )


# One record of every shape per example (``one_of`` would mostly draw the simplest shape).
records = st.tuples(
    st.fixed_dictionaries(
        {"problem": values, "solution": values},
        optional={"answer": values, "question": values, "steps": values, "metadata": values},
    ),
    st.fixed_dictionaries({"question": values, "answer": values}),
    st.fixed_dictionaries({"messages": st.lists(_message(), max_size=6)}),
    st.fixed_dictionaries(
        {"trajectory": st.lists(_message(), max_size=6)}, optional={"history": values}
    ),
    st.fixed_dictionaries(
        {"task": values, "kind": st.sampled_from(["math", "agent"]) | values, "steps": values},
        optional={"id": values, "metadata": values},
    ),
    st.dictionaries(hostile_text, values, max_size=5),
).map(list)


def _json_line(record) -> str:
    """JSON text of ``record`` with the placeholders replaced by what json.dumps cannot write."""
    text = json.dumps(record, ensure_ascii=True, allow_nan=True)
    text = text.replace(json.dumps(HUGE_INT), "9" * 5000)
    return text.replace(json.dumps(DEEP), "[" * 3000 + "]" * 3000)


def _timed(fn, *args, **kwargs):
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return result, time.perf_counter() - start


FUZZ = settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _tool_call(value, pad: str, closed: bool) -> str:
    call = _json_line({"name": "bash", "arguments": value})
    return f"<think>t</think><tool_call>{pad}{call}{pad}{'</tool_call>' if closed else 'x'}"


arguments = st.one_of(
    st.dictionaries(
        hostile_text, st.sampled_from([HUGE_INT, DEEP, "\ud800"]) | values, min_size=1, max_size=3
    ),
    values,
)
tool_calls = st.builds(
    _tool_call, arguments, st.sampled_from(["", " " * 40_000, "\n" * 40_000]), st.booleans()
)
# Every shape of completion in every example: text, a tool call, a wrong type, messages.
completions = st.tuples(
    hostile_text, tool_calls, values, st.lists(_message(("assistant",)), max_size=3)
).map(list)


@FUZZ
@given(completions=completions, target=hostile_text)
def test_step_and_format_rewards_never_raise_and_are_time_bounded(completions, target):
    n = len(completions)
    for kind in ("math", "agent"):
        rewards, seconds = _timed(srl_step_reward, completions, target=[target] * n, kind=kind)
        assert len(rewards) == n and all(isinstance(r, float) and math.isfinite(r) for r in rewards)
        assert seconds < REWARD_BOUND_S * n
    rewards, seconds = _timed(format_reward, completions)
    assert len(rewards) == n and seconds < REWARD_BOUND_S * n
    strings = [c if isinstance(c, str) else json.dumps(c, default=str) for c in completions]
    infos = [{"kind": "agent"}] * n
    scores, seconds = _timed(compute_score_batch, ["x"] * n, strings, [target] * n, infos)
    assert [set(s) for s in scores] == [{"score", "gold_unparseable"}] * n
    assert seconds < REWARD_BOUND_S * n


@FUZZ
@given(text=hostile_text, other=hostile_text)
def test_answer_reading_never_raises_and_is_time_bounded(text, other):
    answer, seconds = _timed(extract_answer, text)
    assert answer is None or isinstance(answer, str)
    _, more = _timed(normalize_answer, text)
    same, most = _timed(numbers_equal, text, other)
    assert same in (None, True, False)
    assert seconds + more + most < REWARD_BOUND_S


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(batch=records, fmt=st.sampled_from([None, *[loader.name for loader in LOADERS]]))
def test_every_loader_counts_every_hostile_record(tmp_path_factory, batch, fmt):
    folder = tmp_path_factory.mktemp("fuzz")
    path = folder / "in.jsonl"
    path.write_text("\n".join(_json_line(r) for r in batch) + "\n", encoding="utf-8")
    outcomes, seconds = _timed(lambda: list(load_file(path, fmt, skip_invalid=True)))
    assert len(outcomes) == len(batch)
    for outcome in outcomes:
        assert (outcome.trajectory is None) == (outcome.dropped is not None)
        if outcome.dropped == "invalid":
            assert str(path) in outcome.detail
    stats, build_seconds = _timed(
        build_dataset,
        [path],
        folder / "out",
        BuildConfig(format=fmt, skip_invalid=True, parquet=False),
    )
    assert stats.read == len(batch) and stats.reconciles()
    assert seconds + build_seconds < BUILD_BOUND_S


OUTCOME_TIMEOUT_S = 2.0
answers = st.one_of(
    hostile_text,
    st.sampled_from(
        ["2^{3\\cdot 10^{9}}", "10^{10^{8}}", "\\frac{1}{0}", "9" * 5000, "1,000.5", ""]
    ),
)


@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@given(answer=answers, gold=st.one_of(answers, st.integers(), st.floats(), st.none()))
def test_outcome_reward_never_raises_and_is_time_bounded(answer, gold):
    from srlkit.rewards.judge import GRACE_S, STARTUP_TIMEOUT_S, default_pool
    from srlkit.rewards.outcome import outcome_reward

    default_pool()  # started outside the timing: a child's start is paid once per process
    completions = [f"so \\boxed{{{answer}}}", answer, [{"role": "assistant", "content": answer}]]
    scores, seconds = _timed(
        outcome_reward, completions, answer=[gold] * 3, timeout_s=OUTCOME_TIMEOUT_S
    )
    assert len(scores) == 3 and all(s in (None, 0.0, 1.0) for s in scores)
    assert seconds < 3 * (OUTCOME_TIMEOUT_S + GRACE_S) + STARTUP_TIMEOUT_S / 10


instance_records = st.fixed_dictionaries(
    {},
    optional={
        "id": values,
        "prompt": values | st.lists(_message(), max_size=3),
        "target": values,
        "step_index": values,
        "num_steps": values,
        "trajectory_id": values,
        "kind": values,
        "metadata": values,
        "problem": values,
        "question": values,
        "answer": values,
        "task": values,
        "steps": values,
    },
)


@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
@given(batch=st.lists(instance_records, min_size=1, max_size=4))
def test_instance_and_training_readers_refuse_hostile_records_in_one_line(tmp_path_factory, batch):
    from srlkit.data.reader import iter_instances
    from srlkit.io import DataError
    from srlkit.training import datasets as training_data

    folder = tmp_path_factory.mktemp("fuzz")
    path = folder / "train.jsonl"
    path.write_text("\n".join(_json_line(r) for r in batch) + "\n", encoding="utf-8")
    readers = [
        lambda: list(iter_instances(path)),
        lambda: training_data.load_srl_instances(path),
        lambda: training_data.load_rlvr_problems(path, "Solve: {problem}", None, "answer"),
        lambda: training_data.load_sft_examples(path, "full"),
    ]
    for read in readers:
        start = time.perf_counter()
        try:
            read()
        except DataError as err:
            assert "\n" not in str(err) and str(path) in str(err)
        assert time.perf_counter() - start < BUILD_BOUND_S


# --- teacher replies -------------------------------------------------------------------------
TEACHER_BOUND_S = 30.0
usage_values = st.one_of(
    st.sampled_from(["Infinity", "-Infinity", "NaN", "1e30", "1e400", "-5", "9" * 30, "true",
                     '"12"', "null", "[1]", "{}"]),
    st.integers().map(str),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
)  # fmt: skip
reply_texts = st.one_of(
    hostile_text,
    st.sampled_from(
        ["1. **A** \ud800 x\n2. **B** \\boxed{2}", "1. **A** 1+1\n2. **B** \\boxed{2}"]
    ),
)


@st.composite
def chat_bodies(draw) -> bytes:
    """A chat-completions reply as raw JSON text: hostile content, usage, finish reason, shape."""
    content = json.dumps(draw(reply_texts), ensure_ascii=True)
    usage = f'{{"prompt_tokens": {draw(usage_values)}, "completion_tokens": {draw(usage_values)}}}'
    finish = draw(st.sampled_from(['"stop"', '"length"', "null", "7", '"\\ud800"']))
    message = draw(
        st.sampled_from(
            [f'{{"role": "assistant", "content": {content}}}', "null", '"text"',
             f'{{"role": "assistant", "content": [{content}]}}']
        )
    )  # fmt: skip
    choice = f'{{"index": 0, "message": {message}, "finish_reason": {finish}}}'
    choices = draw(st.sampled_from([f"[{choice}]", "[]", "null", f"{choice}", f"[{choice}, 5]"]))
    body = f'{{"id": "x", "object": "chat.completion", "created": 0, "model": "m", "choices": {choices}, "usage": {usage}}}'
    return body.encode() if draw(st.booleans()) else body.encode()[: draw(st.integers(0, 400))]


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(bodies=st.lists(chat_bodies(), min_size=2, max_size=2))
def test_every_teacher_reply_ends_as_a_counted_outcome(tmp_path_factory, bodies):
    """However broken a reply (text, usage, finish reason, shape, truncation), a run and its
    rerun finish, and samples in = kept + dropped, within ``TEACHER_BOUND_S``."""
    from srlkit.teacher.config import GenerateConfig
    from srlkit.teacher.fake_server import Action, FakeChatServer
    from srlkit.teacher.run import run_teacher

    folder = tmp_path_factory.mktemp("teacher")
    inputs = folder / "problems.jsonl"
    rows = [{"id": f"p{i}", "problem": f"What is {i}+1?", "answer": str(i + 1)} for i in range(2)]
    inputs.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    by_problem = {f"What is {i}+1?": body for i, body in enumerate(bodies)}

    def fault(body, nth):
        text = body["messages"][-1]["content"]
        return next((Action("raw", body=b) for p, b in by_problem.items() if p in text), None)

    with FakeChatServer(lambda body: "", fault) as server:
        config = GenerateConfig(
            inputs=[str(inputs)], out=str(folder / "out"), teacher=server.base_url,
            teacher_model="m", max_retries=0, timeout_s=5.0, progress=False, concurrency=2,
        )  # fmt: skip
        start = time.perf_counter()
        first = run_teacher(config)
        again = run_teacher(config)
        seconds = time.perf_counter() - start
    for stats in (first, again):
        samples = stats["samples"]
        assert samples["in"] == 2 == samples["kept"] + samples["dropped_total"]
    assert seconds < TEACHER_BOUND_S


# --- report inputs ---------------------------------------------------------------------------
REPORT_BOUND_S = 30.0
steps = st.one_of(
    st.integers(-3, 30), st.just(None), st.text(max_size=3), st.floats(), st.just(HUGE_INT)
)
rollouts = st.one_of(
    values,
    st.fixed_dictionaries(
        {},
        optional={"completion": values, "action": values, "format_ok": values, "reward": scalars,
                  "rewards": values, "extracted": values,
                  "compared": values | st.fixed_dictionaries(
                      {"prediction": hostile_text}, optional={"reference": hostile_text | values})},
    ),
)  # fmt: skip
groups = st.fixed_dictionaries(
    {"step": steps, "rollouts": st.lists(rollouts, max_size=4) | values},
    optional={"split": values, "prompt": values, "target": values, "kept": values,
              "reward_std": scalars, "matcher": values | st.fixed_dictionaries(
                  {}, optional={"autojunk": values, "metric": values, "max_steps": values})},
)  # fmt: skip
metric_lines = st.one_of(
    values,
    st.fixed_dictionaries(
        {"step": steps}, optional={"reward": scalars, "loss": scalars, "eval_<b>x</b>": scalars}
    ),
)
json_files = st.one_of(
    values,
    st.fixed_dictionaries({"step": steps}, optional={"metric": values, "value": scalars}),
    st.fixed_dictionaries(
        {"benchmarks": values | st.dictionaries(hostile_text, values, max_size=2)}
    ),
)


@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    history=st.lists(metric_lines, max_size=4),
    records=st.lists(groups, max_size=3),
    best=st.none() | json_files,
    summary=st.none() | json_files,
    title=hostile_text,
)
def test_the_report_reads_hostile_runs_or_refuses_them_in_one_line(
    tmp_path_factory, history, records, best, summary, title
):
    """metrics.jsonl, rollouts.jsonl, best_checkpoint.json and an eval summary.json built from
    hostile values: the page is written, or one DataError line names the file; within bound."""
    from srlkit.io import DataError
    from srlkit.report import ReportConfig, run_report

    root = tmp_path_factory.mktemp("report")
    train = root / "train"
    train.mkdir()
    (train / "metrics.jsonl").write_text("".join(_json_line(h) + "\n" for h in history))
    (train / "rollouts.jsonl").write_text("".join(_json_line(r) + "\n" for r in records))
    if best is not None:
        (train / "best_checkpoint.json").write_text(_json_line(best))
    dirs = [str(train)]
    if summary is not None:
        evaluation = root / "eval"
        (evaluation / "samples").mkdir(parents=True)
        (evaluation / "summary.json").write_text(_json_line(summary))
        (evaluation / "samples" / "a.jsonl").write_text(_json_line(records) + "\n")
        dirs.append(str(evaluation))
    config = ReportConfig(run_dirs=dirs, title=title, out=str(root / "r.html"), max_rollouts=50)
    start = time.perf_counter()
    try:
        run_report(config)
        assert (root / "r.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    except DataError as err:
        assert "\n" not in str(err) and str(root) in str(err)
    assert time.perf_counter() - start < REPORT_BOUND_S

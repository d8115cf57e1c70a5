"""Math loaders on the real files in ../shared/data, plus field options and malformed records."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from srlkit.data.loaders import LoaderOptions, detect_loader, get_loader, load_file
from srlkit.io import DataError


def _outcomes(path, **kw):
    return list(load_file(path, **kw))


def _kept(outcomes):
    return [o.trajectory for o in outcomes if o.trajectory]


def test_gsm8k_lines_without_calculator_annotations_and_final_answer(shared_data):
    outs = _outcomes(shared_data / "gsm8k" / "train.jsonl")
    trajs = _kept(outs)
    assert len(outs) == 7473 and {o.format for o in outs} == {"gsm8k"}
    first = trajs[0]
    assert first.final_answer == "72"
    assert [s.body for s in first.steps] == [
        "Natalia sold 48/2 = 24 clips in May.",
        "Natalia sold 48+24 = 72 clips altogether in April and May.",
    ]
    assert not any("<<" in s.body or "####" in s.body for t in trajs for s in t.steps)
    assert all(t.metadata["segmentation"] == "lines" for t in trajs)


def test_gsm8k_test_and_socratic_titles(shared_data):
    plain = _kept(_outcomes(shared_data / "gsm8k" / "test.jsonl"))
    socratic = _kept(_outcomes(shared_data / "gsm8k" / "test_socratic.jsonl"))
    assert len(plain) == len(socratic) == 1319
    step = socratic[0].steps[0]
    assert step.title == "How many eggs does Janet sell?"
    assert step.body == "Janet sells 16 - 3 - 4 = 9 duck eggs a day."
    assert socratic[0].final_answer == plain[0].final_answer == "18"
    assert socratic[0].metadata["socratic"] is True and plain[0].metadata["socratic"] is False


def test_math500_boxed_answers_and_reported_drops(shared_data):
    outs = _outcomes(shared_data / "math500" / "test.jsonl")
    assert len(outs) == 500 and {o.format for o in outs} == {"boxed"}
    reasons = Counter(o.dropped for o in outs if o.dropped)
    assert set(reasons) == {"too_few_steps"}
    kept = _kept(outs)
    assert len(kept) + reasons["too_few_steps"] == 500
    assert all(t.final_answer for t in kept)
    assert all(len(t.steps) >= 2 for t in kept)


def test_minerva_final_answer_is_the_last_boxed(shared_data):
    path = shared_data / "minerva_math" / "test.jsonl"
    outs = _outcomes(path, options=LoaderOptions(min_steps=1))
    assert len(outs) == 272 and all(o.trajectory for o in outs)
    assert outs[0].trajectory.final_answer == "1.6"
    assert outs[0].format == "boxed"


def test_s1k_json_array_uses_numbered_steps_where_present(shared_data):
    outs = _outcomes(shared_data / "s1k_questions" / "s1k.json")
    assert len(outs) == 1000 and {o.format for o in outs} == {"s1k"}
    kept = _kept(outs)
    methods = Counter(t.metadata["segmentation"] for t in kept)
    assert methods["numbered"] >= 200
    first = kept[0]
    assert first.steps[0].title == "Rewrite the function using trigonometric identities"
    assert first.metadata["solution_field"] == "solution"
    dropped = [o for o in outs if o.dropped]
    assert {o.dropped for o in dropped} == {"too_few_steps"}  # answer-only solutions such as "128"


def test_aime24_generic_math_loader(shared_data):
    outs = _outcomes(shared_data / "aime24" / "test.jsonl")
    assert {o.format for o in outs} == {"math"} and len(outs) == 30
    kept = _kept(outs)
    assert kept and all(t.final_answer for t in kept)


def test_answer_only_eval_files_are_not_mistaken_for_trajectories(shared_data):
    with pytest.raises(DataError, match=r"a problem and a final answer but no worked solution"):
        _outcomes(shared_data / "aime25" / "test.jsonl")


def test_steps_list_and_s1k_11_field_preference(tmp_path):
    rows = [
        {"problem": "P", "steps": ["a", {"title": "T", "body": "b"}, ""], "answer": 3},
        {
            "problem": "Q",
            "deepseek_attempt": "1. **A** x\n2. **B** y",
            "solution": "\\boxed{5}",
            "cot_type": "math",
        },
    ]
    p, q = tmp_path / "steps.jsonl", tmp_path / "s1k11.jsonl"
    p.write_text(json.dumps(rows[0]))
    q.write_text(json.dumps(rows[1]))
    (a,) = _kept(_outcomes(p, options=LoaderOptions()))
    assert [(s.title, s.body) for s in a.steps] == [("", "a"), ("T", "b")] and a.final_answer == "3"
    b = get_loader("s1k").load(_raw(q)[0], LoaderOptions())
    assert [s.title for s in b.steps] == ["A", "B"] and b.final_answer == "5"
    assert detect_loader(rows[1]).name == "s1k"


def _raw(path):
    from srlkit.data.files import iter_raw_records

    return list(iter_raw_records(path))


def test_configurable_field_names(tmp_path):
    p = tmp_path / "custom.jsonl"
    p.write_text(json.dumps({"q": "What?", "worked": "First.\n\nSecond.", "gold": "2"}) + "\n")
    opts = LoaderOptions(problem_field="q", solution_field="worked", answer_field="gold")
    (t,) = _kept(_outcomes(p, format="math", options=opts))
    assert (
        t.task == "What?"
        and [s.body for s in t.steps] == ["First.", "Second."]
        and t.final_answer == "2"
    )


def test_missing_field_names_the_fields_found_and_accepted(tmp_path):
    p = tmp_path / "m.jsonl"
    p.write_text(
        json.dumps({"problem": "P", "solution": "a\n\nb"})
        + "\n"
        + json.dumps({"problem": "P", "text": "x"})
        + "\n"
    )
    with pytest.raises(DataError) as info:
        _outcomes(p)
    msg = str(info.value)
    assert "m.jsonl:2" in msg and "no solution field" in msg
    assert (
        "accepted: deepseek_attempt, attempt, solution, answer" in msg
        and "found: problem, text" in msg
    )
    outs = _outcomes(p, skip_invalid=True)
    assert [o.dropped for o in outs] == [None, "invalid"]


def test_wrong_types_and_empty_solutions(tmp_path):
    p = tmp_path / "t.jsonl"
    p.write_text(
        json.dumps({"problem": "P", "solution": "a\n\nb"})
        + "\n"
        + json.dumps({"problem": "P", "solution": ""})
        + "\n"
        + json.dumps({"problem": ["x"], "solution": "y"})
        + "\n"
    )
    with pytest.raises(DataError, match="field 'problem' should be text, found list"):
        _outcomes(p)
    outs = _outcomes(p, skip_invalid=True)
    assert [o.dropped for o in outs] == [None, "empty_solution", "invalid"]


def test_skip_invalid_lets_detection_move_past_an_unrecognisable_first_record(tmp_path):
    p = tmp_path / "junk_first.jsonl"
    p.write_text(
        json.dumps({"foo": 1})
        + "\n"
        + json.dumps({"question": "q", "answer": "a\nb\n#### 3"})
        + "\n"
    )
    with pytest.raises(DataError, match="unknown trajectory format"):
        _outcomes(p)
    outs = _outcomes(p, skip_invalid=True)
    assert [(o.dropped, o.format) for o in outs] == [("invalid", ""), (None, "gsm8k")]

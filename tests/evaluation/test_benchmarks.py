"""Benchmark loading on the real files: counts, gold answers, the AIME25 repair, custom JSONL."""

from __future__ import annotations

import json

import pytest

from srlkit.data.answers import last_boxed
from srlkit.evaluation.benchmarks import (
    BENCHMARKS,
    GOLD_BOXED,
    custom_spec,
    load_benchmark,
    read_gold,
    repair_lost_escapes,
    resolve_spec,
)
from srlkit.io import DataError

EXPECTED_COUNTS = {
    "aime24": 30,
    "aime25": 30,
    "amc23": 40,
    "minerva": 272,
    "math500": 500,
    "gsm8k": 1319,
}


@pytest.mark.parametrize("name, count", sorted(EXPECTED_COUNTS.items()))
def test_real_benchmark_files_load_with_their_counts(shared_data, name, count):
    loaded = load_benchmark(BENCHMARKS[name], shared_data)
    assert len(loaded.problems) == count
    assert loaded.rows_read == count and loaded.dropped == {}
    assert len({p.id for p in loaded.problems}) == count
    assert all(p.problem.strip() and p.gold.strip() for p in loaded.problems)


def test_gold_answers_are_read_per_benchmark(shared_data):
    gold = {
        name: load_benchmark(BENCHMARKS[name], shared_data).problems[0].gold
        for name in EXPECTED_COUNTS
    }
    assert gold["aime24"] == "204"
    assert gold["aime25"] == "70"  # stored as an int
    assert gold["amc23"] == "27"  # stored as the float 27.0
    assert gold["gsm8k"] == "18"  # the number after ####
    assert gold["math500"] == "\\left( 3, \\frac{\\pi}{2} \\right)"
    minerva = load_benchmark(BENCHMARKS["minerva"], shared_data).problems[0]
    assert minerva.gold == last_boxed(minerva.reference_solution) == "1.6"


def test_aime25_lost_escapes_are_repaired(shared_data):
    raw = {}
    with open(shared_data / "aime25" / "test.jsonl", encoding="utf-8") as f:
        for line in f:
            rec = json.loads(line)
            raw[str(rec["id"])] = rec["problem"]
    assert "\x0crac" in raw["18"] and "\triangle" in raw["19"] and "\x0crac" in raw["27"]
    loaded = load_benchmark(BENCHMARKS["aime25"], shared_data)
    assert loaded.repaired == 3
    by_id = {p.id: p.problem for p in loaded.problems}
    assert by_id["18"].count("\\frac{\\log") == 5
    assert "circumcircle of $\\triangle DEF$ intersects" in by_id["19"]
    assert "$\\frac{m}{n}$" in by_id["27"]
    for text in by_id.values():
        assert not any(ord(ch) < 32 and ch != "\n" for ch in text)
    # every other row is untouched
    assert all(by_id[i] == raw[i] for i in raw if i not in {"18", "19", "27"})


@pytest.mark.parametrize(
    "text, expected, count",
    [
        pytest.param("\x0crac{1}{2}", "\\frac{1}{2}", 1, id="form_feed_frac"),
        pytest.param("$\triangle ABC$", "$\\triangle ABC$", 1, id="tab_triangle"),
        pytest.param(
            "\x08inom{5}{2} + \x08oxed{3}",
            "\\binom{5}{2} + \\boxed{3}",
            2,
            id="backspace_binom_boxed",
        ),
        pytest.param("\right)", "\\right)", 1, id="carriage_return_right"),
        pytest.param("x \neq y", "x \\neq y", 1, id="newline_neq"),
        pytest.param(
            "have\tequal\tperimeters.\tThe", "have\tequal\tperimeters.\tThe", 0, id="real_tabs_kept"
        ),
        pytest.param("line one\nnext line", "line one\nnext line", 0, id="real_newline_kept"),
        pytest.param("\ttimestamp", "\ttimestamp", 0, id="prefix_of_longer_word_kept"),
    ],
)
def test_repair_lost_escapes(text, expected, count):
    assert repair_lost_escapes(text) == (expected, count)


def test_math500_real_tabs_survive_loading(shared_data):
    problems = load_benchmark(BENCHMARKS["math500"], shared_data).problems
    assert any("have\tequal\tperimeters" in p.problem for p in problems)


@pytest.mark.parametrize(
    "value, mode, expected",
    [
        (27.0, "answer", "27"),
        (2.5, "answer", "2.5"),
        (70, "answer", "70"),
        (["12"], "answer", "12"),
        ("  ", "answer", None),
        (None, "answer", None),
        ("so \\boxed{\\frac{a}{b}} and \\boxed{x^{2}}", GOLD_BOXED, "x^{2}"),
        ("no box here", GOLD_BOXED, None),
        ("3 + 4 = 7\n#### 1,234", "gsm8k", "1234"),
    ],
)
def test_read_gold(value, mode, expected):
    assert read_gold(value, mode) == expected


def test_custom_jsonl_with_configured_fields_counts_dropped_rows(tmp_path):
    path = tmp_path / "mine.jsonl"
    rows = [
        {"q": "1 + 1?", "a": "2"},
        {"q": "2 + 2?", "a": ""},  # no gold: dropped, counted
        {"q": "", "a": "3"},  # no problem: dropped, counted
        {"q": "3 + 3?", "a": 6},
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    spec = resolve_spec(str(path), problem_field="q", answer_field="a")
    assert spec.name == "mine"
    loaded = load_benchmark(spec)
    assert [(p.problem, p.gold) for p in loaded.problems] == [("1 + 1?", "2"), ("3 + 3?", "6")]
    assert loaded.rows_read == 4 and sum(loaded.dropped.values()) == 2
    assert resolve_spec(f"arith={path}").name == "arith"


def test_custom_file_relative_to_data_dir(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "test.jsonl").write_text(
        '{"problem": "p", "answer": "1"}\n', encoding="utf-8"
    )
    spec = custom_spec("sub/test.jsonl")
    assert spec.name == "sub"
    assert len(load_benchmark(spec, tmp_path).problems) == 1


def test_wrong_field_name_is_a_located_error(tmp_path):
    path = tmp_path / "x.jsonl"
    path.write_text('{"question": "p", "answer": "1"}\n', encoding="utf-8")
    with pytest.raises(DataError, match=r"x\.jsonl:1: no field 'problem'"):
        load_benchmark(custom_spec(path))


def test_missing_file_names_the_path(tmp_path):
    with pytest.raises(DataError, match="benchmark file not found"):
        load_benchmark(BENCHMARKS["aime24"], tmp_path)


def test_unknown_benchmark_name():
    with pytest.raises(ValueError, match="unknown benchmark 'aime99'"):
        resolve_spec("aime99")


def test_paper_defaults_for_k():
    assert {n: s.default_k for n, s in BENCHMARKS.items()} == {
        "aime24": 32, "aime25": 32, "amc23": 32, "minerva": 0, "math500": 0, "gsm8k": 0,
        "chain-hard": 0,
    }  # fmt: skip


def test_hub_source_is_read_with_datasets(shared_data, tmp_path):
    """Without --data-dir the hub copy is used; a local dataset folder stands in for the hub id."""
    from dataclasses import replace

    with open(shared_data / "gsm8k" / "test.jsonl", encoding="utf-8") as f:
        (tmp_path / "test.jsonl").write_text("".join(next(f) for _ in range(5)), encoding="utf-8")
    gsm8k = BENCHMARKS["gsm8k"]
    spec = replace(gsm8k, hub=replace(gsm8k.hub, path=str(tmp_path), config=None))
    loaded = load_benchmark(spec)  # no data_dir: the hub source
    assert loaded.source == f"hf://{tmp_path}"
    assert [p.gold for p in loaded.problems] == ["18", "3", "70000", "540", "20"]


def test_unreachable_hub_dataset_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    with pytest.raises(
        DataError, match=r"hf://HuggingFaceH4/MATH-500: could not load the hub dataset .*--data-dir"
    ):
        load_benchmark(BENCHMARKS["math500"])

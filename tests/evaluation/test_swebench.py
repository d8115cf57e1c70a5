import json

import pytest

from srlkit.evaluation.swebench import (
    FIELDS,
    normalise_predictions,
    read_scaffold_predictions,
    write_predictions,
)
from srlkit.io import DataError, iter_jsonl

PATCH = "diff --git a/src/x.py b/src/x.py\n--- a/src/x.py\n+++ b/src/x.py\n@@ -1 +1 @@\n-a\n+b\n"


def read_jsonl(path):
    return [record for _, record in iter_jsonl(path)]


def test_sweagent_preds_json_becomes_harness_jsonl(tmp_path):
    preds = {
        "astropy__astropy-12907": {
            "model_name_or_path": "openai/srl",
            "instance_id": "astropy__astropy-12907",
            "model_patch": PATCH,
        },
        "django__django-11099": {
            "model_name_or_path": "openai/srl",
            "instance_id": "django__django-11099",
            "model_patch": None,
        },
    }
    src = tmp_path / "preds.json"
    src.write_text(json.dumps(preds), encoding="utf-8")
    counts = write_predictions(src, tmp_path / "predictions.jsonl", model_name="srl-swe-7b")
    rows = read_jsonl(tmp_path / "predictions.jsonl")
    assert [tuple(r) for r in rows] == [FIELDS, FIELDS]
    assert rows[0] == {
        "instance_id": "astropy__astropy-12907",
        "model_name_or_path": "srl-swe-7b",
        "model_patch": PATCH,
    }
    assert rows[1]["model_patch"] == ""
    assert counts == {"written": 2, "empty_patch": 1}


def test_bad_records_are_counted_not_written():
    kept, counts = normalise_predictions(
        [
            {"model_patch": PATCH},
            {"instance_id": "a-1", "model_patch": PATCH},
            {"instance_id": "a-1", "model_patch": ""},
        ]
    )
    assert [r["instance_id"] for r in kept] == ["a-1"] and kept[0][
        "model_name_or_path"
    ] == "unknown"
    assert counts == {"no_instance_id": 1, "duplicate": 1}


def test_jsonl_input_and_a_bad_line_named(tmp_path):
    src = tmp_path / "p.jsonl"
    src.write_text('{"instance_id": "a-1", "model_patch": "x"}\n{oops\n', encoding="utf-8")
    with pytest.raises(DataError, match=r"p\.jsonl:2"):
        read_scaffold_predictions(src)
    src.write_text("\n", encoding="utf-8")
    with pytest.raises(DataError, match="no prediction"):
        write_predictions(src, tmp_path / "out.jsonl")


def test_one_line_jsonl_is_one_record_not_a_mapping(tmp_path):
    src = tmp_path / "one.jsonl"
    src.write_text(
        '{"instance_id": "a-1", "model_name_or_path": "m", "model_patch": "x"}\n', encoding="utf-8"
    )
    assert read_scaffold_predictions(src) == [
        {"instance_id": "a-1", "model_name_or_path": "m", "model_patch": "x"}
    ]

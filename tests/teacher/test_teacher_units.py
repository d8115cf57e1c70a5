"""Prompts, the response cache, the gold gate and the filters, on hand-made and real cases."""

from __future__ import annotations

import json

import pytest

from srlkit.io import DataError
from srlkit.teacher.cache import ResponseCache, request_key
from srlkit.teacher.golds import check_gold
from srlkit.teacher.prompts import load_prompt
from srlkit.teacher.verify import FilterOptions, decide, faithfulness, measure, parse_steps

# --- prompts -------------------------------------------------------------------------------


def test_builtin_prompts_render_latex_braces_literally():
    prompt = load_prompt("rewrite")
    text = prompt.render("Find $\\frac{1}{2}$.", "It is $\\boxed{\\frac{1}{2}}$.")
    assert "Find $\\frac{1}{2}$." in text and "It is $\\boxed{\\frac{1}{2}}$." in text
    assert "{problem}" not in text and "{solution}" not in text
    assert prompt.version.startswith("rewrite-") and prompt.source == "builtin"


def test_prompt_file_changes_the_version_and_must_have_placeholders(tmp_path):
    good = tmp_path / "p.txt"
    good.write_text("Solve as steps:\n{problem}\n", encoding="utf-8")
    assert load_prompt("generate", good).version != load_prompt("generate").version
    bad = tmp_path / "bad.txt"
    bad.write_text("Rewrite {problem}", encoding="utf-8")
    with pytest.raises(DataError, match=r"bad.txt: the rewrite prompt must contain \{solution\}"):
        load_prompt("rewrite", bad)


# --- cache ---------------------------------------------------------------------------------


def test_request_key_changes_with_every_part():
    base = {"teacher": "openai", "model": "m", "prompt": "v1", "sampling": {"temperature": 0.7}}
    key = request_key(base, "r1", 0)
    assert key == request_key(dict(base), "r1", 0)
    variants = [
        request_key({**base, "model": "m2"}, "r1", 0),
        request_key({**base, "prompt": "v2"}, "r1", 0),
        request_key({**base, "sampling": {"temperature": 1.0}}, "r1", 0),
        request_key(base, "r2", 0),
        request_key(base, "r1", 1),
    ]
    assert key not in variants and len(set(variants)) == len(variants)


def test_torn_last_line_is_dropped_and_appending_continues(tmp_path):
    path = tmp_path / "responses.jsonl"
    with ResponseCache(path) as cache:
        cache.append({"key": "a", "text": "one"})
        cache.append({"key": "b", "text": "two"})
    with open(path, "ab") as f:  # what a kill -9 in the middle of a write leaves
        f.write(b'{"key": "c", "text": "thr')
    cache = ResponseCache(path)
    assert set(cache.entries) == {"a", "b"} and cache.torn_lines == 1
    cache.append({"key": "c", "text": "three"})
    cache.close()
    lines = path.read_text().splitlines()
    assert [json.loads(line)["key"] for line in lines] == ["a", "b", "c"]


def test_corrupt_line_in_the_middle_is_a_located_error(tmp_path):
    path = tmp_path / "responses.jsonl"
    path.write_text('{"key": "a"}\nnot json\n{"key": "b"}\n', encoding="utf-8")
    with pytest.raises(DataError, match=r"responses.jsonl:2: corrupt response cache line"):
        ResponseCache(path)


# --- golds ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "problem", "status", "answer"),
    [
        pytest.param(
            "So $x = \\boxed{\\frac{3}{4}}$.", "", "checkable", "\\frac{3}{4}", id="boxed_solution"
        ),
        pytest.param(27.0, "", "checkable", "27", id="float_answer"),
        pytest.param(
            "Natalia sold 48 + 24 = 72 clips.\n#### 72", "", "checkable", "72", id="gsm8k_marks"
        ),
        pytest.param("(C)", "", "checkable", "(C)", id="short_choice"),
        pytest.param(None, "", "missing", None, id="missing"),
        pytest.param(
            "We argue by induction. " * 10,
            "Prove that $n! > 2^n$ for $n \\ge 4$.",
            "proof",
            None,
            id="proof",
        ),
        pytest.param(
            "Consider the graph of the function. " * 10,
            "Find the area.",
            "prose",
            None,
            id="long_prose",
        ),
        pytest.param("np.arcsin(10/13)", "", "unparseable", None, id="unparseable_code"),
        # s1K proof problems whose "gold" restates the claim (any restatement would score right)
        pytest.param("\\boxed{a^2 + b^2 \\leq 2}", "Prove that $a^2 + b^2 \\le 2$.", "proof",
                     None, id="proof_inequality_claim"),
        pytest.param("\\boxed{\\triangle ABC}", "Show that triangle ABC is equilateral.",
                     "proof", None, id="proof_geometric_object"),
        pytest.param("\\boxed{p \\equiv 3 \\pmod{4}}", "Prove that p is 3 mod 4.", "proof", None,
                     id="proof_congruence_claim"),
        pytest.param("\\boxed{\\frac{\\sqrt{3}}{3}}", "Prove that the maximum is attained; find it.",
                     "checkable", "\\frac{\\sqrt{3}}{3}", id="proof_with_a_value"),
        pytest.param("x \\leq 2", "Find all real x with x^2 <= 4 and x > 0.", "checkable",
                     "x \\leq 2", id="relation_outside_a_proof"),
    ],
)  # fmt: skip
def test_gold_gate(value, problem, status, answer):
    gold = check_gold(value, problem)
    assert (gold.status, gold.answer) == (status, answer)


# --- verify --------------------------------------------------------------------------------


def test_parse_steps_reads_after_solution_label():
    text = "Sure! Here it is.\n\nSOLUTION:\n1. **Add** $2+3=5$\n2. **Box** $\\boxed{5}$"
    steps = parse_steps(text)
    assert [(s.title, s.body) for s in steps] == [("Add", "$2+3=5$"), ("Box", "$\\boxed{5}$")]


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("<think></think>\n1. **Add** 2 + 3 = 5\n2. **Box** \\boxed{5}", id="empty"),
        pytest.param(
            "<think>2 plus 3 is 5.\n1. not a step</think>\n1. **Add** 2 + 3 = 5\n2. **Box** \\boxed{5}",
            id="numbered_lines_inside",
        ),
    ],
)
def test_parse_steps_leaves_think_blocks_out(text):
    steps = parse_steps(text)
    assert [(s.title, s.body) for s in steps] == [("Add", "2 + 3 = 5"), ("Box", "\\boxed{5}")]


@pytest.mark.parametrize(
    ("rewrite", "original", "expected"),
    [
        pytest.param(
            "Then $x^2 = 9$, so $x = 3$.",
            "We get $x^{2}=9$ hence $x=3$.",
            1.0,
            id="same_formulas_other_spacing_and_braces",
        ),
        pytest.param("So $x = 3$ and $z = 11$.", "We get $x=3$.", 0.5, id="one_formula_of_two_new"),
        pytest.param(
            "Then $x = 3$ and 12 apples.", "x = 3 and there are 12 apples", 1.0, id="same_math"
        ),
        pytest.param("Then $y = 7 \\cdot 6 = 42$.", "We get $x = 3$.", 0.0, id="solved_anew"),
        pytest.param("No math at all here.", "We get $x = 3$.", None, id="nothing_to_check"),
    ],
)
def test_faithfulness_cases(rewrite, original, expected):
    score, _ = faithfulness(rewrite, original)
    assert score == expected


def test_decide_order_and_thresholds():
    options = FilterOptions(min_faithfulness=0.6)
    good = measure(
        "SOLUTION:\n1. **A** $1+1=2$\n2. **B** $\\boxed{2}$", "2", "We have $1+1=2$, so 2."
    )
    assert decide("stop", good, options) is None
    assert decide("length", good, options) == "truncated"
    one_step = measure("SOLUTION:\n1. **A** $\\boxed{2}$", "2")
    assert decide("stop", one_step, options) == "too_few_steps"
    wrong = measure("1. **A** $1+1=2$\n2. **B** $\\boxed{3}$", "2")
    assert decide("stop", wrong, options) == "wrong_answer"
    no_answer = measure("1. **A** we think\n2. **B** we stop", "2")
    assert decide("stop", no_answer, options) == "no_answer"
    unfaithful = measure(
        "1. **A** $7 \\cdot 6 = 42$\n2. **B** $\\boxed{2}$", "2", "We have $1+1=2$."
    )
    assert decide("stop", unfaithful, options) == "unfaithful"
    long_step = measure("1. **A** " + "x" * 100 + "\n2. **B** $\\boxed{2}$", "2")
    assert decide("stop", long_step, FilterOptions(max_step_chars=50)) == "too_long"


def test_sampling_is_evaluations_settings_and_keeps_the_cache_key():
    """The teacher samples with evaluation's SamplingSettings; the key part is unchanged, so
    caches written with the former teacher-only ``Sampling`` class are still found."""
    from srlkit.evaluation.backends import SamplingSettings
    from srlkit.teacher.cache import identity_text, request_key
    from srlkit.teacher.config import GenerateConfig
    from srlkit.teacher.teachers import sampling_identity

    sampling = GenerateConfig().sampling()
    assert isinstance(sampling, SamplingSettings) and sampling.top_k == 0
    part = sampling_identity(sampling)
    assert part == {"temperature": 0.7, "top_p": 1.0, "max_tokens": 4096, "seed": 0}
    identity = identity_text({"teacher": "openai", "prompt": "generate-x", "sampling": part})
    assert request_key(identity, "r1", 0) == "e3ae3827af75f3eac48c25d121963b46"

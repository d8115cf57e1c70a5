"""Math step segmentation: each method on golden cases, auto order, and a round-trip property."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from srlkit.data.schema import Step
from srlkit.data.segment import segment_solution


def _pairs(seg):
    return [(s.title, s.body) for s in seg.steps]


def test_numbered_bold_is_the_papers_format_and_ignores_nested_lists():
    text = (
        "SOLUTION:\n"
        "1. **Set up the equation:**\n   Let x be the number.\n   1. first sub-point\n   2. second sub-point\n"
        "2. **Solve** x = 4.\n"
    )
    seg = segment_solution(text)
    assert seg.method == "numbered"
    assert _pairs(seg) == [
        ("Set up the equation", "Let x be the number.\n1. first sub-point\n2. second sub-point"),
        ("Solve", "x = 4."),
    ]


def test_preamble_before_the_first_heading_is_a_step():
    seg = segment_solution("We work in two stages.\n1. **A** a\n2. **B** b")
    assert _pairs(seg) == [("", "We work in two stages."), ("A", "a"), ("B", "b")]


@pytest.mark.parametrize(
    "text, expected",
    [
        pytest.param(
            "Step 1: Find x.\nx = 2\nStep 2: Double it.\n2x = 4",
            [("Find x.", "x = 2"), ("Double it.", "2x = 4")],
            id="plain",
        ),
        pytest.param(
            "**Step 1:** x = 2\n\n**Step 2:** y = 3",
            [("", "x = 2"), ("", "y = 3")],
            id="bold_inline",
        ),
        pytest.param(
            "### Step 1 - Expand\n(a+b)^2\n### Step 2 - Simplify\na^2+2ab+b^2",
            [("Expand", "(a+b)^2"), ("Simplify", "a^2+2ab+b^2")],
            id="heading",
        ),
    ],
)
def test_step_headings(text, expected):
    seg = segment_solution(text)
    assert seg.method == "step_heading"
    assert _pairs(seg) == expected


def test_markdown_headings_skip_empty_sections():
    seg = segment_solution("## Setup\nLet n = 3.\n## \n## Compute\nn^2 = 9\n## Empty\n")
    assert seg.method == "markdown"
    assert _pairs(seg) == [("Setup", "Let n = 3."), ("Compute", "n^2 = 9")]


def test_paragraphs_are_the_fallback_and_keep_display_math_together():
    text = "First we note\n\\[\nx^2 = 4\n\\]\nso x = 2.\n\nThen x + 1 = 3."
    seg = segment_solution(text)
    assert seg.method == "paragraphs"
    assert [s.body for s in seg.steps] == [
        "First we note\n\\[\nx^2 = 4\n\\]\nso x = 2.",
        "Then x + 1 = 3.",
    ]


def test_single_paragraph_gives_one_step_for_the_caller_to_drop():
    seg = segment_solution("128")
    assert len(seg.steps) == 1


def test_lines_and_user_regex():
    assert [s.body for s in segment_solution("a = 1\n\nb = 2\n", "lines").steps] == [
        "a = 1",
        "b = 2",
    ]
    seg = segment_solution(
        "(i) Add: 1+1=2 (ii) Double: 2*2=4", "regex", r"\((?:i|ii)\) (?P<title>\w+):"
    )
    assert _pairs(seg) == [("Add", "1+1=2"), ("Double", "2*2=4")]
    seg = segment_solution("A. one\nB. two", "regex", r"^[A-Z]\. ")
    assert [s.body for s in seg.steps] == ["A. one", "B. two"]


def test_unknown_method_and_regex_without_pattern_are_errors():
    with pytest.raises(ValueError, match="unknown segmentation method"):
        segment_solution("x", "sentences")
    with pytest.raises(ValueError, match="needs a pattern"):
        segment_solution("x", "regex")


_title = (
    st.text(
        alphabet=st.characters(whitelist_categories=("L", "N"), whitelist_characters=" "),
        min_size=1,
        max_size=20,
    )
    .map(str.strip)
    .filter(bool)
)
_body = (
    st.text(
        alphabet=st.characters(whitelist_categories=("L", "N"), whitelist_characters=" +-=()"),
        min_size=1,
        max_size=40,
    )
    .map(str.strip)
    .filter(bool)
)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(_title, _body), min_size=2, max_size=8))
def test_numbered_steps_written_by_math_text_segment_back_exactly(pairs):
    text = "\n".join(Step(title=t, body=b).math_text(i) for i, (t, b) in enumerate(pairs, start=1))
    seg = segment_solution(text)
    assert seg.method == "numbered"
    assert _pairs(seg) == pairs

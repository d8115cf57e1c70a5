"""Math step segmentation: each method on golden cases, auto order, and a round-trip property."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from srlkit.data.schema import Step
from srlkit.data.segment import segment_solution, split_numbered


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


# --- math-aware cutting and line-broken prose (issue 10) -----------------------------------


def test_blank_lines_inside_display_math_do_not_cut_a_paragraph():
    # The old splitter cut here and produced the steps "$$" and "x = 2\n$$" (s1K had 87 such).
    text = "We solve\n$$\nx + 1 = 3\n\nx = 2\n$$\nso x is 2.\n\nThen $\\boxed{2}$."
    seg = segment_solution(text)
    assert seg.method == "paragraphs"
    assert [s.body for s in seg.steps] == [
        "We solve\n$$\nx + 1 = 3\n\nx = 2\n$$\nso x is 2.",
        "Then $\\boxed{2}$.",
    ]


def test_environment_and_brace_group_with_blank_lines_stay_whole():
    text = "Align:\n\\begin{align*}\na &= 1 \\\\\n\nb &= 2\n\\end{align*}\n\nDone, $f = \\{x \\mid {x\n\n> 0}\\}$."
    steps = segment_solution(text, "paragraphs").steps
    assert len(steps) == 2 and steps[0].body.endswith("\\end{align*}")
    assert steps[1].body.startswith("Done")


def test_a_delimiter_only_piece_joins_the_step_before_it():
    steps = segment_solution("First x = 1.\n\n\\]\n\nThen y = 2.\n\n.", "paragraphs").steps
    assert [s.body for s in steps] == ["First x = 1.\n\\]", "Then y = 2.\n."]


def test_aops_line_broken_prose_is_cut_per_line_with_formulas_joined_to_their_sentence():
    text = (
        "$\\frac{9}{s} + t = 4$ in hours.\n"
        "Subtracting the second equation from the first, we get,\n"
        "$\\frac{9}{s} - \\frac{9}{s+2} = 1.6$\n"
        "Factoring gives us\n"
        "$(2s-5)(2s+9) = 0$, so $s=2.5$.\n"
        "So the answer is $\\boxed{204}$."
    )
    seg = segment_solution(text)
    assert seg.method == "prose"
    assert [s.body for s in seg.steps] == [
        "$\\frac{9}{s} + t = 4$ in hours.",
        "Subtracting the second equation from the first, we get,\n$\\frac{9}{s} - \\frac{9}{s+2} = 1.6$",
        "Factoring gives us\n$(2s-5)(2s+9) = 0$, so $s=2.5$.",
        "So the answer is $\\boxed{204}$.",
    ]


def test_one_line_of_sentences_is_cut_at_sentence_ends_outside_math():
    text = (
        "We have $x = 1.5. Y$ here, e.g. a case. Then $y = 2$. So \\[z = 3.\\]Hence $\\boxed{3}$."
    )
    seg = segment_solution(text)
    assert seg.method == "prose"
    assert [s.body for s in seg.steps] == [
        "We have $x = 1.5. Y$ here, e.g. a case.",
        "Then $y = 2$.",
        "So \\[z = 3.\\]",
        "Hence $\\boxed{3}$.",
    ]


def test_unbalanced_source_is_never_cut_inside_the_open_group():
    text = "Let $x = 1. Then the rest\nfollows. And more."
    steps = segment_solution(text, "prose").steps
    assert steps[0].body.startswith("Let $x = 1. Then the rest\nfollows.")  # open $ protects


def _units(text: str) -> int:
    """Sentence ends outside math plus display formulas: a rough count of what could be a step."""
    import re

    from srlkit.data.mathspans import is_safe, protected_spans

    spans = protected_spans(text)
    ends = sum(1 for m in re.finditer(r"[.!?](?=\s)", text) if is_safe(spans, m.start()))
    displays = sum(
        1 for a, b in spans if text[a : a + 2] in ("$$", "\\[") or text[a:b].startswith("\\begin")
    )
    return ends + displays


@pytest.mark.parametrize(
    ("rel", "min_share"), [("aime24/test.jsonl", 0.9), ("math500/test.jsonl", 0.9)]
)
def test_real_prose_solutions_give_two_or_more_steps_and_no_math_fragments(
    shared_data, rel, min_share
):
    import json

    from srlkit.data.mathspans import balanced

    eligible = cut = broken = 0
    for line in (shared_data / rel).read_text(encoding="utf-8").splitlines():
        text = json.loads(line)["solution"].strip()
        if _units(text) < 2:
            continue
        eligible += 1
        steps = segment_solution(text).steps
        cut += len(steps) >= 2
        if balanced(text):
            broken += sum(not balanced(s.body) for s in steps)
    assert eligible >= 25
    assert cut / eligible >= min_share, f"{cut}/{eligible}"
    assert broken == 0


def test_split_numbered_any_number_cuts_at_every_heading():
    """A heading numbered like the one before is a step of its own only with ``any_number``
    (a model's own solution); by default it stays in the step before (a nested bold list)."""
    text = (
        "1. **Double** 4 * 2 = 8\n2. **Add 1** 8 + 1 = 9\n2. **Double** 9 * 2 = 18\n4. **Answer** x"
    )
    assert [s.title for s in split_numbered(text)] == ["Double", "Add 1"]
    cut = split_numbered(text, any_number=True)
    assert [(s.title, s.body) for s in cut] == [
        ("Double", "4 * 2 = 8"),
        ("Add 1", "8 + 1 = 9"),
        ("Double", "9 * 2 = 18"),
        ("Answer", "x"),
    ]

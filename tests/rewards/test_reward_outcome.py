"""The outcome reward: answer extraction, math-verify judging, time limits, thread safety."""

from __future__ import annotations

import json
import threading
import time

import pytest

from srlkit.rewards.outcome import extract_answer, last_boxed, outcome_reward, score_answer

EXTRACT_CASES = {
    "boxed": ("so x = \\boxed{5}.", "5"),
    "last_boxed_wins": ("\\boxed{1} then \\boxed{2}", "2"),
    "nested_braces": ("\\boxed{\\frac{1}{\\sqrt{2}}}", "\\frac{1}{\\sqrt{2}}"),
    "fbox": ("\\fbox{7}", "7"),
    "boxed_space_form": ("answer: \\boxed 12$", "12"),
    "unclosed_last_box_falls_back": ("\\boxed{3} and \\boxed{4", "3"),
    "gsm8k_marker": ("48 + 24 = 72\n#### 72", "72"),
    "gsm8k_marker_with_comma": ("#### 1,000.", "1000"),  # one GSM8K reader: separators go
    "plain_last_number": ("It costs 3 dollars, so 3 * 4 = 12", "12"),
    "negative_decimal": ("the change is -0.25", "-0.25"),
    "signature_digits_are_not_a_number": ("so t = 24 and $180 + 24 = 204$. -sepehr2010", "204"),
    "nothing": ("no digits here", None),
    "empty": ("", None),
}


@pytest.mark.parametrize("text,expected", EXTRACT_CASES.values(), ids=EXTRACT_CASES.keys())
def test_extract_answer(text, expected):
    assert extract_answer(text) == expected


SCORE_CASES = {
    "equal_integer": ("\\boxed{72}", "72", 1.0),
    "fraction_vs_decimal": ("\\boxed{0.5}", "\\frac{1}{2}", 1.0),
    "float_gold_from_amc": ("\\boxed{27}", 27.0, 1.0),
    "int_gold_from_aime": ("\\boxed{204}", 204, 1.0),
    "algebraic_equivalence": ("\\boxed{1 + x^2}", "x^2+1", 1.0),
    "wrong": ("\\boxed{71}", "72", 0.0),
    "gsm8k_worked_solution_gold": ("#### 72", "She sold 48/2 = <<48/2=24>>24 clips.\n#### 72", 1.0),
    "minerva_boxed_gold": ("$\\boxed{3}$", "thus $\\boxed{3}$ meters", 1.0),
    "answer_outside_think_counts": ("<think>maybe \\boxed{5}</think> so \\boxed{6}", "6", 1.0),
    "answer_in_think_only": ("<think>it is \\boxed{6}</think> done", "6", 1.0),
    "no_answer": ("I do not know", "6", 0.0),
    "garbage_answer": ("\\boxed{)(*&^%}", "6", 0.0),
    "aime_bold_parenthesised": ("$d = \\boxed{\\textbf{(073)}}.$", "073", 1.0),
    "minerva_bare_decimal_point": ("$\\boxed{-1./3}$", "-1./3", 1.0),
    "bare_decimal_point_vs_fraction": ("\\boxed{-\\frac{1}{3}}", "-1./3", 1.0),
}


@pytest.mark.parametrize("completion,gold,expected", SCORE_CASES.values(), ids=SCORE_CASES.keys())
def test_score_answer(completion, gold, expected):
    assert score_answer(completion, gold).score == expected


def test_unparseable_gold_is_none_whatever_the_answer():
    for completion in ("\\boxed{5}", "no answer at all"):
        result = score_answer(completion, "\\frac{")
        assert result.score is None and "gold" in result.reason
    assert score_answer("\\boxed{5}", None).score is None


def test_conversational_completion():
    completion = [{"role": "assistant", "reasoning_content": "24 + 48", "content": "\\boxed{72}"}]
    assert score_answer(completion, "72").score == 1.0


def test_overlong_answer_is_wrong_without_judging():
    result = score_answer("\\boxed{" + "1+" * 5000 + "1}", "3")
    assert result.score == 0.0 and result.reason == "answer too long"


@pytest.mark.slow
def test_hostile_answer_is_cut_off_in_a_thread():
    """A power tower that sympy cannot finish: bounded by the timeout, even off the main thread."""
    results = {}

    def run() -> None:
        start = time.perf_counter()
        results["score"] = score_answer("\\boxed{9^{9^{9^{9}}}}", "5", timeout_s=1.0)
        results["seconds"] = time.perf_counter() - start

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(30)
    assert results["score"].score == 0.0 and "timeout" in results["score"].reason
    assert results["seconds"] < 1.0 + 2.0 + 1.0  # soft limit + grace + IPC slack


def test_outcome_reward_is_a_trl_reward_function():
    rewards = outcome_reward(
        ["\\boxed{72}", "\\boxed{1}", "\\boxed{2}"],
        answer=["72", "72", "\\frac{"],
        prompts=["p"] * 3,
    )
    assert rewards == [1.0, 0.0, None]


def test_real_gsm8k_solutions_score_against_their_own_answer(shared_data):
    """GSM8K's own worked solutions must score 1.0 against their final answers."""
    rows = []
    with open(shared_data / "gsm8k" / "test.jsonl", encoding="utf-8") as f:
        for _, line in zip(range(20), f):
            rows.append(json.loads(line))
    golds = [row["answer"].rsplit("####", 1)[1].strip() for row in rows]
    assert outcome_reward([row["answer"] for row in rows], answer=golds) == [1.0] * len(rows)


def test_real_math500_golds_all_parse(shared_data):
    """Every MATH-500 gold answer must be judged equal to itself (none unparseable)."""
    with open(shared_data / "math500" / "test.jsonl", encoding="utf-8") as f:
        golds = [json.loads(line)["answer"] for _, line in zip(range(40), f)]
    scores = [score_answer("\\boxed{" + g + "}", g).score for g in golds]
    assert scores.count(1.0) == len(golds), [g for g, s in zip(golds, scores) if s != 1.0]


HOSTILE_COMPLETIONS = {
    "lone_surrogate": "\\boxed{\ud800}",
    "nul_byte": "\\boxed{1\x002}",
    "unbalanced_latex": "\\boxed{\\frac{1}{}",
    "python_code_is_not_run": "\\boxed{__import__('os').system('echo pwned')}",
    "deep_nesting": "\\boxed{" + "{" * 400 + "1" + "}" * 400 + "}",
    "huge_number": "\\boxed{" + "9" * 900 + "}",
    "conversational_garbage": [{"role": "assistant", "content": None, "reasoning_content": 5}],
    "not_a_completion": 3.5,
}


@pytest.mark.parametrize("completion", HOSTILE_COMPLETIONS.values(), ids=HOSTILE_COMPLETIONS.keys())
def test_hostile_completions_score_zero(completion):
    start = time.perf_counter()
    result = score_answer(completion, "5", timeout_s=2.0)
    assert result.score == 0.0
    assert time.perf_counter() - start < 2.0 + 2.0 + 1.0


def _score_in_child(_: int) -> float | None:
    return score_answer("\\boxed{0.5}", "\\frac{1}{2}").score


def test_judge_works_in_forked_processes():
    """A fork after the parent used the judge gets its own pool, not the parent's pipes."""
    import multiprocessing

    assert score_answer("\\boxed{1}", "1").score == 1.0  # the parent's pool is running
    with multiprocessing.get_context("fork").Pool(2) as pool:
        assert pool.map(_score_in_child, range(4)) == [1.0] * 4
    assert score_answer("\\boxed{2}", "2").score == 1.0  # and the parent's still works


@pytest.mark.parametrize(
    "text, expected",
    [
        pytest.param(
            "so \\boxed{\\frac{1}{2}} and not \\boxed{3",
            "\\frac{1}{2}",
            id="unclosed_last_falls_back",
        ),
        pytest.param("\\boxed {5}", "5", id="space_before_brace"),
        pytest.param("\\fbox{x+1}", "x+1", id="fbox"),
        pytest.param("no box here", None, id="none"),
    ],
)
def test_last_boxed_is_the_one_box_reader(text, expected):
    from srlkit.evaluation.golds import last_boxed as benchmarks_last_boxed

    assert last_boxed(text) == expected
    assert benchmarks_last_boxed is last_boxed  # gold answers are read like model answers


@pytest.mark.parametrize(
    "completion, expected",
    [
        pytest.param("so $\\boxed{np.arcsin(10/13)}$", 1.0, id="identical_text"),
        pytest.param("\\boxed{np.arcsin( 10/13 )}", 1.0, id="white_space_only"),
        pytest.param("\\boxed{np.arcsin(10/14)}", None, id="different_text_stays_unjudged"),
        pytest.param("I could not solve it.", None, id="no_answer_stays_unjudged"),
    ],
)
def test_unparseable_gold_accepts_only_identical_text(completion, expected):
    result = score_answer(completion, "np.arcsin(10/13)")
    assert result.score == expected, result

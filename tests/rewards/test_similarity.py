"""Step similarity: the compiled ratio equals difflib's exactly; other metrics are what they say."""

from __future__ import annotations

import difflib
import itertools
import threading
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from srlkit.rewards import similarity
from srlkit.rewards.similarity import batch_similarity, difflib_ratio, step_similarity

try:
    from srlkit.rewards import _csimilarity
except ImportError:  # a silent skip would hide a broken build (rewards 24x-240x slower)
    pytest.fail(
        "srlkit.rewards._csimilarity is not built: run `pip install -e .` (needs gcc and Python headers)",
        pytrace=False,
    )

PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

small_alphabet = st.text(alphabet="ab \n", max_size=60)
repetitive = st.builds(
    lambda unit, n, tail: unit * n + tail,
    st.text(alphabet="xyz= ", min_size=1, max_size=4),
    st.integers(0, 120),
    st.text(max_size=5),
)
# Astral code points (emoji, CJK extension B) and combining marks; surrogates cannot be encoded.
non_ascii = st.text(
    alphabet=st.sampled_from("é漢\u0301\U0001f600\U00020000\U0010ffffaZ "), max_size=80
)
any_text = st.text(max_size=80)
# >= 200 characters so autojunk's popularity rule applies to b.
long_text = st.text(alphabet="abcde \n=+0123456789", min_size=200, max_size=700)
strings = st.one_of(small_alphabet, repetitive, non_ascii, any_text, long_text)


def _reference(a: str, b: str, autojunk: bool) -> float:
    return difflib.SequenceMatcher(None, a, b, autojunk=autojunk).ratio()


@PROPERTY
@given(a=strings, b=strings, autojunk=st.booleans())
def test_ratio_equals_difflib(a, b, autojunk):
    assert _csimilarity.ratio(a, b, autojunk) == _reference(a, b, autojunk)


@PROPERTY
@given(
    b=long_text,
    edits=st.lists(
        st.tuples(st.integers(0, 699), st.text(alphabet="abcxyz ", max_size=6)), max_size=8
    ),
)
def test_ratio_equals_difflib_on_edited_long_references(b, edits):
    """Predictions are usually near-copies of the reference: the case rewards care about."""
    a = b
    for position, insert in edits:
        a = a[:position] + insert + a[position + 3 :]
    for autojunk in (True, False):
        assert _csimilarity.ratio(a, b, autojunk) == _reference(a, b, autojunk)


@PROPERTY
@given(a=strings, b=strings)
def test_matches_equals_sum_of_difflib_blocks(a, b):
    blocks = difflib.SequenceMatcher(None, a, b).get_matching_blocks()
    assert _csimilarity.matches(a, b) == sum(block.size for block in blocks)


@settings(max_examples=40, deadline=None)
@given(
    pairs=st.lists(
        st.tuples(strings, st.sampled_from(["", "x = 1", "ab " * 80, "the total is 5"])),
        max_size=12,
    ),
    autojunk=st.booleans(),
)
def test_batch_equals_one_by_one(pairs, autojunk):
    """Batches reuse the indexed reference between equal neighbours; results must not change."""
    predictions = [p for p, _ in pairs]
    references = sorted(r for _, r in pairs)  # sorted: neighbours share references
    expected = [_reference(p, r, autojunk) for p, r in zip(predictions, references)]
    assert batch_similarity(predictions, references, autojunk=autojunk, num_threads=1) == expected
    assert batch_similarity(predictions, references, autojunk=autojunk, num_threads=3) == expected


NAMED_CASES = {
    "identical": ("x = 2 + 3", "x = 2 + 3", 1.0),
    "both_empty": ("", "", 1.0),
    "one_empty": ("", "abc", 0.0),
    "disjoint": ("abc", "xyz", 0.0),
    "shifted": ("abcd", "bcde", 0.75),
}


@pytest.mark.parametrize(
    "prediction,reference,expected", NAMED_CASES.values(), ids=NAMED_CASES.keys()
)
def test_named_cases(prediction, reference, expected):
    assert step_similarity(prediction, reference) == expected


def test_argument_order_is_prediction_then_reference():
    """The ratio is not symmetric; step_similarity must be SequenceMatcher(None, prediction, reference)."""
    prediction, reference = "bccaac", "cccbc"  # 4/11 one way, 6/11 the other
    assert difflib_ratio(prediction, reference) != difflib_ratio(reference, prediction)
    assert step_similarity(prediction, reference) == difflib_ratio(prediction, reference)


def test_default_autojunk_is_false_and_matters_for_long_steps():
    """Long references made of popular characters: autojunk=True would call identical steps 0.0."""
    step = "ab " * 100
    assert step_similarity(step, step) == 1.0
    assert step_similarity(step + "x", step, autojunk=True) == _reference(step + "x", step, True)
    assert step_similarity("c" + step, step, autojunk=True) == 0.0


def test_real_steps_match_difflib(shared_data):
    """Real solution text (MATH-500): consecutive solutions as prediction / reference pairs."""
    import json

    with open(shared_data / "math500" / "test.jsonl", encoding="utf-8") as f:
        solutions = [json.loads(line)["solution"] for _, line in zip(range(30), f)]
    for a, b in itertools.pairwise(solutions):
        for autojunk in (True, False):
            assert step_similarity(a, b, autojunk=autojunk) == _reference(a, b, autojunk)


def test_other_metrics_are_the_documented_quantities():
    from rapidfuzz import fuzz
    from rapidfuzz.distance import Levenshtein

    a, b = "x = 2 + 3 = 5", "so x = 5"
    assert step_similarity(a, b, metric="indel") == pytest.approx(fuzz.ratio(a, b) / 100)
    assert step_similarity(a, b, metric="indel") >= step_similarity(a, b)
    assert step_similarity(a, b, metric="levenshtein") == Levenshtein.normalized_similarity(a, b)
    assert (
        step_similarity(a, a, metric="exact") == 1.0
        and step_similarity(a, b, metric="exact") == 0.0
    )
    with pytest.raises(ValueError, match="unknown similarity metric 'cosine'"):
        step_similarity(a, b, metric="cosine")


words = st.lists(
    st.sampled_from(["x", "=", "16", "1", "**Double**", "8", "*", "2", "é", "\U0001f600"]),
    max_size=40,
)


@PROPERTY
@given(a=words, b=words, autojunk=st.booleans(), spaces=st.sampled_from([" ", "  ", "\n", " \t"]))
def test_word_metrics_are_the_character_metrics_over_word_lists(a, b, autojunk, spaces):
    """``*_words`` compares word lists: difflib and rapidfuzz on the lists give the same numbers,
    whatever whitespace separates the words."""
    from rapidfuzz.distance import Indel, Levenshtein

    pred, ref = spaces.join(a), " ".join(b)
    expected = {
        "sequence_matcher_words": difflib.SequenceMatcher(None, a, b, autojunk=autojunk).ratio(),
        "indel_words": Indel.normalized_similarity(a, b),
        "levenshtein_words": Levenshtein.normalized_similarity(a, b),
    }
    for metric, value in expected.items():
        assert step_similarity(pred, ref, metric=metric, autojunk=autojunk) == pytest.approx(value)
        batch = batch_similarity([pred, ref], [ref, ref], metric, autojunk, max_steps=10**8)
        assert batch[0] == pytest.approx(value) and batch[1] == 1.0


def test_a_cut_number_outscores_a_wrong_one_over_characters_not_over_words():
    """The demo's collapse (docs/demo.md): over characters ``= 1`` for ``= 16`` loses one
    character and beats every wrong whole number; over words both are one wrong word."""
    right = "4. **Double** 8 * 2 = 16"
    cut, wrong = right[:-1], right[:-2] + "18"
    assert step_similarity(cut, right) > step_similarity(wrong, right)
    for metric in ("sequence_matcher_words", "levenshtein_words"):
        assert (
            step_similarity(cut, right, metric=metric)
            == step_similarity(wrong, right, metric=metric)
            < 1.0
        )
    # Dropping the number: 2M/T still prefers saying less; edit distance does not.
    dropped = right[:-3]
    assert step_similarity(dropped, right, metric="sequence_matcher_words") > step_similarity(
        wrong, right, metric="sequence_matcher_words"
    )
    assert step_similarity(dropped, right, metric="levenshtein_words") == step_similarity(
        wrong, right, metric="levenshtein_words"
    )


def test_word_symbols_never_use_surrogates():
    many = " ".join(f"w{i}" for i in range(0xD800 + 10))
    encoded, _ = similarity.as_word_symbols(many, "")
    assert len(set(encoded)) == 0xD800 + 10
    assert not any(0xD800 <= ord(c) <= 0xDFFF for c in encoded)
    encoded.encode("utf-8")  # a surrogate would raise here


def test_type_errors_are_clear():
    with pytest.raises(TypeError, match="b must be str"):
        _csimilarity.ratio("a", None)
    with pytest.raises(TypeError, match=r"a\[1\] must be str"):
        _csimilarity.ratio_batch(["a", 3], ["a", "b"])
    with pytest.raises(ValueError, match="2 predictions but 1 references"):
        batch_similarity(["a", "b"], ["a"])


def test_threads_share_the_extension_safely():
    texts = ["the sum is " + str(i) * (i % 7 + 1) for i in range(200)]
    expected = [_reference(t, texts[0], False) for t in texts]
    results: dict[int, list[float]] = {}

    def work(k: int) -> None:
        results[k] = [_csimilarity.ratio(t, texts[0], False) for t in texts]

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(r == expected for r in results.values())


def test_fallback_to_difflib_when_extension_missing(monkeypatch, caplog):
    monkeypatch.setattr(similarity, "_csimilarity", None)
    monkeypatch.setattr(similarity, "_warned_fallback", False)
    with caplog.at_level("WARNING"):
        assert step_similarity("abcd", "bcde") == 0.75
        assert batch_similarity(["abcd"], ["bcde"]) == [0.75]
    assert "not built" in caplog.text


def test_gil_is_released_while_matching():
    """Python code keeps running in other threads while the extension matches a long pair.

    Shows the batch call can use more cores; independent of how many cores are free.
    """
    done = threading.Event()
    ticks = 0

    def work() -> None:
        _csimilarity.ratio_batch(["ab" * 4000] * 3, ["a" * 3000] * 3, False, 3 * 10**7)
        done.set()

    thread = threading.Thread(target=work)
    thread.start()
    time.sleep(0.001)
    while not done.is_set():
        ticks += 1
    thread.join()
    assert ticks > 1000


def test_matching_blocks_with_an_extension_built_before_blocks(monkeypatch):
    """A checkout whose C extension was built before ``blocks()`` still highlights, with the
    same over-budget verdict (the compiled ``matches`` decides it)."""
    import types

    from srlkit.rewards import similarity

    if similarity._csimilarity is None:
        pytest.skip("the C extension is not built")
    old = similarity._csimilarity
    stale = types.SimpleNamespace(matches=old.matches, ratio=old.ratio)
    monkeypatch.setattr(similarity, "_csimilarity", stale)
    assert similarity.matching_blocks("abcd", "bcde") == [(1, 0, 3)]
    assert similarity.matching_blocks("ab" * 8000, "ba" * 8000, max_steps=100_000_000) is None

"""Step similarity: how close the model's action is to the expert's, in [0, 1].

The paper's reward is ``2M/T`` with ``M`` the characters in Ratcliff/Obershelp matching blocks
and ``T`` both lengths, computed with ``difflib.SequenceMatcher(...).ratio()``. The metric
``"sequence_matcher"`` is exactly that number (equal to difflib to the last bit), computed by a
small C extension (``_csimilarity``) 24x to 240x faster (see docs/benchmarks.md); if the
extension is not built, difflib itself is used, with a logged warning.

Two choices the paper leaves open are fixed here:

- **Argument order**: ``step_similarity(prediction, reference)`` calls
  ``SequenceMatcher(None, prediction, reference)``. The ratio is not symmetric; with the
  reference as ``b`` (the indexed sequence), the same expert step is scored by the same rule
  for every rollout of a group.
- **autojunk defaults to False**: with ``autojunk=True`` and a reference of 200 characters or
  more, every character occurring in more than 1% of it (spaces, ``e``, digits ...) can no
  longer start a match, so long steps get rewards that say little about their similarity
  (``"c" + "ab " * 100`` against ``"ab " * 100`` scores 0.0 instead of 0.998).

Other metrics, selectable by name, measure other quantities and are documented as such:

- ``"indel"``: rapidfuzz's normalised Indel similarity, ``1 - (insertions + deletions) / T``
  = ``2 * LCS / T``, with LCS the longest common *subsequence*. Always >= the
  sequence-matcher ratio; symmetric; hundreds of times faster than difflib.
- ``"levenshtein"``: rapidfuzz's normalised Levenshtein similarity, ``1 - distance / max(len)``.
- ``"exact"``: 1.0 when the strings are equal, else 0.0.
- ``"sequence_matcher_words"``, ``"indel_words"``, ``"levenshtein_words"``: the same quantities
  with whitespace-separated *words* as the units instead of characters. The paper's reward counts
  characters, so a step whose number is cut short (``= 1`` where ``= 16`` is right: no wrong
  character, one missing) scores above every wrong whole number (``= 18``); over words a cut
  number is a wrong word. Measured on ``srl demo``'s task: docs/demo.md.

>>> step_similarity("x = 2 + 3", "x = 2 + 3")
1.0
>>> round(step_similarity("abcd", "bcde"), 4)
0.75
"""

from __future__ import annotations

import difflib
import logging
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

logger = logging.getLogger(__name__)

try:
    from srlkit.rewards import _csimilarity
except ImportError:  # the C extension was not built: keep working, slowly
    _csimilarity = None

DEFAULT_METRIC = "sequence_matcher"
DEFAULT_AUTOJUNK = False

_warned_fallback = False


def _warn_fallback() -> None:
    global _warned_fallback
    if not _warned_fallback:
        logger.warning(
            "srlkit.rewards._csimilarity is not built; using difflib (same values, 24x to 240x slower). "
            "Rebuild with `pip install -e .` (needs a C compiler and Python headers)."
        )
        _warned_fallback = True


def has_extension() -> bool:
    """Whether the compiled sequence matcher is available."""
    return _csimilarity is not None


def difflib_ratio(prediction: str, reference: str, autojunk: bool = DEFAULT_AUTOJUNK) -> float:
    """The reference implementation: ``difflib.SequenceMatcher(None, prediction, reference).ratio()``."""
    return difflib.SequenceMatcher(None, prediction, reference, autojunk=autojunk).ratio()


def matching_blocks(
    prediction: str, reference: str, autojunk: bool = DEFAULT_AUTOJUNK, max_steps: int = 0
) -> list[tuple[int, int, int]] | None:
    """The Ratcliff/Obershelp blocks the ratio counts: ``(i, j, n)`` with equal slices.

    ``prediction[i:i+n] == reference[j:j+n]`` for each block, and ``2 * sum(n) / (len(prediction)
    + len(reference))`` is exactly :func:`sequence_matcher_ratio`: difflib's ``ratio()`` is
    computed from these very blocks. Used to show *which* characters earned a step reward.

    ``max_steps`` is the reward's work budget (:func:`batch_similarity`): the blocks are found
    by the same compiled matcher under the same budget, and ``None`` means what the reward's
    ``nan`` means, that the pair needed more work than that (the reward then scored 0.0). So
    showing the blocks never costs more than the reward did, and never disagrees with it.

    >>> matching_blocks("abcd", "bcde")
    [(1, 0, 3)]
    >>> matching_blocks("ab" * 3000, "ba" * 3000, max_steps=1000) is None
    True
    """
    if _csimilarity is None:
        _warn_fallback()
        return _difflib_blocks(prediction, reference, autojunk)
    if not hasattr(_csimilarity, "blocks"):  # built before blocks() existed: same verdict, slower
        _warn_stale_build()
        if _csimilarity.matches(prediction, reference, autojunk, max_steps) is None:
            return None
        return _difflib_blocks(prediction, reference, autojunk)
    found = _csimilarity.blocks(prediction, reference, autojunk, max_steps)
    if found is None:
        return None
    merged: list[tuple[int, int, int]] = []  # difflib's order, adjacent blocks joined
    for i, j, n in sorted(found):
        if merged and merged[-1][0] + merged[-1][2] == i and merged[-1][1] + merged[-1][2] == j:
            merged[-1] = (merged[-1][0], merged[-1][1], merged[-1][2] + n)
        else:
            merged.append((i, j, n))
    return merged


def _difflib_blocks(prediction: str, reference: str, autojunk: bool) -> list[tuple[int, int, int]]:
    matcher = difflib.SequenceMatcher(None, prediction, reference, autojunk=autojunk)
    return [(i, j, n) for i, j, n in matcher.get_matching_blocks() if n]


_warned_stale = False


def _warn_stale_build() -> None:
    global _warned_stale
    if not _warned_stale:
        logger.warning(
            "srlkit.rewards._csimilarity predates blocks(); highlights use difflib after the "
            "compiled budget check. Rebuild with `pip install -e .`."
        )
        _warned_stale = True


def sequence_matcher_ratio(
    prediction: str, reference: str, autojunk: bool = DEFAULT_AUTOJUNK
) -> float:
    """The paper's ``2M/T`` (Ratcliff/Obershelp), exactly as difflib computes it."""
    if _csimilarity is None:
        _warn_fallback()
        return difflib_ratio(prediction, reference, autojunk)
    return _csimilarity.ratio(prediction, reference, autojunk)


WORDS_SUFFIX = "_words"


def as_word_symbols(prediction: str, reference: str) -> tuple[str, str]:
    """Both strings with each whitespace-separated word replaced by one character.

    Equal words get equal characters and different words different ones, so a character metric
    over the two results is that metric over the word lists (for ``sequence_matcher``, computed
    by the compiled matcher with its work budget). The reference is encoded first, so equal
    references give equal strings and a group still shares one index.

    >>> as_word_symbols("x = 1", "x = 16")
    ('\\x00\\x01\\x03', '\\x00\\x01\\x02')
    """
    codes: dict[str, str] = {}

    def encode(text: str) -> str:
        out = []
        for word in text.split():
            code = codes.get(word)
            if code is None:
                n = len(codes)
                code = codes[word] = chr(n if n < 0xD800 else n + 0x800)  # no surrogates
            out.append(code)
        return "".join(out)

    encoded_reference = encode(reference)
    return encode(prediction), encoded_reference


def _indel(prediction: str, reference: str, autojunk: bool = DEFAULT_AUTOJUNK) -> float:
    from rapidfuzz.distance import Indel

    return Indel.normalized_similarity(prediction, reference)


def _levenshtein(prediction: str, reference: str, autojunk: bool = DEFAULT_AUTOJUNK) -> float:
    from rapidfuzz.distance import Levenshtein

    return Levenshtein.normalized_similarity(prediction, reference)


def _exact(prediction: str, reference: str, autojunk: bool = DEFAULT_AUTOJUNK) -> float:
    return 1.0 if prediction == reference else 0.0


METRICS: dict[str, Callable[[str, str, bool], float]] = {
    "sequence_matcher": sequence_matcher_ratio,
    "indel": _indel,
    "levenshtein": _levenshtein,
    "exact": _exact,
}


def _over_words(metric: Callable[[str, str, bool], float]) -> Callable[[str, str, bool], float]:
    def over_words(prediction: str, reference: str, autojunk: bool = DEFAULT_AUTOJUNK) -> float:
        return metric(*as_word_symbols(prediction, reference), autojunk)

    return over_words


METRICS.update(
    {
        name + WORDS_SUFFIX: _over_words(METRICS[name])
        for name in ("sequence_matcher", "indel", "levenshtein")
    }
)
"""``sequence_matcher_words``, ``indel_words``, ``levenshtein_words``: the same quantities with
whitespace-separated words as the units instead of characters."""


def _metric(name: str) -> Callable[[str, str, bool], float]:
    try:
        return METRICS[name]
    except KeyError:
        raise ValueError(
            f"unknown similarity metric {name!r}; choose one of {sorted(METRICS)}"
        ) from None


def step_similarity(
    prediction: str, reference: str, metric: str = DEFAULT_METRIC, autojunk: bool = DEFAULT_AUTOJUNK
) -> float:
    """Similarity of a predicted step to the expert's step, in [0, 1].

    With the default metric this equals
    ``difflib.SequenceMatcher(None, prediction, reference, autojunk=autojunk).ratio()``.
    ``autojunk`` only affects ``"sequence_matcher"``.
    """
    return _metric(metric)(prediction, reference, autojunk)


def _batch_chunk(
    predictions: Sequence[str], references: Sequence[str], autojunk: bool, max_steps: int
) -> list[float]:
    return _csimilarity.ratio_batch(list(predictions), list(references), autojunk, max_steps)


def batch_similarity(
    predictions: Sequence[str],
    references: Sequence[str],
    metric: str = DEFAULT_METRIC,
    autojunk: bool = DEFAULT_AUTOJUNK,
    num_threads: int | None = None,
    max_steps: int = 0,
) -> list[float]:
    """:func:`step_similarity` for many pairs, using all cores for the compiled metric.

    The C extension releases the GIL while it computes, so threads run truly in parallel;
    ``num_threads`` defaults to the number of CPUs (1 computes everything in this thread).
    Consecutive pairs with equal references (a GRPO group) index the reference once.

    ``max_steps`` > 0 bounds the work per pair for ``"sequence_matcher"`` (rows scanned plus
    index entries visited, about 5 ns each): a pair that needs more gets ``nan`` instead of
    its ratio. Ratcliff/Obershelp's worst case is far beyond quadratic (many one-character
    blocks, each found by a full scan), so rewards of untrusted model output set it. Not
    enforced by the difflib fallback.
    """
    if len(predictions) != len(references):
        raise ValueError(f"{len(predictions)} predictions but {len(references)} references")
    fn = _metric(metric)
    if metric.endswith(WORDS_SUFFIX):  # the character metric, one character per word
        encoded = [as_word_symbols(p, r) for p, r in zip(predictions, references)]
        predictions = [p for p, _ in encoded]
        references = [r for _, r in encoded]
        metric = metric.removesuffix(WORDS_SUFFIX)
        fn = _metric(metric)
    if metric != "sequence_matcher" or _csimilarity is None:
        return [fn(p, r, autojunk) for p, r in zip(predictions, references)]
    n = len(predictions)
    threads = max(1, min(num_threads or os.cpu_count() or 1, n))
    if threads == 1:
        return _batch_chunk(predictions, references, autojunk, max_steps)
    bounds = [n * k // threads for k in range(threads + 1)]
    with ThreadPoolExecutor(max_workers=threads) as pool:
        parts = pool.map(
            lambda k: _batch_chunk(
                predictions[bounds[k] : bounds[k + 1]],
                references[bounds[k] : bounds[k + 1]],
                autojunk,
                max_steps,
            ),
            range(threads),
        )
        return [score for part in parts for score in part]

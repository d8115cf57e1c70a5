"""How a benchmark's gold answer is read from its answer field, and the LaTeX a JSON round trip broke.

Benchmarks store the gold answer differently: the answer itself (AIME, AMC23 as a float), the
last ``\\boxed{}`` of a worked solution (Minerva), the number after GSM8K's ``####``.
:func:`read_gold` reads each; :func:`repair_lost_escapes` restores LaTeX commands whose
backslash a JSON writer turned into a control character (AIME25).
"""

from __future__ import annotations

import re
from typing import Any

from srlkit.data.answers import gsm8k_answer, last_boxed

GOLD_ANSWER = "answer"  # the answer field holds the gold answer itself
GOLD_BOXED = "boxed"  # the gold answer is the last \boxed{...} of the answer field (a solution)
GOLD_GSM8K = "gsm8k"  # the gold answer is the text after the last "####" of the answer field
GOLD_MODES = (GOLD_ANSWER, GOLD_BOXED, GOLD_GSM8K)

# LaTeX commands whose leading "\b", "\f", "\n", "\r" or "\t" a JSON writer read as an escape.
# Only these exact names are repaired, so a real tab before "The" (MATH-500 has some) is kept.
_ESCAPE_VICTIMS: dict[str, tuple[str, ...]] = {
    "\b": ("boxed", "binom", "beta", "bar", "bigl", "bigr", "big", "bmod", "bot", "boldsymbol"),
    "\f": ("frac", "forall", "flat"),
    "\n": ("neq", "nabla", "notin", "neg", "nmid", "nleq", "ngeq", "newline"),
    "\r": ("right", "rangle", "rho", "rceil", "rfloor", "rm"),
    "\t": ("triangle", "times", "theta", "text", "textbf", "tfrac", "tan", "tau", "tilde"),
}
_ESCAPE_RE = re.compile(
    "|".join(
        f"{re.escape(ch)}(?:{'|'.join(sorted((n[1:] for n in names), key=len, reverse=True))})(?![A-Za-z])"
        for ch, names in _ESCAPE_VICTIMS.items()
    )
)


def repair_lost_escapes(text: str) -> tuple[str, int]:
    """Restore LaTeX commands whose backslash became a control character; returns (text, count).

    ``"\\frac"`` written into JSON without escaping the backslash reads back as a form feed
    followed by ``rac``; AIME25 rows 18, 19 and 27 of the common copy have exactly this.

    >>> repair_lost_escapes("\\x0crac{1}{2} and \\triangle")
    ('\\\\frac{1}{2} and \\\\triangle', 2)
    """
    count = 0

    def fix(match: re.Match[str]) -> str:
        nonlocal count
        count += 1
        return (
            "\\"
            + {"\b": "b", "\f": "f", "\n": "n", "\r": "r", "\t": "t"}[match.group(0)[0]]
            + match.group(0)[1:]
        )

    return _ESCAPE_RE.sub(fix, text), count


def _format_number(value: Any) -> str:
    """Gold answers stored as numbers: ``27.0`` -> ``"27"`` (AMC23 stores floats)."""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def read_gold(value: Any, gold_from: str) -> str | None:
    """Turn a raw answer field into the gold answer text, or ``None`` when it holds none."""
    if value is None:
        return None
    if isinstance(value, (int, float)):
        return _format_number(value)
    if isinstance(value, list):  # some hub copies store a one-element list of answers
        return read_gold(value[0], gold_from) if len(value) == 1 else None
    text = str(value)
    if gold_from == GOLD_BOXED:
        return last_boxed(text)
    if gold_from == GOLD_GSM8K:
        return gsm8k_answer(text)
    return text.strip() or None

"""The numeric tolerance of the answer judge, stated once and applied in one place.

math-verify compares numbers by type: two decimals agree when equal after rounding to 6
decimal places, an integer and a decimal only when exactly equal. So ``1.0000001`` equalled
``1.0000002`` while ``2`` did not equal ``2.0000001``. srlkit decides every pair of *plain
decimal numbers* here instead, with one rule:

    two numbers are equal when they are equal after rounding each to 6 decimal places
    (half to even), computed exactly in decimal arithmetic.

So ``1.0000001 == 1.0000002``, ``2 == 2.0000001``, ``2 == 2.0``, ``1,000 == 1000``; but
``1234567 != 1234568`` (integers stay exact) and ``0.000001 != 0.000002``. Expressions
(``\\frac{1}{2}``, ``\\sqrt{2}``, ``50\\%``) go to math-verify, whose rule for a decimal against
an expression is the same 6-place rounding.

>>> numbers_equal("2", "2.0000001"), numbers_equal("1234567", "1234568"), numbers_equal("x", "1")
(True, False, None)
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_EVEN, Context, Decimal, InvalidOperation

DECIMAL_PLACES = 6
MAX_NUMBER_CHARS = 1000
"""Longer strings are left to the judge (which refuses them as over-long answers)."""

_PLAIN_NUMBER_RE = re.compile(r"[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d*)?|[-+]?\.\d+")
_QUANTUM = Decimal(1).scaleb(-DECIMAL_PLACES)


def plain_number(text: str) -> Decimal | None:
    """``text`` as an exact decimal when it is a plain number (sign, digits, thousands commas,
    decimal point); None otherwise. Surrounding white space and ``$`` are ignored."""
    text = text.strip().strip("$").strip()
    if len(text) > MAX_NUMBER_CHARS or not _PLAIN_NUMBER_RE.fullmatch(text):
        return None
    try:
        return Decimal(text.replace(",", ""))
    except InvalidOperation:  # pragma: no cover - the pattern admits only valid literals
        return None


def numbers_equal(gold: str, pred: str) -> bool | None:
    """Whether two plain numbers agree to :data:`DECIMAL_PLACES` places; None unless both are."""
    a, b = plain_number(gold), plain_number(pred)
    if a is None or b is None:
        return None
    context = Context(prec=MAX_NUMBER_CHARS + DECIMAL_PLACES + 2, rounding=ROUND_HALF_EVEN)
    return a.quantize(_QUANTUM, context=context) == b.quantize(_QUANTUM, context=context)

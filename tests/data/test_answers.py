"""The answer readers shared by data loaders, benchmarks, the outcome reward and evaluation."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from srlkit.data.answers import gsm8k_answer, last_boxed, remove_gsm8k_answer_lines


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("plain\n#### 72", "72"),
        ("first #### 1\nthen\n#### 2\n", "2"),
        ("#### 1,234,567", "1234567"),
        ("#### -3,000.5", "-3000.5"),
        ("#### 7.", "7"),
        ("#### 1, 2", "1, 2"),
        ("####   \n", None),
        ("no mark", None),
        ("#### \\frac{1}{2}", "\\frac{1}{2}"),
    ],
    ids=[
        "simple",
        "last_mark_wins",
        "thousands",
        "negative_decimal",
        "full_stop",
        "list_kept",
        "empty",
        "absent",
        "latex",
    ],
)
def test_gsm8k_answer(text, expected):
    assert gsm8k_answer(text) == expected


def test_gsm8k_answer_lines_removed_but_nothing_else():
    text = "Step one: 3 + 4 = 7\n  #### 7\nafter"
    assert remove_gsm8k_answer_lines(text) == "Step one: 3 + 4 = 7\nafter"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (r"\boxed{5}", "5"),
        (r"\boxed{\frac{1}{2}} then \boxed{3", r"\frac{1}{2}"),
        (r"\fbox{x^{2}}", "x^{2}"),
        (r"\boxed {7}", "7"),
        (r"\boxed 9 end", "9"),
        (r"\boxed{}", None),
    ],
)
def test_last_boxed(text, expected):
    assert last_boxed(text) == expected


def test_readers_are_linear_on_hostile_text():
    """Many marks and boxes: one pass each, so a megabyte takes milliseconds, not seconds."""
    hostile = "#### " * 200_000 + "\\boxed{" * 50_000
    start = time.perf_counter()
    gsm8k_answer(hostile)
    last_boxed(hostile)
    assert time.perf_counter() - start < 0.5


def test_importing_data_loads_no_other_srlkit_package():
    """``srlkit.data`` is the leaf of the package graph: rewards, training and evaluation import
    it, never the reverse (so reading data never loads the judge pool or torch). It uses only
    the file utilities beside it (``srlkit.io``, ``srlkit.publish``)."""
    code = (
        "import sys, pkgutil, importlib, srlkit.data\n"
        "for m in pkgutil.walk_packages(srlkit.data.__path__, 'srlkit.data.'):\n"
        "    importlib.import_module(m.name)\n"
        "bad = sorted(n for n in sys.modules if n.startswith('srlkit.') and not "
        "(n.startswith('srlkit.data') or n in ('srlkit.io', 'srlkit.publish')))\n"
        "print(','.join(bad))\n"
        "print('torch' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split("\n")
    assert out[0] == "", f"srlkit.data imported {out[0]}"
    assert out[1] == "False", "srlkit.data imported torch"

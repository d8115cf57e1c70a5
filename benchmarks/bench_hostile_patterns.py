"""Benchmark: text patterns on hostile input, the backtracking patterns against their replacements.

Each case runs, in the same process, the regular expression srlkit used before (kept here
verbatim) and the code that replaced it, on an input shaped like what made the old one
quadratic: a white-space run inside an unclosed ``<tool_call>``, a markdown line ``# # # ...
x``, a GSM8K solution after a run of blank lines, and a SWE-Play task banner made of dashes.
The two are checked to give the same result on ordinary text first (the replacement is only
worth measuring if it is a replacement). Sizes are those the reliability issue reported.

    python benchmarks/bench_hostile_patterns.py            # about 30 s, most of it the old patterns
    python benchmarks/bench_hostile_patterns.py --scale 0.5
    python benchmarks/bench_hostile_patterns.py --only report
"""

from __future__ import annotations

import argparse
import difflib
import re
import time
from collections.abc import Callable

from srlkit.data.actions import _tool_call_body
from srlkit.data.answers import gsm8k_answer
from srlkit.data.loaders.agent_chat import _SWE_PLAY_TASK_RE
from srlkit.data.segment import _MARKDOWN_RE
from srlkit.rewards.similarity import matching_blocks
from srlkit.rewards.srl import DEFAULT_MAX_STEPS
from srlkit.teacher.verify import math_items

OLD_TOOL_CALL = re.compile(r"<tool_call>\s*(.*?)\s*(?:</tool_call>|$)", re.DOTALL)
OLD_MARKDOWN = re.compile(r"^[ \t]{0,3}#{1,6}(?:[ \t]+(.*?))?[ \t#]*$", re.MULTILINE)
OLD_GSM8K = re.compile(r"^\s*####\s*(.+?)\s*$", re.MULTILINE)
OLD_SWE_PLAY = re.compile(r"-{3,}\s*NEW TASK DESCRIPTION\s*-{3,}\s*\n", re.IGNORECASE)


OLD_MATH = re.compile(
    r"\$\$(.+?)\$\$|\\\[(.+?)\\\]|\\\((.+?)\\\)|(?<![\\$])\$(?!\$)(.+?)(?<!\\)\$", re.DOTALL
)
_NUMBER = re.compile(r"\d+(?:\.\d+)?")


def _old_math_items(text: str) -> tuple[list[str], list[str]]:
    formulas = [next(g for g in m.groups() if g is not None) for m in OLD_MATH.finditer(text)]
    return formulas, _NUMBER.findall(OLD_MATH.sub(" ", text))


def _old_blocks(text: str) -> list[tuple[int, int, int]]:
    """The report's highlight before: difflib on the pair, with no bound on work."""
    matcher = difflib.SequenceMatcher(None, text, text[::-1], autojunk=False)
    return [tuple(b) for b in matcher.get_matching_blocks() if b[2]]


def _new_blocks(text: str) -> list[tuple[int, int, int]] | None:
    """The highlight now: the reward's compiled matcher under the reward's budget."""
    return matching_blocks(text, text[::-1], False, DEFAULT_MAX_STEPS)


def _old_tool_call(text: str) -> str | None:
    m = OLD_TOOL_CALL.search(text)
    return m.group(1) if m else None


def _titles(rx: re.Pattern[str], strip: bool) -> Callable[[str], list[str]]:
    def run(text: str) -> list[str]:
        return [
            (m.group(1) or "").rstrip(" \t#") if strip else (m.group(1) or "")
            for m in rx.finditer(text)
        ]

    return run


def _old_gsm8k(text: str) -> str | None:
    finals = [f.strip() for f in OLD_GSM8K.findall(text) if f.strip()]
    return finals[-1] if finals else None


CASES = [
    ("tool_call with a white-space run", _old_tool_call, _tool_call_body,
     '<tool_call> {"name": "a"} </tool_call>', lambda n: "<tool_call>x" + " " * n + "y", 15_000),
    ("markdown heading '# # # ... x'", _titles(OLD_MARKDOWN, False), _titles(_MARKDOWN_RE, True),
     "## Title ##\nbody\n# Two", lambda n: "# " * (n // 2) + "x", 48_000),
    ("GSM8K '####' after blank lines", _old_gsm8k, gsm8k_answer,
     "a\n#### 72\n", lambda n: "\n" * n + "x", 48_000),
    ("SWE-Play banner of dashes", lambda t: OLD_SWE_PLAY.split(t, maxsplit=1),
     lambda t: _SWE_PLAY_TASK_RE.split(t, maxsplit=1),
     "ex\n--- NEW TASK DESCRIPTION ---\nFix it.\n", lambda n: "-" * n, 48_000),
    ("rewrite formulas: unclosed '\\['", _old_math_items, math_items,
     "1. **A** $x+1$ and \\[y^2\\] then 12", lambda n: "\\[ a " * (n // 5), 60_000),
    ("report highlight, under budget", _old_blocks, _new_blocks,
     "x = 2 + 3; so y = 5", lambda n: "ab" * (n // 2), 8_000),
    ("report highlight, over budget", _old_blocks, _new_blocks,
     "x = 2 + 3; so y = 5", lambda n: "ab" * (n // 2), 16_000),
]  # fmt: skip


def _seconds(fn: Callable[[str], object], text: str) -> float:
    start = time.perf_counter()
    fn(text)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every input size")
    parser.add_argument("--only", default="", help="run only the cases whose name holds this")
    args = parser.parse_args()
    print(f"{'case':<36} {'chars':>7} {'old s':>9} {'new s':>9} {'ratio':>9}")
    for name, old, new, ordinary, make, size in CASES:
        if args.only not in name:
            continue
        assert old(ordinary) == new(ordinary), f"{name}: results differ on ordinary text"
        n = int(size * args.scale)
        text = make(n)
        t_old, t_new = _seconds(old, text), _seconds(new, text)
        print(f"{name:<36} {len(text):>7} {t_old:>9.4f} {t_new:>9.4f} {t_old / t_new:>8.0f}x")


if __name__ == "__main__":
    main()

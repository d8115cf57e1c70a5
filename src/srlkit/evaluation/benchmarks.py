"""Math benchmarks by name: where each one lives, and how its gold answer is read.

Why a registry of small specs rather than one loader per benchmark: the six benchmarks differ
only in field names, in where the gold answer sits (an ``answer`` column, the last ``\\boxed{}``
of a worked solution, the number after GSM8K's ``####``), and in their default number of
samples. A :class:`BenchmarkSpec` states exactly that, for the local copy (``--data-dir``) and
for the public Hugging Face dataset a user online would load. Any other JSONL file with a
problem and an answer field works through :func:`custom_spec`.

Rows whose gold answer cannot be found are dropped with a reason, never silently, so the
denominator of every accuracy is known (see :class:`LoadedBenchmark`).
"""

from __future__ import annotations

import logging
import os
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from srlkit.data.answers import gsm8k_answer, last_boxed
from srlkit.io import DataError, iter_jsonl

logger = logging.getLogger(__name__)

GOLD_ANSWER = "answer"  # the answer field holds the gold answer itself
GOLD_BOXED = "boxed"  # the gold answer is the last \boxed{...} of the answer field (a solution)
GOLD_GSM8K = "gsm8k"  # the gold answer is the text after the last "####" of the answer field
GOLD_MODES = (GOLD_ANSWER, GOLD_BOXED, GOLD_GSM8K)


@dataclass(frozen=True)
class Source:
    """Where one copy of a benchmark lives and how its rows are read.

    ``path`` is a file relative to ``--data-dir`` (local) or a Hugging Face dataset id (hub).
    ``answer_field`` is read according to ``gold_from`` (one of :data:`GOLD_MODES`).
    ``solution_field`` names the benchmark's own worked reference solution, when it has one:
    the grader check scores it against the gold answer.
    """

    path: str
    problem_field: str = "problem"
    answer_field: str = "answer"
    gold_from: str = GOLD_ANSWER
    solution_field: str | None = None
    id_field: str | None = None
    split: str = "test"
    config: str | None = None


@dataclass(frozen=True)
class BenchmarkSpec:
    """One benchmark: its local copy, its public hub copy, and its default sample count ``k``.

    ``default_k`` is the number of temperature-1.0 samples per problem for avg@k / pass@k;
    0 means greedy only (as the paper reports Minerva). ``repair_latex`` turns on the repair
    of LaTeX escapes that a JSON round trip turned into control characters (AIME25).
    """

    name: str
    local: Source | None
    hub: Source | None
    default_k: int = 0
    repair_latex: bool = False
    description: str = ""


@dataclass
class Problem:
    """One benchmark problem, ready to prompt and to grade."""

    benchmark: str
    id: str
    problem: str
    gold: str
    reference_solution: str | None = None


@dataclass
class LoadedBenchmark:
    """The problems of a benchmark plus the accounting of what was read and dropped."""

    spec: BenchmarkSpec
    source: str
    problems: list[Problem]
    rows_read: int
    dropped: dict[str, int] = field(default_factory=dict)
    repaired: int = 0

    @property
    def name(self) -> str:
        return self.spec.name


BENCHMARKS: dict[str, BenchmarkSpec] = {
    spec.name: spec
    for spec in (
        BenchmarkSpec(
            name="aime24",
            local=Source("aime24/test.jsonl", solution_field="solution", id_field="id"),
            hub=Source(
                "HuggingFaceH4/aime_2024", solution_field="solution", id_field="id", split="train"
            ),
            default_k=32,
            description="AIME 2024 I and II (30 problems, integer answers)",
        ),
        BenchmarkSpec(
            name="aime25",
            local=Source("aime25/test.jsonl", id_field="id"),
            hub=Source("math-ai/aime25", id_field="id"),
            default_k=32,
            repair_latex=True,
            description="AIME 2025 I and II (30 problems, integer answers)",
        ),
        BenchmarkSpec(
            name="amc23",
            local=Source("amc23/test.jsonl", id_field="id"),
            hub=Source("math-ai/amc23", problem_field="question"),
            default_k=32,
            description="AMC 2023 12A/12B (40 problems, numeric answers)",
        ),
        BenchmarkSpec(
            name="minerva",
            local=Source(
                "minerva_math/test.jsonl",
                answer_field="solution",
                gold_from=GOLD_BOXED,
                solution_field="solution",
                id_field="idx",
            ),
            hub=Source("math-ai/minervamath", problem_field="question"),
            description="Minerva Math, OCW courses (272 problems; gold = last \\boxed{} of the solution)",
        ),
        BenchmarkSpec(
            name="math500",
            local=Source("math500/test.jsonl", solution_field="solution", id_field="unique_id"),
            hub=Source("HuggingFaceH4/MATH-500", solution_field="solution", id_field="unique_id"),
            description="MATH-500, the PRM800K test split of MATH (500 problems)",
        ),
        BenchmarkSpec(
            name="gsm8k",
            local=Source(
                "gsm8k/test.jsonl",
                problem_field="question",
                gold_from=GOLD_GSM8K,
                solution_field="answer",
            ),
            hub=Source(
                "openai/gsm8k",
                problem_field="question",
                gold_from=GOLD_GSM8K,
                solution_field="answer",
                config="main",
            ),
            description="GSM8K test (1319 problems; gold = the number after ####)",
        ),
    )
}

# The paper's four math benchmarks (its 7-number table); ``srl eval`` runs these by default.
PAPER_BENCHMARKS: tuple[str, ...] = ("amc23", "aime24", "aime25", "minerva")

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


def custom_spec(
    path: str | os.PathLike[str],
    name: str | None = None,
    problem_field: str = "problem",
    answer_field: str = "answer",
    gold_from: str = GOLD_ANSWER,
    default_k: int = 0,
) -> BenchmarkSpec:
    """A benchmark made from any JSONL file with a problem and an answer field."""
    if gold_from not in GOLD_MODES:
        raise ValueError(f"gold_from must be one of {GOLD_MODES}, got {gold_from!r}")
    p = Path(path)
    name = name or (p.parent.name if p.stem in {"test", "train", "validation"} else p.stem)
    source = Source(
        str(p), problem_field=problem_field, answer_field=answer_field, gold_from=gold_from
    )
    return BenchmarkSpec(name=name, local=source, hub=None, default_k=default_k, repair_latex=True)


def resolve_spec(token: str, **custom: Any) -> BenchmarkSpec:
    """A benchmark spec from a name (``aime24``), a file (``my.jsonl``) or ``NAME=FILE``.

    ``custom`` (field names, ``gold_from``) applies to files only.
    """
    if "=" in token:
        name, path = token.split("=", 1)
        return custom_spec(path, name=name, **custom)
    if token in BENCHMARKS:
        return BENCHMARKS[token]
    if token.endswith((".jsonl", ".json")) or os.sep in token:
        return custom_spec(token, **custom)
    raise ValueError(
        f"unknown benchmark {token!r}: expected one of {sorted(BENCHMARKS)} or a .jsonl file"
    )


def _rows_from_hub(source: Source) -> list[tuple[int, dict[str, Any]]]:
    from datasets import load_dataset

    try:
        ds = load_dataset(source.path, source.config, split=source.split)
    except (OSError, ValueError) as exc:  # offline, unknown id, wrong split or config
        raise DataError(
            f"hf://{source.path}",
            f"could not load the hub dataset ({exc}); use --data-dir for local copies",
        ) from exc
    return [(i + 1, dict(row)) for i, row in enumerate(ds)]


def _rows_from_file(path: Path) -> list[tuple[int, dict[str, Any]]]:
    if not path.is_file():
        raise DataError(path, "benchmark file not found (is --data-dir right?)")
    return list(iter_jsonl(path))


def load_benchmark(
    spec: BenchmarkSpec, data_dir: str | os.PathLike[str] | None = None
) -> LoadedBenchmark:
    """Read a benchmark's problems: from ``data_dir`` when given, else from the hub.

    A custom spec (a file) is read from its own path, relative to ``data_dir`` when relative
    and not found as is.
    """
    if spec.local is not None and (data_dir is not None or spec.hub is None):
        source = spec.local
        path = Path(source.path)
        if (
            not path.is_absolute()
            and data_dir is not None
            and not (spec.hub is None and path.is_file())
        ):
            path = Path(data_dir) / path
        rows, where = _rows_from_file(path), str(path)
    elif spec.hub is not None:
        source = spec.hub
        rows, where = _rows_from_hub(source), f"hf://{source.path}"
    else:
        raise ValueError(f"benchmark {spec.name!r} has no source")
    return _build_problems(spec, source, rows, where)


def _build_problems(
    spec: BenchmarkSpec, source: Source, rows: list[tuple[int, dict[str, Any]]], where: str
) -> LoadedBenchmark:
    problems: list[Problem] = []
    dropped: Counter[str] = Counter()
    repaired = 0
    if rows and source.problem_field not in rows[0][1]:
        raise DataError(
            where, f"no field {source.problem_field!r} (fields: {sorted(rows[0][1])})", rows[0][0]
        )
    for line, row in rows:
        text = row.get(source.problem_field)
        if not isinstance(text, str) or not text.strip():
            dropped[f"missing or empty {source.problem_field!r}"] += 1
            logger.warning(
                "%s:%d: dropped: no problem text in %r", where, line, source.problem_field
            )
            continue
        gold = read_gold(row.get(source.answer_field), source.gold_from)
        if gold is None:
            dropped[f"no gold answer in {source.answer_field!r} ({source.gold_from})"] += 1
            logger.warning("%s:%d: dropped: no gold answer in %r", where, line, source.answer_field)
            continue
        if spec.repair_latex:
            text, n = repair_lost_escapes(text)
            repaired += n > 0
        solution = row.get(source.solution_field) if source.solution_field else None
        pid = row.get(source.id_field) if source.id_field else None
        problems.append(
            Problem(
                benchmark=spec.name,
                id=str(pid if pid is not None else line - 1),
                problem=text,
                gold=gold,
                reference_solution=str(solution) if solution is not None else None,
            )
        )
    ids = Counter(p.id for p in problems)
    if len(ids) != len(problems):  # ids key the resume file; they must be unique
        for i, p in enumerate(problems):
            p.id = f"{p.id}#{i}" if ids[p.id] > 1 else p.id
    if repaired:
        logger.info("%s: repaired lost LaTeX escapes in %d problems", spec.name, repaired)
    return LoadedBenchmark(spec, where, problems, len(rows), dict(dropped), repaired)

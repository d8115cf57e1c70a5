"""Read the problems a teacher is asked about, with their gold and (for rewrite) the original.

The files are read with srlkit's one raw-record reader (JSONL, JSON arrays, misnamed files),
and fields are found with the same defaults as ``srl data build``'s math loaders, so a file
that builds also feeds a teacher.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from srlkit.data.files import RawRecord
from srlkit.data.hub import expand_sources, iter_source_records
from srlkit.data.loaders.base import record_id
from srlkit.data.schema import ANSWER_FIELDS, PROBLEM_FIELDS, SOLUTION_FIELDS
from srlkit.io import DataError

logger = logging.getLogger(__name__)


@dataclass
class Problem:
    """One input record: its id (unique in the run), problem text, original solution, gold field."""

    id: str
    problem: str
    solution: str
    gold_value: Any
    source_file: str
    source_record: int


def _text(record: dict[str, Any], names: tuple[str, ...]) -> tuple[str | None, str]:
    for name in names:
        value = record.get(name)
        if isinstance(value, str) and value.strip():
            return name, value
    return None, ""


def _gold_value(record: dict[str, Any], answer_field: str | None, skip: str | None) -> Any:
    """The answer field (not the field the solution came from), else the reference solution."""
    for name in (answer_field,) if answer_field else ANSWER_FIELDS:
        value = record.get(name)
        if name != skip and value is not None and str(value).strip():
            return value
    if answer_field:
        return None
    _, reference = _text(record, ("solution",) + SOLUTION_FIELDS)
    return reference or None


def read_problems(
    inputs: list[str],
    problem_field: str | None = None,
    answer_field: str | None = None,
    solution_field: str | None = None,
    need_solution: bool = False,
    skip_invalid: bool = False,
    limit: int | None = None,
    exclude: str | Path | None = None,
) -> tuple[list[Problem], Counter]:
    """All problems of ``inputs`` (files, folders or hub ids), and the records skipped by reason.

    A record without a problem (or, for rewrite, without a solution) is a :class:`DataError`
    naming the file and line, unless ``skip_invalid`` (then it is counted). Files under
    ``exclude`` (the run's output folder, when it lies inside an input folder) are not read:
    a rerun must not take its own outputs for new problems.
    """
    problems: list[Problem] = []
    skipped: Counter = Counter()
    seen: Counter = Counter()
    problem_names = (problem_field,) if problem_field else PROBLEM_FIELDS
    solution_names = (solution_field,) if solution_field else SOLUTION_FIELDS
    for source in _without(expand_sources(inputs), exclude):
        errors: list[DataError] = []
        for raw in iter_source_records(source, skip_invalid=skip_invalid, errors=errors):
            if limit is not None and len(problems) >= limit:
                return problems, skipped
            problem = _problem(raw, problem_names, solution_names, answer_field, need_solution)
            if isinstance(problem, str):
                if not skip_invalid:
                    raise DataError(raw.path, f"{raw.prefix}{problem}", raw.line)
                skipped[problem.split(" (")[0]] += 1
                continue
            seen[problem.id] += 1
            if seen[problem.id] > 1:  # ids key the cache: make repeats distinct, stably
                problem.id = f"{problem.id}#{seen[problem.id]}"
            problems.append(problem)
        skipped["invalid record"] += len(errors)
    if not skipped["invalid record"]:
        del skipped["invalid record"]
    return problems, skipped


def _without(sources: list[Any], folder: str | Path | None) -> list[Any]:
    """``sources`` less the local files under ``folder`` (logged when any is left out)."""
    if folder is None:
        return sources
    root = Path(folder).resolve()
    kept = [s for s in sources if not (isinstance(s, Path) and s.resolve().is_relative_to(root))]
    if len(kept) < len(sources):
        logger.info(
            "not reading %d file(s) of the output folder %s", len(sources) - len(kept), root
        )
    return kept


def _problem(
    raw: RawRecord,
    problem_names: tuple[str, ...],
    solution_names: tuple[str, ...],
    answer_field: str | None,
    need_solution: bool,
) -> Problem | str:
    rec = raw.record
    _, problem = _text(rec, problem_names)
    if not problem:
        return f"no problem text (looked for {'/'.join(problem_names)})"
    solution_name, solution = _text(rec, solution_names)
    if need_solution and not solution:
        return f"no solution to rewrite (looked for {'/'.join(solution_names)})"
    gold = _gold_value(rec, answer_field, solution_name if need_solution else None)
    return Problem(record_id(raw), problem, solution, gold, str(raw.path), raw.index)

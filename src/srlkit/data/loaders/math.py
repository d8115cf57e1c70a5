"""Math loaders: a problem plus a written solution (or a list of steps) becomes a trajectory.

Formats (names for ``--format``):

- ``math``: any record with a problem field and a solution field (names configurable).
- ``s1k``: s1K / s1K-1.1 records; prefers ``deepseek_attempt`` (the paper's expert) over
  ``attempt`` and ``solution``.
- ``boxed``: MATH-500 / Minerva style, whose solutions end in ``\\boxed{}``; the final answer is
  the ``answer`` field when present, else the last ``\\boxed{}`` of the solution.
- ``gsm8k``: one calculation per line, ``<<48/2=24>>`` calculator annotations removed (they are
  tool calls of the original data, not reasoning), final answer after ``#### ``; Socratic
  lines ``sub-question ** answer`` keep the sub-question as the step title.
- ``steps``: the steps already a list (strings, or objects with ``title``/``body``).
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

from srlkit.data.answers import gsm8k_answer, last_boxed, remove_gsm8k_answer_lines
from srlkit.data.files import RawRecord
from srlkit.data.loaders.base import (
    Loader,
    LoaderOptions,
    RecordDropped,
    first_text_field,
    record_id,
    record_metadata,
    require_list,
)
from srlkit.data.schema import (
    ANSWER_FIELDS,
    KIND_MATH,
    PROBLEM_FIELDS,
    SOLUTION_FIELDS,
    THINKING_FIELDS,
    Step,
    Trajectory,
)
from srlkit.data.segment import segment_solution
from srlkit.io import DataError

S1K_MARKERS = (
    "deepseek_attempt",
    "gemini_attempt",
    "deepseek_thinking_trajectory",
    "thinking_trajectories",
    "cot_type",
    "thinking",
)

SHORT_ANSWER_CHARS = 64

_CALC_RE = re.compile(r"<<[^<>]*>>")
_SOCRATIC_SEP = " ** "


def thinking_trace(record: dict[str, Any]) -> str:
    """The record's reasoning trace (first of :data:`THINKING_FIELDS`), or "".

    s1K stores ``thinking_trajectories`` as a one-element list; a longer list is joined.
    """
    for name in THINKING_FIELDS:
        value = record.get(name)
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            value = "\n\n".join(value)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return ""


def _has_any(record: dict[str, Any], names: tuple[str, ...]) -> bool:
    return any(isinstance(record.get(n), str) for n in names)


def answer_only_hint(record: dict[str, Any]) -> str | None:
    """Why a problem with only a final answer (AIME, AMC) is not a trajectory, and what to do.

    >>> answer_only_hint({"problem": "p", "answer": 70}) is not None
    True
    """
    worked = tuple(f for f in SOLUTION_FIELDS if f != "answer")
    if not _has_any(record, PROBLEM_FIELDS) or _has_any(record, worked):
        return None
    answer = record.get("answer")
    if answer is None or (isinstance(answer, str) and "\n" in answer.strip()):
        return None
    return (
        "these records hold a problem and a final answer but no worked solution, so there are no "
        "expert steps to learn from: use them for evaluation (srl eval) or RLVR (srl train rlvr), "
        "or have a teacher write the steps (srl data generate, docs/teacher.md)"
    )


class MathLoader(Loader):
    """Problem + solution text, segmented by :func:`srlkit.data.segment.segment_solution`."""

    name = "math"
    kind = KIND_MATH
    description = "problem/question + solution text (field names configurable)"
    looks_for = (
        f"a problem field ({'/'.join(PROBLEM_FIELDS)}) and a worked solution as text "
        f"({'/'.join(SOLUTION_FIELDS)})"
    )
    solution_fields: ClassVar[tuple[str, ...]] = SOLUTION_FIELDS

    def detect(self, record: dict[str, Any]) -> bool:
        return _has_any(record, PROBLEM_FIELDS) and _has_any(record, self.solution_fields)

    def _fields(self, options: LoaderOptions) -> tuple[tuple[str, ...], tuple[str, ...]]:
        problems = (options.problem_field,) if options.problem_field else PROBLEM_FIELDS
        solutions = (options.solution_field,) if options.solution_field else self.solution_fields
        return problems, solutions

    def load(self, raw: RawRecord, options: LoaderOptions) -> Trajectory:
        problems, solutions = self._fields(options)
        _, problem = first_text_field(raw, problems, "problem")
        solution_name, solution = first_text_field(raw, solutions, "solution")
        seg = segment_solution(solution, options.segment, options.step_regex)
        answer = self.final_answer(raw, solution_name, solution, options)
        trajectory = self._trajectory(
            raw,
            problem,
            seg.steps,
            answer,
            options,
            segmentation=seg.method,
            solution_field=solution_name,
        )
        trajectory.thinking = thinking_trace(raw.record)
        return trajectory

    def final_answer(
        self, raw: RawRecord, solution_name: str, solution: str, options: LoaderOptions
    ) -> str | None:
        """The answer field when it is a separate field, else the solution's last ``\\boxed{}``.

        s1K-1.1 keeps the reference solution in ``solution`` next to the expert's
        ``deepseek_attempt``: when ``solution`` is not the trajectory, its boxed answer (or its
        text, when short) is the gold answer.
        """
        names = (options.answer_field,) if options.answer_field else ANSWER_FIELDS
        for name in names:
            value = raw.record.get(name)
            if (
                name != solution_name
                and isinstance(value, (str, int, float))
                and not isinstance(value, bool)
            ):
                text = str(value).strip()
                if text:
                    return last_boxed(text) or text
        reference = raw.record.get("solution")
        if solution_name != "solution" and isinstance(reference, str) and reference.strip():
            boxed = last_boxed(reference)
            if boxed or len(reference.strip()) <= SHORT_ANSWER_CHARS:
                return boxed or reference.strip()
        return last_boxed(solution)

    def _trajectory(
        self,
        raw: RawRecord,
        problem: str,
        steps: list[Step],
        answer: str | None,
        options: LoaderOptions,
        **meta: Any,
    ) -> Trajectory:
        if len(steps) < options.min_steps:
            raise RecordDropped(
                "too_few_steps", f"{len(steps)} step(s), need at least {options.min_steps}"
            )
        return Trajectory(
            id=record_id(raw),
            task=problem.strip(),
            steps=steps,
            kind=KIND_MATH,
            final_answer=answer,
            source_format=self.name,
            metadata=record_metadata(raw, **meta),
        )


class S1KLoader(MathLoader):
    name = "s1k"
    description = "s1K / s1K-1.1 records (deepseek_attempt preferred, as in the paper)"
    looks_for = f"problem plus one of {', '.join(S1K_MARKERS)}"

    def detect(self, record: dict[str, Any]) -> bool:
        return (
            isinstance(record.get("problem"), str)
            and any(m in record for m in S1K_MARKERS)
            and _has_any(record, self.solution_fields)
        )


class BoxedLoader(MathLoader):
    name = "boxed"
    description = "MATH-500 / Minerva: solution ending in \\boxed{} (final answer = last \\boxed{})"
    looks_for = "problem plus a solution containing \\boxed{}"
    solution_fields = ("solution", "deepseek_attempt", "attempt")

    def detect(self, record: dict[str, Any]) -> bool:
        solution = record.get("solution")
        return (
            _has_any(record, PROBLEM_FIELDS) and isinstance(solution, str) and "\\boxed" in solution
        )


class GSM8KLoader(MathLoader):
    name = "gsm8k"
    description = "GSM8K: one step per line, <<calc>> annotations removed, final answer after ####"
    looks_for = "question + answer containing '#### '"

    def detect(self, record: dict[str, Any]) -> bool:
        answer = record.get("answer")
        return (
            isinstance(record.get("question"), str) and isinstance(answer, str) and "####" in answer
        )

    def load(self, raw: RawRecord, options: LoaderOptions) -> Trajectory:
        problems = (
            (options.problem_field,) if options.problem_field else ("question",) + PROBLEM_FIELDS
        )
        solutions = (options.solution_field,) if options.solution_field else ("answer", "solution")
        _, question = first_text_field(raw, problems, "problem")
        _, solution = first_text_field(raw, solutions, "solution")
        body = remove_gsm8k_answer_lines(_CALC_RE.sub("", solution))
        method = options.segment if options.segment != "auto" else "lines"
        seg = segment_solution(body, method, options.step_regex)
        steps = [_socratic(step) for step in seg.steps]
        socratic = any(step.title for step in steps)
        answer = gsm8k_answer(solution)
        return self._trajectory(
            raw, question, steps, answer, options, segmentation=seg.method, socratic=socratic
        )


def _socratic(step: Step) -> Step:
    """``How many ...? ** She sells 9 eggs.`` -> title = the sub-question, body = the answer."""
    if step.title or _SOCRATIC_SEP not in step.body:
        return step
    title, body = step.body.split(_SOCRATIC_SEP, 1)
    return Step(title=title.strip(), body=body.strip())


class StepsListLoader(MathLoader):
    name = "steps"
    description = "steps already a list: {problem, steps: [str | {title, body}]}"
    looks_for = "a problem field and a 'steps' list"

    def detect(self, record: dict[str, Any]) -> bool:
        return _has_any(record, PROBLEM_FIELDS) and isinstance(record.get("steps"), list)

    def load(self, raw: RawRecord, options: LoaderOptions) -> Trajectory:
        problems = (options.problem_field,) if options.problem_field else PROBLEM_FIELDS
        _, problem = first_text_field(raw, problems, "problem")
        _, items = require_list(raw, ("steps",), "steps")
        steps = [_step_from_item(raw, i, item) for i, item in enumerate(items, start=1)]
        steps = [s for s in steps if s.title or s.body]
        answer = self.final_answer(raw, "steps", "\n".join(s.body for s in steps), options)
        return self._trajectory(raw, problem, steps, answer, options, segmentation="given")


def _step_from_item(raw: RawRecord, number: int, item: Any) -> Step:
    if isinstance(item, str):
        return Step(body=item.strip())
    if isinstance(item, dict) and any(
        isinstance(item.get(k), str) for k in ("body", "text", "content", "title")
    ):
        body = item.get("body", item.get("text", item.get("content", "")))
        return Step(title=str(item.get("title") or "").strip(), body=str(body or "").strip())
    raise DataError(
        raw.path,
        f"{raw.prefix}step {number} should be text or an object with title/body, found {type(item).__name__}",
        raw.line,
    )

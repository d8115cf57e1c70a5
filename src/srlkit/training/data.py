"""Training datasets for each method, built from srlkit's data files with nothing lost silently.

- SRL reads step instances (``srl data build``): columns ``prompt`` (chat messages), ``target``,
  ``kind``; the step reward reads ``target`` and ``kind`` as keyword arguments.
- RLVR reads problems with a gold ``answer`` (GSM8K, MATH-500, ...) and builds a chat prompt
  asking for step-by-step reasoning and a final ``\\boxed{}``.
- SFT reads trajectories (or step instances, regrouped per trajectory) and writes TRL's
  prompt-completion or multi-turn ``messages`` form.

Every loader returns the kept rows and a :class:`DataSummary` (records in = kept + dropped,
with a reason per drop) that the runner writes to ``data_summary.json``.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from srlkit.data.schema import (
    COL_ANSWER,
    COL_ID,
    COL_KIND,
    COL_PROMPT,
    COL_STEP_INDEX,
    COL_TARGET,
    COL_TRAJECTORY_ID,
    KIND_AGENT,
    KIND_MATH,
    Trajectory,
)
from srlkit.io import DataError, iter_jsonl

logger = logging.getLogger(__name__)

PROBLEM_FIELDS = ("prompt", "problem", "question")


@dataclass
class DataSummary:
    """Counts for one input file: ``records_in == kept + sum(dropped.values())``."""

    path: str
    records_in: int = 0
    kept: int = 0
    dropped: Counter = field(default_factory=Counter)

    def drop(self, reason: str, n: int = 1) -> None:
        self.dropped[reason] += n
        self.kept -= n

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "records_in": self.records_in,
            "kept": self.kept,
            "dropped": dict(self.dropped),
        }


def iter_records(path: str | Path, summary: DataSummary) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield ``(record_number, record)`` from JSONL or a JSON array; bad lines are counted, not fatal."""
    path = Path(path)
    if not path.is_file():
        raise DataError(path, "data file not found")
    if path.suffix == ".json":
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise DataError(path, f"invalid JSON: {exc.msg}", exc.lineno) from None
        if not isinstance(data, list):
            raise DataError(path, f"expected a JSON array of records, found {type(data).__name__}")
        for i, rec in enumerate(data, start=1):
            summary.records_in += 1
            if isinstance(rec, dict):
                summary.kept += 1
                yield i, rec
            else:
                summary.dropped[f"record is a {type(rec).__name__}, not an object"] += 1
        return
    errors: list[DataError] = []
    for line_no, rec in iter_jsonl(path, skip_invalid=True, errors=errors):
        summary.records_in += 1
        summary.kept += 1
        yield line_no, rec
    summary.records_in += len(errors)
    for err in errors:
        summary.dropped[f"invalid line: {err.detail}"] += 1


def _valid_messages(value: Any) -> bool:
    return (
        isinstance(value, list)
        and len(value) > 0
        and all(
            isinstance(m, dict)
            and isinstance(m.get("role"), str)
            and isinstance(m.get("content"), str)
            for m in value
        )
    )


def load_srl_instances(path: str | Path) -> tuple[list[dict[str, Any]], DataSummary]:
    """Step instances -> rows with ``prompt``, ``target``, ``kind``, ``id`` (other columns dropped).

    Only the columns the trainer and the step reward read are kept, so heterogeneous
    ``metadata`` dicts never break Arrow's schema inference.
    """
    summary = DataSummary(str(path))
    rows: list[dict[str, Any]] = []
    for rec_no, rec in iter_records(path, summary):
        if not _valid_messages(rec.get(COL_PROMPT)):
            summary.drop(f"'{COL_PROMPT}' is not a non-empty list of {{role, content}} messages")
        elif not isinstance(rec.get(COL_TARGET), str) or not rec[COL_TARGET].strip():
            summary.drop(f"'{COL_TARGET}' missing or empty")
        elif rec.get(COL_KIND, KIND_MATH) not in (KIND_MATH, KIND_AGENT):
            summary.drop(f"'{COL_KIND}' not one of {KIND_MATH}, {KIND_AGENT}")
        else:
            rows.append(
                {
                    COL_PROMPT: rec[COL_PROMPT],
                    COL_TARGET: rec[COL_TARGET],
                    COL_KIND: rec.get(COL_KIND, KIND_MATH),
                    COL_ID: str(rec.get(COL_ID, f"{Path(path).name}:{rec_no}")),
                }
            )
    return rows, summary


def load_rlvr_problems(
    path: str | Path,
    template: str,
    problem_field: str | None = None,
    answer_field: str = COL_ANSWER,
) -> tuple[list[dict[str, Any]], DataSummary]:
    """Problems with a gold answer -> rows with chat ``prompt`` and ``answer`` (text).

    A ``prompt`` column that already holds chat messages is used as is; a plain-text problem
    is wrapped in ``template`` (``{problem}`` is replaced).
    """
    if "{problem}" not in template:
        raise DataError(None, "rlvr_prompt_template must contain the placeholder {problem}")
    summary = DataSummary(str(path))
    rows: list[dict[str, Any]] = []
    for _, rec in iter_records(path, summary):
        key = problem_field or next((k for k in PROBLEM_FIELDS if rec.get(k)), None)
        problem = rec.get(key) if key else None
        answer = rec.get(answer_field)
        if answer is None or (isinstance(answer, str) and not answer.strip()):
            summary.drop(f"'{answer_field}' missing or empty")
        elif _valid_messages(problem):
            rows.append({COL_PROMPT: problem, COL_ANSWER: str(answer)})
        elif isinstance(problem, str) and problem.strip():
            content = template.replace("{problem}", problem.strip())
            rows.append(
                {COL_PROMPT: [{"role": "user", "content": content}], COL_ANSWER: str(answer)}
            )
        else:
            wanted = problem_field or " / ".join(PROBLEM_FIELDS)
            summary.drop(f"no problem text in '{wanted}'")
    return rows, summary


def load_sft_examples(
    path: str | Path, mode: str = "full"
) -> tuple[list[dict[str, Any]], DataSummary]:
    """Trajectories (records with ``steps``) or step instances -> TRL SFT rows.

    Math: ``{"prompt": [user], "completion": [assistant]}`` so the loss covers the solution only.
    Agents: ``{"messages": [...]}``, expert actions as assistant turns and observations as user
    turns (set TRL's ``assistant_only_loss`` to train on the actions only). Step instances are
    regrouped (see :func:`_rows_from_instances`); ``mode`` then has no effect, as instances hold
    no thinking trace.
    """
    if mode not in ("full", "outline"):
        raise DataError(None, f"sft_mode must be 'full' or 'outline', got {mode!r}")
    summary = DataSummary(str(path))
    records = list(iter_records(path, summary))
    if records and all(COL_TARGET in rec and "steps" not in rec for _, rec in records):
        return _rows_from_instances(records, summary), summary
    trajectories = []
    for _, rec in records:
        try:
            traj = Trajectory.from_dict(rec)
        except (KeyError, TypeError, ValueError) as exc:
            summary.drop(f"not a trajectory ({type(exc).__name__}: {exc})")
            continue
        if not traj.steps:
            summary.drop("trajectory has no steps")
            continue
        trajectories.append(traj)
    rows = [sft_row(t, mode) for t in trajectories]
    return rows, summary


def sft_row(traj: Trajectory, mode: str) -> dict[str, Any]:
    """One SFT example from one trajectory (see :func:`load_sft_examples`)."""
    if traj.kind == KIND_AGENT:
        messages = [{"role": "user", "content": traj.task}]
        for step in traj.steps:
            text = (
                step.action
                if mode == "outline" or not step.thought
                else f"{step.thought}\n\n{step.action}"
            )
            messages.append({"role": "assistant", "content": text})
            if step.observation:
                messages.append({"role": "user", "content": step.observation})
        if messages[-1]["role"] == "user":
            messages.pop()  # a trailing observation has no expert turn after it to learn
        return {"messages": messages}
    solution = "\n".join(step.math_text(i) for i, step in enumerate(traj.steps, start=1))
    thinking = str(traj.metadata.get("thinking") or "").strip()
    if mode == "full" and thinking:
        solution = f"<think>\n{thinking}\n</think>\n\n{solution}"
    return {
        "prompt": [{"role": "user", "content": traj.task}],
        "completion": [{"role": "assistant", "content": solution}],
    }


def _rows_from_instances(
    records: list[tuple[int, dict[str, Any]]], summary: DataSummary
) -> list[dict[str, Any]]:
    """SFT rows from step instances (``srl data build`` output), so SFT and SRL see the same data.

    Math: one example per trajectory, prompt = its step-1 instance's prompt (the task, no earlier
    step), completion = the targets of steps 1..N joined by newlines (targets are already numbered
    ``k. **Title** body``). Trajectories without a complete run of steps 1..k are dropped and
    counted per instance. Agent instances hold only the last rounds of context, so each becomes
    its own prompt -> action example.
    """
    groups: dict[str, list[dict[str, Any]]] = {}
    rows: list[dict[str, Any]] = []
    for _, rec in records:
        if not _valid_messages(rec.get(COL_PROMPT)) or not str(rec.get(COL_TARGET) or "").strip():
            summary.drop("instance without a chat prompt or a target")
        elif rec.get(COL_KIND, KIND_MATH) == KIND_AGENT:
            rows.append(
                {
                    "prompt": rec[COL_PROMPT],
                    "completion": [{"role": "assistant", "content": rec[COL_TARGET]}],
                }
            )
        else:
            groups.setdefault(str(rec.get(COL_TRAJECTORY_ID, rec.get(COL_ID))), []).append(rec)
    for recs in groups.values():
        recs.sort(key=lambda r: int(r.get(COL_STEP_INDEX, 0)))
        if [int(r.get(COL_STEP_INDEX, 0)) for r in recs] != list(range(1, len(recs) + 1)):
            summary.drop(
                "instances of a trajectory without a complete run of steps 1..k", len(recs)
            )
            continue
        solution = "\n".join(r[COL_TARGET].strip() for r in recs)
        rows.append(
            {
                "prompt": recs[0][COL_PROMPT],
                "completion": [{"role": "assistant", "content": solution}],
            }
        )
        summary.drop("merged into its trajectory (one SFT example per trajectory)", len(recs) - 1)
    return rows


def filter_prompt_length(
    rows: list[dict[str, Any]],
    tokenizer: Any,
    max_prompt_length: int | None,
    summary: DataSummary,
    chunk_size: int = 512,
    reason: str | None = None,
) -> list[dict[str, Any]]:
    """Drop rows whose chat-templated prompt exceeds ``max_prompt_length`` tokens (counted).

    Prompts are templated and tokenized in chunks (one batched call each), which keeps the check
    to seconds on the ~100k-instance sets of the paper.
    """
    if max_prompt_length is None:
        return rows
    kept = []
    for start in range(0, len(rows), chunk_size):
        chunk = rows[start : start + chunk_size]
        conversations = [row.get(COL_PROMPT) or row.get("messages") for row in chunk]
        encoded = tokenizer.apply_chat_template(
            conversations, add_generation_prompt=True, tokenize=True
        )
        ids = encoded["input_ids"] if hasattr(encoded, "keys") else encoded
        for row, row_ids in zip(chunk, ids, strict=True):
            if len(row_ids) > max_prompt_length:
                summary.drop(
                    reason or f"prompt longer than max_prompt_length={max_prompt_length} tokens"
                )
            else:
                kept.append(row)
    return kept


def cap_rows(
    rows: list[dict[str, Any]], summary: DataSummary, max_samples: int | None
) -> list[dict[str, Any]]:
    """Keep the first ``max_samples`` rows (counted as dropped beyond it) and log the summary."""
    if max_samples is not None and len(rows) > max_samples:
        summary.drop(f"beyond max_samples={max_samples}", len(rows) - max_samples)
        rows = rows[:max_samples]
    logger.info(
        "%s: %d records in, %d kept, dropped %s",
        summary.path,
        summary.records_in,
        summary.kept,
        dict(summary.dropped) or "none",
    )
    return rows

"""Training datasets for each method, read by the one data reader with nothing lost silently.

- SRL reads step instances (``srl data build``'s folder, a JSONL/parquet file or a hub id;
  :func:`srlkit.data.reader.iter_instances`): columns ``prompt`` (chat messages), ``target``,
  ``kind``, ``continuation``; the step reward reads ``target``, ``kind`` and
  ``continuation`` as keyword arguments. Instances of the ``continuation`` layout end in the
  model's opened answer, which TRL's chat rendering cannot continue (it always appends a
  generation prompt), so :func:`render_text_prompts` renders every prompt to text first.
- RLVR reads problems with a gold ``answer`` (GSM8K, MATH-500, ...) and builds a chat prompt
  asking for step-by-step reasoning and a final ``\\boxed{}``.
- SFT reads trajectories (a build folder's ``train.trajectories.jsonl``, or any file of
  trajectories in the data contract) and writes TRL's prompt-completion or multi-turn
  ``messages`` form; a file already in TRL's conversational prompt-completion form (``prompt``
  and ``completion`` chat messages, e.g. a prompt other than the bare problem) is used as is.

Every loader returns the kept rows and a :class:`ReadSummary` (records in = kept + dropped,
with a reason per drop) that the runner writes to ``data_summary.json``. A build folder gives
its ``train`` split for ``train_file`` and its ``validation`` split for ``eval_file``.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from srlkit.data.reader import (
    ReadSummary,
    iter_instances,
    iter_records,
    iter_trajectories,
)
from srlkit.data.schema import (
    COL_ANSWER,
    COL_CONTINUATION,
    COL_ID,
    COL_KIND,
    COL_PROMPT,
    COL_TARGET,
    KIND_AGENT,
    PROBLEM_FIELDS,
    StepInstance,
    Trajectory,
    is_chat_messages,
)
from srlkit.io import ConfigError, DataError

logger = logging.getLogger(__name__)


def load_srl_instances(
    source: str | os.PathLike[str], split: str = "train"
) -> tuple[list[dict[str, Any]], ReadSummary]:
    """Step instances -> rows with ``prompt``, ``target``, ``kind``, ``continuation``, ``id``.

    Only the columns the trainer and the step reward read are kept, so heterogeneous
    ``metadata`` dicts never break Arrow's schema inference.
    """
    summary = ReadSummary(str(source))
    rows = [srl_row(i) for i in iter_instances(source, split, summary)]
    return rows, summary


def srl_row(instance: StepInstance) -> dict[str, Any]:
    """The columns of one step instance that SRL training and its reward read."""
    return {
        COL_PROMPT: instance.prompt,
        COL_TARGET: instance.target,
        COL_KIND: instance.kind,
        COL_CONTINUATION: instance.continues_answer,
        COL_ID: instance.id,
    }


def render_text_prompts(rows: list[dict[str, Any]], tokenizer: Any) -> list[dict[str, Any]]:
    """Rows whose prompts continue the model's answer get every prompt rendered to text.

    TRL renders a conversational prompt with a generation prompt appended, which would close
    an opened answer; a text prompt is used as it is. All rows change together (a dataset's
    prompt column has one type), with the tokenizer's chat template
    (:func:`srlkit.evaluation.prompts.render_prompt`, as ``srl eval`` renders). Rows without
    a continuation are returned unchanged.
    """
    from srlkit.evaluation.prompts import render_prompt

    if not any(row.get(COL_CONTINUATION) for row in rows):
        return rows
    # TRL tokenizes a text prompt with the tokenizer's special tokens; a template that writes
    # the BOS itself (Llama 3) would otherwise get it twice.
    bos = getattr(tokenizer, "bos_token", None)
    adds_bos = bool(bos) and tokenizer("a")["input_ids"][:1] == [tokenizer.bos_token_id]

    def text(messages: list[dict[str, str]]) -> str:
        rendered = render_prompt(tokenizer, messages)
        return rendered[len(bos) :] if adds_bos and rendered.startswith(bos) else rendered

    return [
        {**row, COL_PROMPT: text(row[COL_PROMPT])} if isinstance(row[COL_PROMPT], list) else row
        for row in rows
    ]


def load_rlvr_problems(
    path: str | os.PathLike[str],
    template: str,
    problem_field: str | None = None,
    answer_field: str = COL_ANSWER,
    split: str = "train",
    with_id: bool = False,
) -> tuple[list[dict[str, Any]], ReadSummary]:
    """Problems with a gold answer -> rows with chat ``prompt`` and ``answer`` (text).

    ``with_id`` adds each problem's ``id`` (its ``id`` field, else file:line), for an export
    whose rows must name their record; training rows stay as TRL has always received them.

    A ``prompt`` column that already holds chat messages is used as is; a plain-text problem
    is wrapped in ``template`` (``{problem}`` is replaced).
    """
    if "{problem}" not in template:
        raise ConfigError("rlvr_prompt_template must contain the placeholder {problem}")
    summary = ReadSummary(str(path))
    rows: list[dict[str, Any]] = []
    for raw in iter_records(path, split, summary):
        rec = raw.record
        key = problem_field or (
            COL_PROMPT
            if is_chat_messages(rec.get(COL_PROMPT))
            else next((k for k in PROBLEM_FIELDS if rec.get(k)), None)
        )
        problem = rec.get(key) if key else None
        answer = rec.get(answer_field)
        if answer is None or (isinstance(answer, str) and not answer.strip()):
            summary.drop(f"'{answer_field}' missing or empty")
            continue
        if is_chat_messages(problem):
            rows.append({COL_PROMPT: problem, COL_ANSWER: str(answer)})
        elif isinstance(problem, str) and problem.strip():
            content = template.replace("{problem}", problem.strip())
            rows.append(
                {COL_PROMPT: [{"role": "user", "content": content}], COL_ANSWER: str(answer)}
            )
        else:
            wanted = problem_field or " / ".join(PROBLEM_FIELDS)
            summary.drop(f"no problem text in '{wanted}'")
            continue
        if with_id:
            rows[-1][COL_ID] = _record_id(raw)
    return rows, summary


def _record_id(raw: Any) -> str:
    """A problem's ``id``, else where it was read (file:line), so every row names its record."""
    value = raw.record.get(COL_ID)
    return str(value) if value not in (None, "") else str(raw.where)


def load_sft_examples(
    source: str | os.PathLike[str], mode: str = "full", split: str = "train"
) -> tuple[list[dict[str, Any]], ReadSummary]:
    """Trajectories -> TRL SFT rows.

    Math: ``{"prompt": [user], "completion": [assistant]}`` so the loss covers the solution only;
    with ``mode="full"`` the completion starts with the expert's thinking trace in
    ``<think>...</think>`` when the trajectory has one (s1K), ``"outline"`` trains on the
    numbered steps alone. Agents: ``{"messages": [...]}``, expert actions as assistant turns and
    observations as user turns (set TRL's ``assistant_only_loss`` to train on the actions only).
    """
    if mode not in ("full", "outline"):
        raise ConfigError(f"sft_mode must be 'full' or 'outline', got {mode!r}")
    summary = ReadSummary(str(source))
    _refuse_instances(source, split)
    if _holds_prompt_completion(source, split):
        return _prompt_completion_rows(source, split, summary), summary
    rows = [sft_row(t, mode) for t in iter_trajectories(source, split, summary)]
    return rows, summary


def _is_prompt_completion(record: dict[str, Any]) -> bool:
    return is_chat_messages(record.get(COL_PROMPT)) and is_chat_messages(record.get("completion"))


def _holds_prompt_completion(source: str | os.PathLike[str], split: str) -> bool:
    """Whether a file's first record is a TRL prompt-completion example (not a trajectory)."""
    path = Path(source)
    if path.is_dir() or not path.is_file():
        return False
    first = next(iter(iter_records(path, split, ReadSummary(str(path)))), None)
    return first is not None and _is_prompt_completion(first.record)


def _prompt_completion_rows(
    source: str | os.PathLike[str], split: str, summary: ReadSummary
) -> list[dict[str, Any]]:
    """TRL prompt-completion records, kept as they are; any other record is a counted drop."""
    rows = []
    for raw in iter_records(source, split, summary):
        if _is_prompt_completion(raw.record):
            rows.append(
                {COL_PROMPT: raw.record[COL_PROMPT], "completion": raw.record["completion"]}
            )
        else:
            summary.drop("not a prompt-completion example (chat messages in both)")
    return rows


def _refuse_instances(source: str | os.PathLike[str], split: str) -> None:
    """Step instances are not trajectories: say where the trajectories are instead of dropping
    every record as 'not a trajectory'."""
    path = Path(source)
    if path.is_dir() or not path.is_file():
        return
    first = next(iter(iter_records(path, split, ReadSummary(str(path)))), None)
    if first is not None and COL_TARGET in first.record and "steps" not in first.record:
        raise DataError(
            path,
            "holds step instances; SFT trains on whole trajectories: give the build folder "
            "(it holds train.trajectories.jsonl) or a trajectory file",
        )


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
    thinking = traj.thinking.strip()
    if mode == "full" and thinking:
        solution = f"<think>\n{thinking}\n</think>\n\n{solution}"
    return {
        "prompt": [{"role": "user", "content": traj.task}],
        "completion": [{"role": "assistant", "content": solution}],
    }


def filter_prompt_length(
    rows: list[dict[str, Any]],
    tokenizer: Any,
    max_prompt_length: int | None,
    summary: ReadSummary,
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
        if all(isinstance(c, str) for c in conversations):  # rendered already
            ids = tokenizer(conversations)["input_ids"]  # as TRL tokenizes text prompts
        else:
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
    rows: list[dict[str, Any]], summary: ReadSummary, max_samples: int | None
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

"""The one data contract of srlkit: a trajectory, its steps, and the step instances built from it.

Every stage (loaders, instance builder, rewards, trainers, evaluation) speaks these three
dataclasses, and each has exactly one JSON form (``to_dict`` / ``from_dict``) so that a
file written by one version of the pipeline can be read back and inspected by a person.

Column names used in datasets handed to trainers are module constants here, so the reward
functions (which TRL calls with dataset columns as keyword arguments) and the data builder
can never disagree on a spelling.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

# Columns of a step-instance dataset (JSONL / parquet / datasets.Dataset).
COL_ID = "id"
COL_PROMPT = "prompt"  # list of chat messages {"role", "content"}
COL_TARGET = "target"  # the expert's next step (math) or canonical action (agent)
COL_STEP_INDEX = "step_index"  # 1-based index k of the target step
COL_NUM_STEPS = "num_steps"  # N, steps in the whole trajectory
COL_TRAJECTORY_ID = "trajectory_id"
COL_KIND = "kind"  # "math" or "agent": selects how the reward compares actions
COL_METADATA = "metadata"
COL_CONTINUATION = "continuation"  # training rows: the prompt opened the model's answer
# Columns of an outcome (RLVR / evaluation) dataset.
COL_ANSWER = "answer"  # gold final answer, as text

KIND_MATH = "math"
KIND_AGENT = "agent"
KINDS = (KIND_MATH, KIND_AGENT)

# Field names accepted in users' problem files, in the order they are tried. Defined once here
# so that data loaders, RLVR problem files and evaluation accept the same spellings.
PROBLEM_FIELDS = ("problem", "question", "prompt", "task", "query")
SOLUTION_FIELDS = ("deepseek_attempt", "attempt", "solution", "answer")
ANSWER_FIELDS = ("answer", "final_answer", "gold", "ground_truth")
# Reasoning traces that precede a solution (s1K's ``thinking``, s1K-1.1's
# ``deepseek_thinking_trajectory``...): kept as :attr:`Trajectory.thinking` for ``sft_mode: full``.
THINKING_FIELDS = (
    "thinking",
    "deepseek_thinking_trajectory",
    "gemini_thinking_trajectory",
    "thinking_trajectories",
)


@dataclass
class Step:
    """One expert step.

    Math steps use ``title`` and ``body`` (``1. **Title** body``); agent steps use ``thought``
    (the expert's prose, kept for inspection but never a target), ``action`` (the canonical,
    environment-consumable text, see :mod:`srlkit.data.actions`) and ``observation`` (what the
    environment answered).
    """

    title: str = ""
    body: str = ""
    thought: str = ""
    action: str = ""
    observation: str = ""

    def to_dict(self) -> dict[str, str]:
        # Fields are plain strings: no need for asdict's recursive deep copy (10x slower).
        return {k: v for k, v in vars(self).items() if v}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Step:
        return cls(
            **{
                k: str(d.get(k) or "")
                for k in ("title", "body", "thought", "action", "observation")
            }
        )

    def math_text(self, number: int) -> str:
        """The step as the paper writes it: ``N. **Title** body`` (or ``N. body`` without title)."""
        if self.title:
            return f"{number}. **{self.title}** {self.body}".rstrip()
        return f"{number}. {self.body}".rstrip()


@dataclass
class Trajectory:
    """An expert's solution of one task, cut into steps.

    ``thinking`` is the expert's reasoning trace before the solution, when the source has one
    (s1K): SFT in ``full`` mode trains on it, SRL never targets it, and it is no part of the
    trajectory's identity (:func:`srlkit.data.build.content_hash`).
    """

    id: str
    task: str
    steps: list[Step]
    kind: str = KIND_MATH
    final_answer: str | None = None
    source_format: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)
    thinking: str = ""

    def to_dict(self) -> dict[str, Any]:
        d = {
            "id": self.id,
            "task": self.task,
            "kind": self.kind,
            "steps": [s.to_dict() for s in self.steps],
            "final_answer": self.final_answer,
            "source_format": self.source_format,
            "metadata": self.metadata,
        }
        if self.thinking:
            d["thinking"] = self.thinking
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Trajectory:
        return cls(
            id=str(d["id"]),
            task=str(d["task"]),
            steps=[Step.from_dict(s) for s in d.get("steps", [])],
            kind=str(d.get("kind", KIND_MATH)),
            final_answer=d.get("final_answer"),
            source_format=str(d.get("source_format", "")),
            metadata=_metadata(d.get("metadata")),
            thinking=str(d.get("thinking") or ""),
        )


@dataclass(kw_only=True)
class StepInstance:
    """One SRL training example: the context up to step k-1, and the expert's step k as target.

    Keyword-only: ``step_index`` and ``num_steps`` are both ints, and a positional call could
    swap them without any error.
    """

    id: str
    prompt: list[dict[str, str]]
    target: str
    step_index: int
    num_steps: int
    trajectory_id: str
    kind: str = KIND_MATH
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def continues_answer(self) -> bool:
        """The prompt ends in the model's own, opened answer (the ``continuation`` layout)."""
        return ends_in_answer(self.prompt)

    def to_dict(self) -> dict[str, Any]:
        return {
            COL_ID: self.id,
            COL_PROMPT: self.prompt,
            COL_TARGET: self.target,
            COL_STEP_INDEX: self.step_index,
            COL_NUM_STEPS: self.num_steps,
            COL_TRAJECTORY_ID: self.trajectory_id,
            COL_KIND: self.kind,
            COL_METADATA: self.metadata,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any], default_id: str = "") -> StepInstance:
        """A step instance from its record (a row of ``train.jsonl`` or its parquet), or
        ``ValueError`` saying what is wrong.

        Required: ``prompt`` (chat messages) and a non-empty ``target``. The rest has defaults,
        so an instance file written by hand (or by another tool) needs only those two columns:
        ``id`` = ``default_id`` (the reader passes the record's location), ``trajectory_id`` =
        ``id``, ``kind`` = math, step 1 of 1. ``metadata`` may be a JSON string (the parquet form).

        >>> StepInstance.from_dict({"prompt": [{"role": "user", "content": "1+1?"}], "target": "2"}, "f:1").id
        'f:1'
        """
        if not is_chat_messages(d.get(COL_PROMPT)):
            raise ValueError(
                f"'{COL_PROMPT}' is not a non-empty list of {{role, content}} messages"
            )
        target = d.get(COL_TARGET)
        if not isinstance(target, str) or not target.strip():
            raise ValueError(f"'{COL_TARGET}' missing or empty")
        kind = d.get(COL_KIND) or KIND_MATH
        if kind not in KINDS:
            raise ValueError(f"'{COL_KIND}' not one of {', '.join(KINDS)}")
        metadata = d.get(COL_METADATA) or {}
        if isinstance(metadata, str):
            try:
                metadata = json.loads(metadata)
            except json.JSONDecodeError:
                raise ValueError(f"'{COL_METADATA}' is a string but not JSON") from None
        if not isinstance(metadata, dict):
            raise ValueError(f"'{COL_METADATA}' is not an object")
        try:
            step_index = int(d.get(COL_STEP_INDEX) or 1)
            num_steps = int(d.get(COL_NUM_STEPS) or step_index)
        except (TypeError, ValueError):
            raise ValueError(f"'{COL_STEP_INDEX}' / '{COL_NUM_STEPS}' are not integers") from None
        instance_id = str(d.get(COL_ID) or default_id)
        return cls(
            id=instance_id,
            prompt=[{"role": m["role"], "content": m["content"]} for m in d[COL_PROMPT]],
            target=target,
            step_index=step_index,
            num_steps=num_steps,
            trajectory_id=str(d.get(COL_TRAJECTORY_ID) or instance_id),
            kind=kind,
            metadata=metadata,
        )


def is_chat_messages(value: Any) -> bool:
    """A non-empty list of ``{"role": str, "content": str}`` messages."""
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


def ends_in_answer(messages: list[dict[str, str]]) -> bool:
    """A conversation whose last message is the assistant's: the model is to continue it."""
    return bool(messages) and messages[-1].get("role") == "assistant"


def _metadata(value: Any) -> dict[str, Any]:
    """A record's ``metadata``: an object or absent. ``dict(["ab", "cd"])`` would quietly make
    ``{"a": "b", "c": "d"}`` of a list, so anything else is refused (``TypeError``)."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise TypeError(f"metadata should be an object, found {type(value).__name__}")
    return dict(value)

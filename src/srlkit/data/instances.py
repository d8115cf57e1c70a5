"""From one trajectory to its step instances: context = task + expert steps 1..k-1, target = step k.

Choices the paper leaves open, as options (defaults in :class:`InstanceOptions`):

- ``targets="all"`` makes every step a target (k = 1..N); ``"paper"`` follows the paper's
  literal wording, "N-1 partial trajectories for k in 1..N-1", so the last step is never a
  target. We default to all steps because the last step (the conclusion, or ``submit``) is a
  step the model must also learn to take.
- ``title_hint``: the paper's footnote; the next step's title goes into the context and the
  target is its body. Steps without a title keep the plain form.
- agents keep the last ``history_rounds`` (action, observation) rounds, 2 as in the paper
  (``None`` keeps all), each observation cut to ``max_observation_chars`` with a visible marker.
- ``layout`` (math): ``"paper"`` puts the problem and the expert's steps 1..k-1 into a user turn
  after a system prompt, and the model answers with step k. ``"continuation"`` uses the solve
  prompt of ``srl eval`` and opens the model's own answer with the expert's steps 1..k-1
  (after ``answer_opening``), so the model writes step k exactly where it would in a whole
  solution of its own; the reward then scores the first step it writes. The paper gives the
  context's content, not its layout. Continuation is what lets a small model carry what SRL
  teaches into its whole solutions: the demo's student, trained in the paper layout, improved
  its next steps there and not at all in its own solutions (docs/paper-table.md, trials 13-16).
- ``max_prompt_tokens`` with a token counter drops instances whose prompt is too long; they
  are counted (``prompt_too_long``), not silently lost.

The context always holds the *expert's* earlier steps, never a model's: instances are
independent, which is what lets SRL train on every step in parallel.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from srlkit.data.prompts import (
    agent_intro,
    agent_round,
    continuation_messages,
    default_system_prompt,
    math_messages,
)
from srlkit.data.schema import KIND_AGENT, KIND_MATH, StepInstance, Trajectory

logger = logging.getLogger(__name__)

TARGET_RULES = ("all", "paper")
LAYOUTS = ("paper", "continuation")
TokenCounter = Callable[[list[dict[str, str]]], int]


@dataclass
class InstanceOptions:
    """How instances are cut from trajectories (CLI flags of ``srl data build``)."""

    targets: str = field(
        default="all",
        metadata={"help": "'all': every step is a target; 'paper': steps 1..N-1 only"},
    )
    title_hint: bool = field(
        default=False,
        metadata={"help": "math: put the next step's title in the context; target = its body"},
    )
    layout: str = field(
        default="paper",
        metadata={
            "help": "math: 'paper': problem and earlier steps in a user turn, the model answers "
            "with the next step; 'continuation': the solve prompt, the model's answer opened with "
            "the earlier steps, the model continues it (its first step is scored)"
        },
    )
    answer_opening: str = field(
        default="",
        metadata={
            "help": "continuation: text the model's answer starts with before the expert's "
            "steps (e.g. an empty think block for a model that always writes one)"
        },
    )
    history_rounds: int | None = field(
        default=2,
        metadata={"help": "agents: (action, observation) rounds kept in the context (None = all)"},
    )
    max_observation_chars: int | None = field(
        default=4000,
        metadata={"help": "agents: longer observations are cut in the middle (None = never)"},
    )
    math_system_prompt: str | None = field(
        default=None, metadata={"help": "system prompt text for math (default: packaged)"}
    )
    agent_system_prompt: str | None = field(
        default=None, metadata={"help": "system prompt text for agents (default: packaged)"}
    )
    include_source_system: bool = field(
        default=False,
        metadata={"help": "agents: append the trajectory's own system prompt (tool docs)"},
    )
    max_prompt_tokens: int | None = field(
        default=None, metadata={"help": "drop instances whose prompt is longer (needs a tokenizer)"}
    )

    def __post_init__(self) -> None:
        if self.targets not in TARGET_RULES:
            raise ValueError(f"targets must be one of {TARGET_RULES}, got {self.targets!r}")
        if self.layout not in LAYOUTS:
            raise ValueError(f"layout must be one of {LAYOUTS}, got {self.layout!r}")
        if self.history_rounds is not None and self.history_rounds < 0:
            raise ValueError("history_rounds must be >= 0 (or None for all)")
        if self.max_observation_chars is not None and self.max_observation_chars < 1:
            raise ValueError("max_observation_chars must be >= 1 (or None for no limit)")

    def system_prompt(self, kind: str, trajectory: Trajectory) -> str:
        own = self.agent_system_prompt if kind == KIND_AGENT else self.math_system_prompt
        text = own or default_system_prompt(kind)
        source = str(trajectory.metadata.get("system_prompt") or "").strip()
        if self.include_source_system and source:
            text = f"{text}\n\nThe environment's own instructions follow.\n\n{source}"
        return text


@dataclass
class InstanceCounts:
    """What happened to the candidate targets of one or more trajectories."""

    built: int = 0
    dropped: dict[str, int] = field(default_factory=dict)

    def drop(self, reason: str) -> None:
        self.dropped[reason] = self.dropped.get(reason, 0) + 1


def target_steps(num_steps: int, rule: str) -> range:
    """1-based indices k of the steps that become targets."""
    return range(1, num_steps + 1) if rule == "all" else range(1, num_steps)


def build_instances(
    trajectory: Trajectory,
    options: InstanceOptions | None = None,
    count_tokens: TokenCounter | None = None,
    counts: InstanceCounts | None = None,
) -> Iterator[StepInstance]:
    """Yield the step instances of one trajectory (see the module docstring for the options).

    The instances of one trajectory share prompt message objects (the system message, each
    agent round): treat prompts as read-only, and copy a message before changing it.
    """
    options = options or InstanceOptions()
    if options.max_prompt_tokens is not None and count_tokens is None:
        raise ValueError("max_prompt_tokens needs a token counter (a tokenizer)")
    system = options.system_prompt(trajectory.kind, trajectory)
    shared = _SharedMessages(trajectory, system, options)
    n = len(trajectory.steps)
    for k in target_steps(n, options.targets):
        prompt, target, meta = _context_and_target(trajectory, k, shared, options)
        if options.max_prompt_tokens is not None and count_tokens is not None:
            tokens = count_tokens(prompt)
            if tokens > options.max_prompt_tokens:
                if counts is not None:
                    counts.drop("prompt_too_long")
                continue
            meta["prompt_tokens"] = tokens
        if not target.strip():
            if counts is not None:
                counts.drop("empty_target")
            continue
        if counts is not None:
            counts.built += 1
        yield StepInstance(
            id=f"{trajectory.id}/step-{k}",
            prompt=prompt,
            target=target,
            step_index=k,
            num_steps=n,
            trajectory_id=trajectory.id,
            kind=trajectory.kind,
            metadata=meta,
        )


class _SharedMessages:
    """Message objects reused by all instances of one trajectory.

    An agent round appears in up to K+1 prompts; building its two messages (and truncating its
    observation) once means the instances share the same dict objects instead of copies.
    """

    def __init__(self, trajectory: Trajectory, system: str, options: InstanceOptions):
        self.trajectory = trajectory
        self.options = options
        self.system = {"role": "system", "content": system}
        self._rounds: dict[int, tuple[dict[str, str], dict[str, str]]] = {}
        self._task = {"role": "user", "content": agent_intro(trajectory.task, 0)}

    def agent_prompt(self, start: int, end: int) -> list[dict[str, str]]:
        """system, task (noting ``start`` omitted rounds), then rounds ``start..end-1`` (0-based)."""
        intro = (
            self._task
            if start == 0
            else {"role": "user", "content": agent_intro(self.trajectory.task, start)}
        )
        messages = [self.system, intro]
        for j in range(start, end):
            pair = self._rounds.get(j)
            if pair is None:
                pair = self._rounds[j] = agent_round(
                    self.trajectory.steps[j], self.options.max_observation_chars
                )
            messages.extend(pair)
        return messages


def _context_and_target(
    trajectory: Trajectory, k: int, shared: _SharedMessages, options: InstanceOptions
) -> tuple[list[dict[str, str]], str, dict[str, Any]]:
    steps = trajectory.steps
    step = steps[k - 1]
    meta: dict[str, Any] = {"source_format": trajectory.source_format}
    if trajectory.kind == KIND_AGENT:
        start = 0 if options.history_rounds is None else max(0, k - 1 - options.history_rounds)
        meta["history_rounds"] = k - 1 - start
        return shared.agent_prompt(start, k - 1), step.action, meta
    if trajectory.kind != KIND_MATH:
        raise ValueError(f"trajectory {trajectory.id}: unknown kind {trajectory.kind!r}")
    hint = step.title if options.title_hint and step.title else None
    if options.layout == "continuation":
        prompt = continuation_messages(
            trajectory.task, steps[: k - 1], options.answer_opening, hint, k
        )
    else:
        prompt = math_messages(shared.system["content"], trajectory.task, steps[: k - 1], k, hint)
    target = step.body if hint else step.math_text(k)
    meta["title_hint"] = hint is not None
    if "segmentation" in trajectory.metadata:
        meta["segmentation"] = trajectory.metadata["segmentation"]
    if trajectory.final_answer is not None:
        meta["final_answer"] = trajectory.final_answer
    return prompt, target, meta


def make_token_counter(tokenizer: Any) -> TokenCounter:
    """A prompt-length counter from a tokenizer object or a model id / path.

    Uses the tokenizer's chat template with the generation prompt, i.e. the exact length the
    trainer will see; tokenizers without a template count the joined message texts.
    """
    if isinstance(tokenizer, str):
        from transformers import AutoTokenizer  # heavy: only when a length limit is asked for

        tokenizer = AutoTokenizer.from_pretrained(tokenizer)

    def count(messages: list[dict[str, str]]) -> int:
        if getattr(tokenizer, "chat_template", None):
            ids = tokenizer.apply_chat_template(messages, tokenize=True, add_generation_prompt=True)
            if hasattr(ids, "keys") and "input_ids" in ids:
                ids = ids["input_ids"]
            return len(ids)
        return len(tokenizer("\n".join(m["content"] for m in messages))["input_ids"])

    return count

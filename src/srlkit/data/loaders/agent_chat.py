"""Agent loaders for chat transcripts: each assistant action plus what the environment answered.

Every format reduces to the same walk over turns: an assistant turn that holds an action
becomes a step (its prose is kept as ``thought``, never as a target), and the environment turns
up to the next assistant turn are that step's observation. Assistant turns with no action (a
closing summary, a malformed call) are not steps; they are counted in the trajectory metadata
as ``turns_without_action`` so nothing disappears silently.

Formats (names for ``--format``):

- ``openai_tools``: OpenAI chat with ``tool_calls`` and ``tool`` messages (SWE-Gym OpenHands);
  several calls in one turn become several steps, each with its own tool answer.
- ``swe_smith``: assistant turns = thought + ``<function=...>`` block (or a fenced command),
  user turns = ``OBSERVATION: ...`` (SWE-smith).
- ``swe_play``: plain-text OpenHands chats whose observations start with
  ``EXECUTION RESULT of [tool]:``; the in-context example in the first user turn is cut off.
- ``nebius``: SWE-agent runs with roles system/user/ai, ``text`` fields, fenced commands.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from srlkit.data.actions import (
    RAW_COMMAND_KEY,
    Action,
    action_from_openai_tool_call,
    parse_action,
)
from srlkit.data.files import RawRecord
from srlkit.data.loaders.base import (
    Loader,
    LoaderOptions,
    RecordDropped,
    missing_field,
    record_id,
    record_metadata,
)
from srlkit.data.schema import KIND_AGENT, Step, Trajectory
from srlkit.io import DataError

_FENCE_RE = re.compile(r"```[^\n`]*\n(.*?)```", re.DOTALL)
_TOOL_CALL_RE = re.compile(r"<tool_call>")
_OBS_PREFIX_RE = re.compile(r"^\s*(?:OBSERVATION:|EXECUTION RESULT of \[[^\]\n]*\]:)[ \t]*\n?")
_OBSERVATION_START_RE = re.compile(r"\s*OBSERVATION:")
_EXECUTION_START_RE = re.compile(r"\s*EXECUTION RESULT of \[")
# ``(?<!-)``: a dash run is tried from its first dash only; without it a long run of dashes
# was rescanned from every position (quadratic).
_SWE_PLAY_TASK_RE = re.compile(r"(?<!-)-{3,}\s*NEW TASK DESCRIPTION\s*-{3,}\s*\n", re.IGNORECASE)
ENV_ROLES = ("user", "tool", "function", "observation", "ipython")
ASSISTANT_ROLES = ("assistant", "ai", "gpt")


@dataclass(slots=True)
class Turn:
    """A chat message reduced to what the walk needs (slots: one is made per message)."""

    role: str
    content: str
    tool_calls: list[dict[str, Any]] | None = None
    tool_call_id: str | None = None


def _text(value: Any) -> str:
    """Message content as text: OpenAI content-part lists are joined; None is empty."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "\n".join(_part_text(i, p) for i, p in enumerate(value, start=1))
    return str(value)


def _part_text(number: int, part: Any) -> str:
    """One OpenAI content part's text; a part whose ``text`` is not a string is malformed."""
    if not isinstance(part, dict):
        return str(part)
    text = part.get("text", "")
    if not isinstance(text, str):
        raise TypeError(
            f"content part {number} has 'text' of type {type(text).__name__} (expected a string)"
        )
    return text


def extract_text_action(content: str, fences: bool = True) -> tuple[str, Action] | None:
    """``(thought, action)`` from an assistant message, or None when it holds no action.

    Looks for a ``<function=...>`` block, then a ``<tool_call>``, then the last fenced block.
    Unlike :func:`srlkit.data.actions.parse_action`, plain prose is *not* an action here: an
    expert's closing summary is not something the environment could execute. ``fences=False``
    is used for transcripts that call tools with ``<function=...>`` blocks: there a fenced
    block is a code sample inside prose, not a command.
    """
    # Cheap substring tests first: most turns hold one kind of action, and regex scans of
    # long messages are the main cost of loading agent data.
    start = content.find("<function=")
    if start >= 0:
        end = content.find("</function>", start)
        block = content[start:] if end < 0 else content[start : end + len("</function>")]
        return content[:start].strip(), parse_action(block)
    tc = _TOOL_CALL_RE.search(content) if "<tool_call>" in content else None
    if tc:
        action = parse_action(content[tc.start() :])
        if action.name is not None:
            return content[: tc.start()].strip(), action
    blocks = list(_FENCE_RE.finditer(content)) if fences and "```" in content else []
    if blocks:
        last = blocks[-1]
        return content[: last.start()].strip(), Action(None, {RAW_COMMAND_KEY: last.group(1)})
    return None


def strip_observation_prefix(text: str) -> str:
    """Drop ``OBSERVATION:`` / ``EXECUTION RESULT of [tool]:`` (prompts add their own label)."""
    m = _OBS_PREFIX_RE.match(text)
    return text[m.end() :] if m else text


def walk_turns(turns: list[Turn], text_actions: bool = True) -> tuple[list[Step], int]:
    """Steps from the turns after the task, and how many assistant turns held no action.

    ``text_actions=False`` (OpenAI tool-call transcripts) takes actions from ``tool_calls``
    only: there, a code block in an assistant's text is prose shown to the user.
    """
    fences = text_actions and not any(
        t.role in ASSISTANT_ROLES and "<function=" in t.content for t in turns
    )
    steps: list[Step] = []
    pending: dict[str, int] = {}
    without_action = 0
    for turn in turns:
        if turn.role in ASSISTANT_ROLES:
            pending = {}
            if turn.tool_calls:
                for i, call in enumerate(turn.tool_calls):
                    if not isinstance(call, dict):
                        raise TypeError(
                            f"tool call {i + 1} should be an object, found {type(call).__name__}"
                        )
                    action = action_from_openai_tool_call(call)
                    steps.append(
                        Step(
                            thought=turn.content.strip() if i == 0 else "",
                            action=action.canonical_text(),
                        )
                    )
                    if isinstance(call.get("id"), str):
                        pending[call["id"]] = len(steps) - 1
                continue
            found = extract_text_action(turn.content, fences) if text_actions else None
            action_text = found[1].canonical_text() if found is not None else ""
            if not action_text:
                without_action += 1
                continue
            steps.append(Step(thought=found[0], action=action_text))
        elif turn.role in ENV_ROLES and steps:
            target = pending.get(turn.tool_call_id or "", len(steps) - 1)
            obs = strip_observation_prefix(turn.content)
            step = steps[target]
            step.observation = f"{step.observation}\n{obs}" if step.observation else obs
    return steps, without_action


class ChatLoader(Loader):
    """Shared load(): read the messages, find the task, walk the rest."""

    kind = KIND_AGENT
    text_actions = True
    messages_field = "messages"
    content_field = "content"

    def _messages(self, raw: RawRecord) -> list[dict[str, Any]]:
        value = raw.record.get(self.messages_field)
        if not isinstance(value, list):
            if value is None:
                raise missing_field(raw, "messages", (self.messages_field,))
            raise DataError(
                raw.path,
                f"{raw.prefix}{self.messages_field!r} should be a list of messages",
                raw.line,
            )
        for i, m in enumerate(value, start=1):
            if not isinstance(m, dict) or not isinstance(m.get("role"), str):
                raise DataError(
                    raw.path, f"{raw.prefix}message {i} should be an object with a 'role'", raw.line
                )
        return value

    def to_turn(self, message: dict[str, Any]) -> Turn:
        calls = message.get("tool_calls")
        legacy = message.get("function_call")  # the pre-tool_calls OpenAI form
        if not calls and isinstance(legacy, dict):
            calls = [{"function": legacy}]
        call_id = message.get("tool_call_id")
        # Positional arguments (role, content, tool_calls, tool_call_id): this runs for every
        # message of every record, and keyword arguments doubled the cost of the call.
        content = message.get(self.content_field)
        return Turn(
            message["role"],
            content if isinstance(content, str) else _text(content),
            calls if isinstance(calls, list) and calls else None,
            call_id if isinstance(call_id, str) else None,
        )

    def task_text(self, first_user: str) -> str:
        return first_user.strip()

    def load(self, raw: RawRecord, options: LoaderOptions) -> Trajectory:
        turns = [self.to_turn(m) for m in self._messages(raw)]
        system = "\n".join(t.content for t in turns if t.role == "system")
        first_user = next((i for i, t in enumerate(turns) if t.role == "user"), None)
        if first_user is None:
            raise RecordDropped("no_task", "no user message holding the task")
        task = self.task_text(turns[first_user].content)
        if not task:
            raise RecordDropped("no_task", "the first user message is empty")
        try:
            steps, without_action = walk_turns(turns[first_user + 1 :], self.text_actions)
        except (ValueError, TypeError) as exc:
            raise DataError(raw.path, f"{raw.prefix}malformed tool call: {exc}", raw.line) from None
        if len(steps) < options.min_steps:
            raise RecordDropped(
                "too_few_steps", f"{len(steps)} action(s), need at least {options.min_steps}"
            )
        meta = record_metadata(raw, turns_without_action=without_action, system_prompt=system)
        return Trajectory(record_id(raw), task, steps, KIND_AGENT, None, self.name, meta)


def _messages_of(record: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The record's message objects, lazily: detection mostly stops at the first few."""
    value = record.get("messages")
    return (m for m in value if isinstance(m, dict)) if isinstance(value, list) else iter(())


class OpenAIToolsLoader(ChatLoader):
    name = "openai_tools"
    description = "OpenAI chat with tool_calls and tool messages (SWE-Gym OpenHands)"
    looks_for = (
        "'messages' with assistant 'tool_calls' (or 'function_call') or 'tool' role messages"
    )
    text_actions = False

    def detect(self, record: dict[str, Any]) -> bool:
        return any(
            m.get("role") == "tool"
            or (isinstance(m.get("tool_calls"), list) and m["tool_calls"])
            or isinstance(m.get("function_call"), dict)
            for m in _messages_of(record)
        )


class SWESmithLoader(ChatLoader):
    name = "swe_smith"
    description = "chats with thought + <function=...> or fenced command, observations 'OBSERVATION:' (SWE-smith)"
    looks_for = "'messages' whose user turns start with 'OBSERVATION:' or assistant turns hold <function=...>"

    def detect(self, record: dict[str, Any]) -> bool:
        return any(
            m.get("role") == "user" and _OBSERVATION_START_RE.match(_text(m.get("content")))
            for m in _messages_of(record)
        ) or any(
            m.get("role") == "assistant" and "<function=" in _text(m.get("content"))
            for m in _messages_of(record)
        )


class SWEPlayLoader(ChatLoader):
    name = "swe_play"
    description = (
        "plain-text OpenHands chats with 'EXECUTION RESULT of [tool]:' observations (SWE-Play)"
    )
    looks_for = "'messages' whose user turns start with 'EXECUTION RESULT of ['"

    def detect(self, record: dict[str, Any]) -> bool:
        return any(
            m.get("role") == "user" and _EXECUTION_START_RE.match(_text(m.get("content")))
            for m in _messages_of(record)
        )

    def task_text(self, first_user: str) -> str:
        """The text after the ``NEW TASK DESCRIPTION`` banner (the in-context example is dropped)."""
        parts = _SWE_PLAY_TASK_RE.split(first_user, maxsplit=1)
        return parts[-1].strip()


class NebiusLoader(ChatLoader):
    name = "nebius"
    description = "nebius SWE-agent trajectories: 'trajectory' of {role: system/user/ai, text}"
    looks_for = "'trajectory' list of {role: system/user/ai, text}"
    messages_field = "trajectory"
    content_field = "text"

    def detect(self, record: dict[str, Any]) -> bool:
        traj = record.get("trajectory")
        return isinstance(traj, list) and any(
            isinstance(t, dict) and t.get("role") == "ai" for t in traj
        )

    def to_turn(self, message: dict[str, Any]) -> Turn:
        turn = super().to_turn(message)
        if turn.role == "system" and not turn.content:
            turn.content = _text(message.get("system_prompt"))
        return turn

"""SWE-agent ``.traj`` files and srlkit's own trajectory JSON.

A ``.traj`` holds one run: ``trajectory`` is a list of ``{thought, action, observation, ...}``
entries (the action is already the command the environment ran, e.g. ``open setup.py``), and
``history`` is the chat, whose first non-demonstration user message is the issue. Demonstration
messages (``is_demo``) are examples shown to the agent, not part of the task.
"""

from __future__ import annotations

from typing import Any

from srlkit.data.actions import canonicalize_action_text
from srlkit.data.files import RawRecord
from srlkit.data.loaders.agent_chat import _text
from srlkit.data.loaders.base import (
    Loader,
    LoaderOptions,
    RecordDropped,
    missing_field,
    record_id,
    record_metadata,
    require_list,
)
from srlkit.data.schema import KIND_AGENT, KIND_MATH, Step, Trajectory
from srlkit.io import DataError


class SWEAgentTrajLoader(Loader):
    name = "swe_agent_traj"
    kind = KIND_AGENT
    description = "SWE-agent .traj: 'trajectory' of {thought, action, observation} plus 'history'"
    looks_for = "'trajectory' list of {action, observation} entries (SWE-agent .traj)"

    def detect(self, record: dict[str, Any]) -> bool:
        traj = record.get("trajectory")
        return isinstance(traj, list) and any(
            isinstance(t, dict) and "action" in t and "observation" in t for t in traj
        )

    def load(self, raw: RawRecord, options: LoaderOptions) -> Trajectory:
        _, entries = require_list(raw, ("trajectory",), "steps")
        task = self._task(raw)
        steps = []
        for i, entry in enumerate(entries, start=1):
            if not isinstance(entry, dict) or "action" not in entry:
                raise DataError(
                    raw.path, f"{raw.prefix}trajectory entry {i} has no 'action'", raw.line
                )
            action = canonicalize_action_text(_text(entry.get("action")))
            if action:
                steps.append(
                    Step(
                        thought=_text(entry.get("thought")).strip(),
                        action=action,
                        observation=_text(entry.get("observation")),
                    )
                )
        if len(steps) < options.min_steps:
            raise RecordDropped(
                "too_few_steps", f"{len(steps)} action(s), need at least {options.min_steps}"
            )
        info = raw.record.get("info") if isinstance(raw.record.get("info"), dict) else {}
        history = raw.record.get("history") if isinstance(raw.record.get("history"), list) else []
        system = "\n".join(
            _text(m.get("content"))
            for m in history
            if isinstance(m, dict) and m.get("role") == "system"
        )
        meta = record_metadata(raw, system_prompt=system, exit_status=info.get("exit_status"))
        traj_id = (
            record_id(raw) if any(k in raw.record for k in ("id", "instance_id")) else raw.path.stem
        )
        return Trajectory(traj_id, task, steps, KIND_AGENT, None, self.name, meta)

    def _task(self, raw: RawRecord) -> str:
        history = raw.record.get("history")
        if not isinstance(history, list):
            raise missing_field(raw, "history (the chat holding the issue)", ("history",))
        for message in history:
            if (
                isinstance(message, dict)
                and message.get("role") == "user"
                and not message.get("is_demo")
            ):
                text = _text(message.get("content")).strip()
                if text:
                    return text
        raise RecordDropped("no_task", "no non-demonstration user message in 'history'")


class TrajectoryJSONLoader(Loader):
    """Records written by :meth:`srlkit.data.schema.Trajectory.to_dict` (already segmented)."""

    name = "srlkit"
    kind = ""
    description = "srlkit's own Trajectory JSON ({id, task, kind, steps: [{title, body} | {action, observation}]})"
    looks_for = "'task', 'kind' and a 'steps' list of objects (srlkit Trajectory form)"

    def detect(self, record: dict[str, Any]) -> bool:
        steps = record.get("steps")
        return (
            "task" in record
            and "kind" in record
            and isinstance(steps, list)
            and all(isinstance(s, dict) for s in steps)
        )

    def load(self, raw: RawRecord, options: LoaderOptions) -> Trajectory:
        rec = raw.record
        if not isinstance(rec.get("task"), str) or not isinstance(rec.get("steps"), list):
            raise missing_field(raw, "task/steps", ("id", "task", "kind", "steps"))
        kind = rec.get("kind") or KIND_MATH
        if kind not in (KIND_MATH, KIND_AGENT):
            raise DataError(
                raw.path,
                f"{raw.prefix}kind must be {KIND_MATH!r} or {KIND_AGENT!r}, found {kind!r}",
                raw.line,
            )
        traj = Trajectory.from_dict({**rec, "id": rec.get("id") or record_id(raw)})
        traj.steps = [s for s in traj.steps if s.body or s.title or s.action]
        if kind == KIND_AGENT:
            for step in traj.steps:
                step.action = canonicalize_action_text(step.action)
        if len(traj.steps) < options.min_steps:
            raise RecordDropped(
                "too_few_steps", f"{len(traj.steps)} step(s), need at least {options.min_steps}"
            )
        traj.source_format = traj.source_format or self.name
        traj.metadata = {**record_metadata(raw), **traj.metadata}
        return traj

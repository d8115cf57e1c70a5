"""Agent actions and their one canonical text form.

SRL rewards an agent's step by the similarity of its *action* to the expert's, so both must be
written the same way: the same tool call must give the same text whether it came as an OpenAI
``tool_calls`` entry, a Hermes/Qwen ``<tool_call>{json}</tool_call>`` block, an OpenHands /
SWE-smith ``<function=...>`` block, or (for SWE-agent style command interfaces) a fenced or
bare command line.

Canonical form (chosen because OpenHands and SWE-smith already write it, so it is familiar to
the field and to models trained on their data):

- a tool call ``Action(name, arguments)`` renders as::

      <function=NAME>
      <parameter=KEY>VALUE</parameter>
      ...
      </function>

  with keys sorted (argument order carries no meaning in JSON or XML calls), string values
  verbatim except for one surrounding newline each side, and other values as compact JSON;
- a bare command (``Action(name=None, {"command": ...})``, the SWE-agent ACI form such as
  ``open setup.py`` or ``edit 1:5 ... end_of_edit``) renders as the command text itself,
  stripped of surrounding blank space.

The tool-call form is exactly what two agent scaffolds parse from a model's reply, so a model
trained on these targets can be run by them: SWE-agent's ``xml_function_calling`` parser (the
scaffold that recorded the SWE-smith trajectories) and OpenHands CodeAct's parser for models
without native function calling. ``tests/data/test_action_scaffold_format.py`` parses every
real expert action, rendered here, with their documented grammar (see docs/agents.md).

>>> canonicalize_action_text('<tool_call>{"name": "bash", "arguments": {"command": "ls"}}</tool_call>')
'<function=bash>\\n<parameter=command>ls</parameter>\\n</function>'
>>> canonicalize_action_text("```bash\\nls -F\\n```")
'ls -F'
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from srlkit.io import RawNumber, loads_json  # noqa: F401 - RawNumber re-exported for callers

try:  # parses tool-call arguments several times faster; the standard library is the fallback
    import orjson
except ImportError:  # pragma: no cover - orjson is a dependency
    orjson = None

RAW_COMMAND_KEY = "command"

_FUNCTION_RE = re.compile(r"<function=([^>\n]+)>(.*?)(?:</function>|$)", re.DOTALL)
_PARAMETER_RE = re.compile(r"<parameter=([^>\n]+)>(.*?)</parameter>", re.DOTALL)
_TOOL_CALL_OPEN = "<tool_call>"
_TOOL_CALL_CLOSE = "</tool_call>"
_FENCE_RE = re.compile(r"```[^\n`]*\n(.*?)```", re.DOTALL)


@dataclass(frozen=True)
class Action:
    """An environment-consumable action: a named tool call, or a bare command (``name=None``)."""

    name: str | None
    arguments: dict[str, Any] = field(default_factory=dict)

    def canonical_text(self) -> str:
        """The one text form every loader writes as a target and every reward compares."""
        if self.name is None:
            return str(self.arguments.get(RAW_COMMAND_KEY, "")).strip()
        lines = [f"<function={self.name}>"]
        for key in sorted(self.arguments):
            lines.append(f"<parameter={key}>{_render_value(self.arguments[key])}</parameter>")
        lines.append("</function>")
        return "\n".join(lines)


def _render_value(value: Any) -> str:
    if isinstance(value, str):
        return _strip_one_newline(value)
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _strip_one_newline(text: str) -> str:
    """Drop one newline at each end: ``<parameter=x>\\nvalue\\n</parameter>`` means ``value``.

    Only newlines go: leading spaces are indentation inside code edits and must survive.
    (Written with slices rather than four ``startswith``/``endswith`` calls: it runs for every
    argument of every expert action, and the calls were most of its cost.)
    """
    if text[:1] == "\n":
        text = text[1:]
    elif text[:2] == "\r\n":
        text = text[2:]
    if text[-1:] == "\n":
        text = text[:-2] if text[-2:] == "\r\n" else text[:-1]
    return text


def action_from_openai_tool_call(tool_call: dict[str, Any]) -> Action:
    """An OpenAI ``tool_calls`` entry (``{"function": {"name", "arguments"}}``) as an Action.

    ``arguments`` may be a JSON string (the OpenAI wire form) or an already decoded object.
    Raises ``ValueError`` when the entry has no function name or its arguments are not an
    object.
    """
    fn = tool_call.get("function", tool_call)
    if not isinstance(fn, dict) or not fn.get("name"):
        raise ValueError(f"tool call without a function name: {str(tool_call)[:200]}")
    args = fn.get("arguments", {})
    if isinstance(args, str):
        args = _loads_arguments(args) if args.strip() else {}
    if not isinstance(args, dict):
        raise ValueError(f"tool call arguments must be an object, got {type(args).__name__}")
    return Action(str(fn["name"]), dict(args))


def _loads_arguments(text: str) -> Any:
    """``json.loads(text)``, through orjson whenever orjson gives the same value.

    Decoding the arguments of every OpenAI tool call was the largest single cost of loading
    SWE-Gym records, and orjson does it four times faster. The two differ in one way that
    would go unnoticed: orjson turns integers beyond 64 bits into floats. So a result holding
    any float (rare in tool arguments) is decoded again by the standard library. Whatever
    orjson refuses (NaN, lone surrogates, bad JSON) also goes to the standard library, which
    then returns or raises exactly what it always did.
    """
    if orjson is not None:
        try:
            value = orjson.loads(text)
        except orjson.JSONDecodeError:
            pass
        else:
            if not _holds_float(value):
                return value
    return loads_json(text)


def _holds_float(value: Any) -> bool:
    """Whether a decoded JSON value has a float anywhere inside it."""
    if isinstance(value, float):
        return True
    if isinstance(value, dict):
        value = value.values()
    elif not isinstance(value, list):
        return False
    for item in value:
        if _holds_float(item):
            return True
    return False


def _json_tool_call(text: str) -> Action | None:
    try:
        obj = loads_json(text)
    except (ValueError, RecursionError):
        return None
    if not isinstance(obj, dict):
        return None
    if "function" in obj and isinstance(obj["function"], dict):
        obj = obj["function"]
    name = obj.get("name") or obj.get("tool") or obj.get("tool_name")
    args = obj.get("arguments", obj.get("parameters", obj.get("args", {})))
    if not isinstance(name, str) or not name:
        return None
    if isinstance(args, str):
        try:
            args = loads_json(args) if args.strip() else {}
        except (ValueError, RecursionError):
            return None
    if not isinstance(args, dict):
        return None
    return Action(name, dict(args))


_FUNCTION_HEAD_RE = re.compile(r"<function=([^>\n]+)>")
_FUNCTION_CLOSE = "</function>"


def _function_name_and_body(text: str) -> tuple[str, str] | None:
    """Groups 1 and 2 of :func:`find_function_block`, found without a regex scan of the body.

    The lazy ``(.*?)`` of ``_FUNCTION_RE`` costs a backtracking step per character, which made
    parsing long file edits the main cost of loading agent data; ``str.find`` does the same
    search in C. Same result: the first header, the body up to the first ``</function>``, or
    (unclosed) to the end, where ``$`` also stops before one final newline.
    """
    head = _FUNCTION_HEAD_RE.search(text)
    if head is None:
        return None
    start = head.end()
    close = text.find(_FUNCTION_CLOSE, start)
    if close < 0:
        close = len(text) - 1 if text.endswith("\n") else len(text)
    return head.group(1), text[start:close]


_PARAMETER_OPEN = "<parameter="
_PARAMETER_CLOSE = "</parameter>"


def _parameters(body: str) -> list[tuple[str, str]]:
    """``_PARAMETER_RE.findall(body)``, found with ``str.find`` instead of a lazy regex.

    Same reason as :func:`_function_name_and_body`: parameter values are whole file edits, and
    the lazy ``(.*?)`` tried ``</parameter>`` at every character of them. Same result: a name
    is the text up to the first ``>``, and is void when a newline (or nothing) comes first;
    the value runs to the first ``</parameter>`` after it; the search resumes after that.
    """
    found = []
    pos = 0
    while (start := body.find(_PARAMETER_OPEN, pos)) >= 0:
        name_start = start + len(_PARAMETER_OPEN)
        name_end = body.find(">", name_start)
        if name_end <= name_start or "\n" in body[name_start:name_end]:
            pos = start + 1  # no valid name here; the regex would try the next position too
            continue
        close = body.find(_PARAMETER_CLOSE, name_end + 1)
        if close < 0:
            break  # no closing tag after this point, so no later match either
        found.append((body[name_start:name_end], body[name_end + 1 : close]))
        pos = close + len(_PARAMETER_CLOSE)
    return found


def _tool_call_body(text: str) -> str | None:
    """The stripped text inside the first ``<tool_call>`` (to ``</tool_call>`` or the end).

    Found with ``str.find``: the regex ``<tool_call>\\s*(.*?)\\s*(?:</tool_call>|$)`` it
    replaces backtracked over every white-space run, quadratic in the run's length.
    """
    start = text.find(_TOOL_CALL_OPEN)
    if start < 0:
        return None
    start += len(_TOOL_CALL_OPEN)
    close = text.find(_TOOL_CALL_CLOSE, start)
    return text[start : close if close >= 0 else len(text)].strip()


def find_function_block(text: str) -> re.Match[str] | None:
    """The first ``<function=NAME>...</function>`` block in ``text`` (an unclosed one runs to the end)."""
    return _FUNCTION_RE.search(text)


def parse_action(text: str) -> Action:
    """Read an action written in any supported syntax; never raises.

    Tried in order: OpenHands/SWE-smith ``<function=...>`` block, Hermes/Qwen ``<tool_call>``
    JSON, a bare JSON tool call, the last fenced code block (SWE-agent), and finally the whole
    text as a bare command. A model's output therefore always yields *some* action; whether it
    resembles the expert's is the similarity reward's business, not the parser's.
    """
    block = _function_name_and_body(text)
    if block:
        params = {k.strip(): v for k, v in _parameters(block[1])}
        return Action(block[0].strip(), params)
    tool_call = _tool_call_body(text)
    if tool_call is not None:
        action = _json_tool_call(tool_call)
        if action is not None:
            return action
    stripped = text.strip()
    if stripped.startswith("{"):
        action = _json_tool_call(stripped)
        if action is not None:
            return action
    fences = _FENCE_RE.findall(text)
    if fences:
        return Action(None, {RAW_COMMAND_KEY: fences[-1]})
    return Action(None, {RAW_COMMAND_KEY: stripped})


def canonicalize_action_text(text: str) -> str:
    """``parse_action(text).canonical_text()``: the form targets are stored in."""
    return parse_action(text).canonical_text()

"""The action grammar of the two scaffolds that run srlkit's agent targets, from their documentation.

srlkit trains agents to write one ``<function=NAME>`` block (:mod:`srlkit.data.actions`). Two
open scaffolds read exactly that text from a model's reply; neither ships as a package that
installs here (``openhands-sdk`` needs Python >= 3.12, and PyPI's ``sweagent`` is a 0.0.1
placeholder), so their documented grammar is written out below and the tests parse
trained-format actions with it.

* SWE-agent, ``parse_function: {type: xml_function_calling}`` (``XMLFunctionCallingParser`` in
  ``sweagent/tools/parsing.py``, SWE-agent/SWE-agent): the first match of
  ``<function=([^>]+)>\\n(.*?)</function>`` (DOTALL) in the reply; the name is stripped and the
  OpenHands names ``execute_bash``/``finish`` are read as ``bash``/``submit``; parameters are
  every ``<parameter=([^>]+)>(.*?)</parameter>`` in the body, values ``.strip()``-ed; the tool
  must exist, required arguments must be present and no unknown argument may appear;
  ``view_range`` must look like ``[a, b]``. Everything outside the block is the thought.
* OpenHands CodeAct without native function calling (``fn_call_converter.py``,
  ``convert_non_fncall_messages_to_fncall_messages``; All-Hands-AI/OpenHands and its agent SDK):
  the same two patterns, values kept verbatim, ``integer`` parameters ``int()``-ed and
  ``array`` ones ``json.loads``-ed per the tool's JSON schema, the tool and its parameters
  checked against the schema. A reply whose only ``<function=`` block lacks its closing tag gets
  one appended (the stop word ``</function`` ends generation).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

FN_PATTERN = re.compile(r"<function=([^>]+)>\n(.*?)</function>", re.DOTALL)
PARAM_PATTERN = re.compile(r"<parameter=([^>]+)>(.*?)</parameter>", re.DOTALL)
SWE_AGENT_ALIASES = {"execute_bash": "bash", "finish": "submit"}


class ScaffoldParseError(ValueError):
    """The scaffold would reject this reply (it answers the model with a format error)."""


@dataclass(frozen=True)
class ToolSpec:
    name: str
    required: frozenset[str]
    allowed: frozenset[str]
    types: dict[str, str]
    enums: dict[str, list[str]]


def tools_from_description(system_prompt: str) -> dict[str, ToolSpec]:
    """Tool specs from the ``---- BEGIN FUNCTION #i: NAME ----`` text both scaffolds put in the
    system prompt (each parameter listed as ``(j) NAME (TYPE, required|optional): ...``)."""
    tools = {}
    blocks = re.findall(
        r"---- BEGIN FUNCTION #\d+: (\S+) ----\n(.*?)---- END FUNCTION", system_prompt, re.DOTALL
    )
    for name, body in blocks:
        params = re.findall(
            r"^\s*\(\d+\) (\w+) \((\w+), (required|optional)\):(.*?)(?=^\s*\(\d+\) |\Z)",
            body,
            re.MULTILINE | re.DOTALL,
        )
        enums = {}
        for p, _, _, desc in params:
            allowed = re.search(r"Allowed values: \[(.*?)\]", desc)
            if allowed:
                enums[p] = re.findall(r"`([^`]*)`", allowed.group(1))
        tools[name] = ToolSpec(
            name,
            frozenset(p for p, _, need, _ in params if need == "required"),
            frozenset(p for p, _, _, _ in params),
            {p: t for p, t, _, _ in params},
            enums,
        )
    return tools


def tools_from_json_schemas(schemas: list[dict]) -> dict[str, ToolSpec]:
    """Tool specs from OpenAI ``tools`` entries (``{"type": "function", "function": {...}}``).

    Rows read through Hugging Face ``datasets`` share one schema, so a property a tool does
    not have appears as ``null``; those are left out.
    """
    tools = {}
    for entry in schemas:
        fn = entry.get("function", entry)
        parameters = fn.get("parameters") or {}
        props = {k: v for k, v in (parameters.get("properties") or {}).items() if v is not None}
        tools[fn["name"]] = ToolSpec(
            fn["name"],
            frozenset(parameters.get("required") or []),
            frozenset(props),
            {k: v.get("type") or "string" for k, v in props.items()},
            {k: list(v["enum"]) for k, v in props.items() if v.get("enum")},
        )
    return tools


def swe_agent_parse(reply: str, tools: dict[str, ToolSpec]) -> tuple[str, str, dict[str, object]]:
    """``(thought, tool name, arguments)`` as SWE-agent's xml_function_calling parser reads them."""
    match = FN_PATTERN.search(reply)
    if not match:
        raise ScaffoldParseError("No function found in model response.")
    name = match.group(1).strip()
    name = SWE_AGENT_ALIASES.get(name, name)
    thought = (reply[: match.start()] + reply[match.end() :]).strip()
    if name not in tools:
        raise ScaffoldParseError(f"Command {name!r} not found in list of available commands.")
    params: dict[str, object] = {
        key: value.strip() for key, value in PARAM_PATTERN.findall(match.group(2))
    }
    if "view_range" in params:
        if not re.match(r"\[\d+,\s*\d+\]", str(params["view_range"])):
            raise ScaffoldParseError(
                f"view_range must be [<start>, <end>], got {params['view_range']}"
            )
        params["view_range"] = json.loads(str(params["view_range"]))
    spec = tools[name]
    if missing := spec.required - params.keys():
        raise ScaffoldParseError(f"Required argument(s) missing: {sorted(missing)}")
    if extra := params.keys() - spec.allowed:
        raise ScaffoldParseError(f"Unexpected argument(s): {sorted(extra)}")
    return thought, name, params


def openhands_parse(reply: str, tools: dict[str, ToolSpec]) -> tuple[str, str, dict[str, object]]:
    """``(content, tool name, arguments)`` as OpenHands' non-function-calling converter reads them."""
    if reply.count("<function=") == 1 and "</function>" not in reply:
        reply = reply.rstrip() + "function>" if reply.endswith("</") else reply + "\n</function>"
    match = FN_PATTERN.search(reply)
    if not match:
        raise ScaffoldParseError("no function call")
    name = match.group(1)
    if name not in tools:
        raise ScaffoldParseError(f"Function {name!r} not found in available tools")
    spec, params = tools[name], {}
    for key, value in PARAM_PATTERN.findall(match.group(2)):
        if spec.allowed and key not in spec.allowed:
            raise ScaffoldParseError(f"Parameter {key!r} is not allowed for function {name!r}")
        kind = spec.types.get(key, "string")
        try:
            params[key] = (
                int(value) if kind == "integer" else json.loads(value) if kind == "array" else value
            )
        except ValueError as exc:
            raise ScaffoldParseError(f"Parameter {key!r} is expected to be {kind}") from exc
        if key in spec.enums and params[key] not in spec.enums[key]:
            raise ScaffoldParseError(
                f"Parameter {key!r} is expected to be one of {spec.enums[key]}"
            )
    if missing := spec.required - params.keys():
        raise ScaffoldParseError(f"Missing required parameters for function {name!r}: {missing}")
    return reply.split("<function=")[0].strip(), name, params

"""The format check: split a completion into its inner monologue and its action, or say why not.

SRL rewards only the action (the text after ``</think>``) and gives a fixed penalty when the
output does not follow the format, so this parser decides which rollouts are scored at all. It
is strict by default because a lenient parser silently rewards malformed outputs, and GRPO then
teaches the model to produce them.

Strict rules (``lenient=False``):

1. Leading white space is allowed; any other text before ``<think>`` fails.
2. Exactly one ``<think>`` and one ``</think>``; a second ``<think>`` inside the block is
   *nested*, one after it is *duplicated*; a ``<think>`` without ``</think>`` is *unclosed*.
   The monologue may be empty (thinking is optional in the paper).
3. The action is the text after ``</think>``, stripped, and must not be empty. One optional
   ``<solution>...</solution>`` wrapper around the whole action is removed; a partial,
   repeated or unclosed wrapper fails.
4. End-of-turn special tokens left at the very end by decoding with
   ``skip_special_tokens=False`` (``<|im_end|>``, ``<|endoftext|>``, ``</s>`` ...) are removed;
   a special token anywhere else fails, as does a NUL byte (neither occurs in honest text).

Lenient mode (``lenient=True``) is for chat templates that put ``<think>`` into the *prompt*
(Qwen3, DeepSeek-R1 style), so the completion starts inside the block: the opening tag may be
omitted (everything before the only ``</think>`` is the monologue), the text is cut at the
first end-of-turn token (the model ran on into a new turn), and other stray special tokens are
deleted instead of failing. Everything else stays strict.

Continuation rules (:func:`parse_continuation`, for step instances of the ``continuation``
layout, whose prompt already opened the model's own answer with the expert's earlier steps): the
model may think first (an optional leading ``<think>...</think>``; unclosed or nested fails)
and then writes its next step and, being in the middle of its own answer, usually more. The
action is that first step: the text up to the next line that starts another step (a step number
such as ``4.`` or a new ``<think>``). A think tag left inside the action fails, as do the
special-token and ``<solution>`` rules above; the rest of the answer is never scored.

Completions may be plain strings or TRL's conversational form (a list of message dicts); a
message's ``reasoning_content`` (set by templates that move the think block out of
``content``) becomes the monologue.

>>> parse_completion("<think>add them</think> 2 + 3 = 5").action
'2 + 3 = 5'
>>> parse_completion("2 + 3 = 5").reason
'missing <think> block'
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

THINK_OPEN = "<think>"
THINK_CLOSE = "</think>"
SOLUTION_OPEN = "<solution>"
SOLUTION_CLOSE = "</solution>"

# ChatML/Qwen ``<|im_end|>``, Llama-3 ``<|eot_id|>``, DeepSeek's full-width ``<｜end▁of▁sentence｜>``.
# Bounded repetition keeps the scan linear on adversarial input. SentencePiece's ``</s>`` is only
# removed at the end: inside an action it may be an HTML strikethrough tag in an agent's edit.
_SPECIAL_TOKEN_RE = re.compile(r"<\|[^<>|\s]{1,64}\|>|<｜[^<>｜\s]{1,64}｜>")
# End-of-turn tokens: in lenient mode everything from the first one on is dropped (the model
# ran on into a new turn that the decoder did not stop).
_END_OF_TURN_RE = re.compile(
    r"<\|(?:im_end|endoftext|eot_id|eom_id|end_of_text)\|>|<｜end▁of▁sentence｜>"
)
_REVERSED_TRAILING_RE = re.compile(r"(?:\s*(?:>\|[^<>|\s]{1,64}\|<|>｜[^<>｜\s]{1,64}｜<|>s/<))*")


@dataclass(frozen=True)
class ParsedCompletion:
    """The result of the format check.

    ``ok`` is False exactly when ``reason`` says why; ``monologue`` and ``action`` are then
    whatever could be recovered (possibly empty) and must not be rewarded.
    """

    ok: bool
    monologue: str
    action: str
    reason: str | None = None


def _fail(reason: str, monologue: str = "", action: str = "") -> ParsedCompletion:
    return ParsedCompletion(False, monologue, action, reason)


def completion_text(completion: Any) -> str:
    """The text of a completion, whether a string or TRL's list of messages.

    For a conversational completion the assistant messages' contents are joined; a message's
    ``reasoning_content`` is put back in front of its content as a ``<think>`` block, so both
    chat-template styles reach the same parser. Raises ``TypeError`` for anything else.
    """
    if isinstance(completion, str):
        return completion
    if isinstance(completion, Mapping):
        completion = [completion]
    if isinstance(completion, Sequence) and all(isinstance(m, Mapping) for m in completion):
        parts = []
        for message in completion:
            if message.get("role", "assistant") != "assistant":
                continue
            reasoning = message.get("reasoning_content")
            content = message.get("content") or ""
            if not isinstance(content, str):
                content = _content_parts_text(content)
            if isinstance(reasoning, str) and reasoning.strip():
                content = f"{THINK_OPEN}{reasoning}{THINK_CLOSE}{content}"
            parts.append(content)
        return "".join(parts)
    raise TypeError(
        f"completion must be a str or a list of message dicts, got {type(completion).__name__}"
    )


def _content_parts_text(content: Any) -> str:
    """Text of an OpenAI-style content list (``[{"type": "text", "text": ...}]``)."""
    if isinstance(content, Sequence):
        return "".join(
            part.get("text", "")
            for part in content
            if isinstance(part, Mapping) and isinstance(part.get("text"), str)
        )
    return str(content)


def _strip_trailing_special_tokens(text: str) -> str:
    """Remove end-of-turn tokens (and the white space between them) from the end only.

    Matches the reversed text from its start, so the scan is one linear pass even over a
    megabyte of stacked tokens (an end-anchored search would retry from every position).
    """
    run = _REVERSED_TRAILING_RE.match(text[::-1])
    return text[: len(text) - run.end()].rstrip()


def _split_think(text: str, lenient: bool) -> tuple[ParsedCompletion | None, str, str]:
    """Find the one think block; returns (failure or None, monologue, rest after ``</think>``)."""
    n_open = text.count(THINK_OPEN)
    n_close = text.count(THINK_CLOSE)
    first_open = text.find(THINK_OPEN)
    first_close = text.find(THINK_CLOSE)
    if n_open == 0 and n_close == 0:
        return _fail("missing <think> block", action=text.strip()), "", ""
    if n_open == 0:
        if not lenient:
            return _fail("missing <think> (found </think> only)"), "", ""
        if n_close > 1:
            return _fail("duplicated </think>"), "", ""
        return None, text[:first_close], text[first_close + len(THINK_CLOSE) :]
    if text[:first_open].strip():
        return _fail("text before <think>"), "", ""
    if n_close == 0:
        return _fail("unclosed <think>", monologue=text[first_open + len(THINK_OPEN) :]), "", ""
    if n_open > 1:
        second_open = text.find(THINK_OPEN, first_open + len(THINK_OPEN))
        return (
            _fail("nested <think>" if second_open < first_close else "duplicated <think>"),
            "",
            "",
        )
    if first_close < first_open:
        return _fail("</think> before <think>"), "", ""
    if n_close > 1:
        return _fail("duplicated </think>"), "", ""
    return (
        None,
        text[first_open + len(THINK_OPEN) : first_close],
        text[first_close + len(THINK_CLOSE) :],
    )


def _unwrap_solution(action: str) -> tuple[str | None, str]:
    """Remove one ``<solution>`` wrapper around the whole action; (failure reason or None, action)."""
    n_open = action.count(SOLUTION_OPEN)
    n_close = action.count(SOLUTION_CLOSE)
    if n_open == 0 and n_close == 0:
        return None, action
    if n_open > 1 or n_close > 1:
        return "duplicated <solution> tag", action
    if n_close == 0:
        return "unclosed <solution>", action
    if n_open == 0:
        return "</solution> without <solution>", action
    if not action.startswith(SOLUTION_OPEN):
        return "text before <solution>", action
    if not action.endswith(SOLUTION_CLOSE):
        return "text after </solution>", action
    return None, action[len(SOLUTION_OPEN) : -len(SOLUTION_CLOSE)].strip()


def _output_text(completion: Any, lenient: bool) -> tuple[ParsedCompletion | None, str]:
    """The completion's text with trailing end-of-turn tokens removed (rule 4), or a failure.

    Lenient mode cuts at the first end-of-turn token and deletes other special tokens.
    """
    try:
        text = completion_text(completion)
    except TypeError as err:
        return _fail(str(err)), ""
    if "\x00" in text:
        return _fail("NUL byte in output"), ""
    text = _strip_trailing_special_tokens(text)
    if lenient:
        end = _END_OF_TURN_RE.search(text)
        return None, _SPECIAL_TOKEN_RE.sub("", text if end is None else text[: end.start()])
    if _SPECIAL_TOKEN_RE.search(text):
        return _fail("special token inside output"), ""
    return None, text


def parse_completion(completion: Any, lenient: bool = False) -> ParsedCompletion:
    """Split ``completion`` into monologue and action; never raises on any model output.

    ``completion`` is a string or TRL's conversational form. See the module docstring for the
    exact rules of the strict and lenient modes.
    """
    failure, text = _output_text(completion, lenient)
    if failure is not None:
        return failure
    failure, monologue, rest = _split_think(text, lenient)
    if failure is not None:
        return failure
    reason, action = _unwrap_solution(rest.strip())
    if reason is not None:
        return _fail(reason, monologue=monologue, action=action)
    if not action:
        return _fail("empty action", monologue=monologue)
    return ParsedCompletion(True, monologue, action, None)


# Where the next step of an answer begins: a line opening with a step number or a think block.
_NEXT_STEP_RE = re.compile(r"\n[ \t]*(?:\d+\.\s|<think>)")


def parse_continuation(completion: Any, lenient: bool = False) -> ParsedCompletion:
    """The first step a model writes when it continues its own answer; never raises.

    See the module docstring ("Continuation rules"). ``lenient`` cuts the text at the first
    end-of-turn token and deletes other special tokens, as in :func:`parse_completion`.

    >>> parse_continuation("3. **Add 2** 5 + 2 = 7\\n4. **Double** 7 * 2 = 14").action
    '3. **Add 2** 5 + 2 = 7'
    >>> parse_continuation("<think>add</think>\\n3. **Add 2** 5 + 2 = 7").monologue
    'add'
    """
    failure, text = _output_text(completion, lenient)
    if failure is not None:
        return failure
    text = text.lstrip()
    monologue = ""
    if text.startswith(THINK_OPEN):
        close = text.find(THINK_CLOSE)
        if close < 0:
            return _fail("unclosed <think>", monologue=text[len(THINK_OPEN) :])
        monologue = text[len(THINK_OPEN) : close]
        if THINK_OPEN in monologue:
            return _fail("nested <think>")
        text = text[close + len(THINK_CLOSE) :].lstrip()
    boundary = _NEXT_STEP_RE.search(text)
    action = (text if boundary is None else text[: boundary.start()]).strip()
    if THINK_OPEN in action or THINK_CLOSE in action:
        return _fail("think tag inside the step", monologue=monologue, action=action)
    reason, action = _unwrap_solution(action)
    if reason is not None:
        return _fail(reason, monologue=monologue, action=action)
    if not action:
        return _fail("empty action", monologue=monologue)
    return ParsedCompletion(True, monologue, action, None)


def parse_step(
    completion: Any, continuation: bool = False, lenient: bool = False
) -> ParsedCompletion:
    """The format check of one SRL rollout: :func:`parse_continuation` for an instance whose
    prompt opened the model's answer, else :func:`parse_completion`."""
    if continuation:
        return parse_continuation(completion, lenient=lenient)
    return parse_completion(completion, lenient=lenient)


def format_reward(completions: Sequence[Any], lenient: bool = False, **kwargs: Any) -> list[float]:
    """TRL reward function: 1.0 when a completion passes the format check, else 0.0."""
    return [1.0 if parse_completion(c, lenient=lenient).ok else 0.0 for c in completions]

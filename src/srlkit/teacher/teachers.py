"""Teachers: who writes the solutions. An OpenAI-compatible endpoint, or a local model.

One option, ``--teacher``, names the teacher: a base URL (``http://localhost:8000/v1``,
``https://api.openai.com/v1``, Gemini's OpenAI-compatible endpoint, a vLLM or SGLang server)
is asked through the official ``openai`` client; anything else is a local model path or hub
id, run with Hugging Face ``generate`` (so the student itself can bootstrap data) or vLLM
offline. Both answer the same question: chat messages in, one :class:`Reply` out.

An endpoint is asked one request per call, many calls in flight (:mod:`srlkit.teacher.client`
runs them); a local model is asked a batch per call. ``identity`` is what the cache key is made
of: endpoint and model, never the API key.
"""

from __future__ import annotations

import logging
import math
import os
import random
import time
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from srlkit.evaluation.backends import SamplingSettings
from srlkit.redact import redact_text, redact_url

logger = logging.getLogger(__name__)

FINISH_STOP = "stop"
FINISH_LENGTH = "length"


class TeacherError(RuntimeError):
    """A failure that no retry can fix (bad key, unknown model): the whole run stops."""


def sampling_identity(sampling: SamplingSettings) -> dict[str, Any]:
    """The sampling part of every cache key.

    The keys and values are those of the teacher's former ``Sampling`` class (merged into
    evaluation's :class:`~srlkit.evaluation.backends.SamplingSettings`), so caches written
    before the merge still match. ``top_k`` is not in it: an endpoint has no such parameter and
    the teacher always samples with ``top_k=0``.
    """
    return {
        "temperature": sampling.temperature,
        "top_p": sampling.top_p,
        "max_tokens": sampling.max_new_tokens,
        "seed": sampling.seed,
    }


@dataclass
class Request:
    """One question to the teacher: sample ``sample`` of record ``record_id``."""

    key: str
    record_id: str
    sample: int
    messages: list[dict[str, str]]


@dataclass
class Reply:
    """The teacher's answer, or ``error`` (a short reason) when none could be had."""

    text: str = ""
    finish_reason: str = FINISH_STOP
    prompt_tokens: int = 0
    completion_tokens: int = 0
    attempts: int = 1
    error: str | None = None
    retries: dict[str, int] = field(default_factory=dict)


class Teacher(Protocol):
    """Chat messages in, replies out; ``batched`` teachers take many requests per call."""

    identity: dict[str, Any]
    batched: bool
    batch_size: int

    def complete(self, requests: list[Request], sampling: SamplingSettings) -> list[Reply]: ...


def is_endpoint(spec: str) -> bool:
    """``--teacher`` names an HTTP endpoint (else a local model)."""
    return spec.startswith(("http://", "https://"))


def teacher_identity(spec: str, model: str = "", backend: str = "hf") -> dict[str, Any]:
    """What identifies a teacher in cache keys and metadata: endpoint and model, never a key.

    Known without building the teacher, so a fully cached rerun loads no model.
    """
    if is_endpoint(spec):
        return {"teacher": "openai", "base_url": redact_url(spec.rstrip("/")), "model": model}
    return {"teacher": f"local-{backend}", "model": spec}


@dataclass(frozen=True)
class RetryPolicy:
    """Retries with exponential back-off and jitter; a server's ``Retry-After`` wins when given."""

    max_retries: int = 6
    backoff_s: float = 1.0
    max_backoff_s: float = 60.0

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        if retry_after is not None and retry_after >= 0:
            return min(retry_after, self.max_backoff_s)
        base = min(self.backoff_s * (2**attempt), self.max_backoff_s)
        return base * (0.5 + random.random() / 2)


def _retry_after(exc: Any) -> float | None:
    response = getattr(exc, "response", None)
    value = response.headers.get("retry-after") if response is not None else None
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


class OpenAITeacher:
    """Any OpenAI-compatible chat-completions endpoint, through the official ``openai`` client.

    The client's own retries are off: ours count every retry by reason (``rate_limited``,
    ``server_error``, ``timeout``, ``connection``, ``malformed``) for the stats file.
    Authentication and unknown-model errors raise :class:`TeacherError` (retrying cannot help);
    a request the server rejects (400, e.g. too long for its context) is that request's failure.
    """

    batched = False
    batch_size = 1

    def __init__(
        self,
        base_url: str,
        model: str,
        api_key_env: str = "OPENAI_API_KEY",
        timeout_s: float = 600.0,
        retry: RetryPolicy | None = None,
    ):
        try:
            import openai
        except ImportError as exc:
            raise ImportError(
                "an endpoint teacher needs the openai package: pip install 'srlkit[teacher]'"
            ) from exc
        if not model:
            raise ValueError("an endpoint teacher needs a model name (--teacher_model)")
        self._openai = openai
        # Local servers (vLLM, SGLang) accept any key; hosted APIs need the variable set.
        key = os.environ.get(api_key_env) or "EMPTY"
        self._secrets = (key,) if key != "EMPTY" else ()  # redacted from what we print
        # A pool of 1,000 connections (the openai default) exceeds any concurrency we run at;
        # the client is thread-safe, so one serves every worker thread. Its transport stops a
        # response body at the request's deadline (srlkit.teacher.deadline).
        from srlkit.teacher.deadline import http_client

        self.client = openai.OpenAI(
            base_url=base_url,
            api_key=key,
            timeout=timeout_s,
            max_retries=0,
            http_client=http_client(openai, timeout_s),
        )
        self.timeout_s = timeout_s
        self.retry = retry or RetryPolicy()
        self.identity = teacher_identity(base_url, model)
        self.model = model

    def complete(self, requests: list[Request], sampling: SamplingSettings) -> list[Reply]:
        return [self._one(r, sampling) for r in requests]

    def _one(self, request: Request, sampling: SamplingSettings) -> Reply:
        from srlkit.teacher.deadline import DeadlineExceeded, call_with_deadline

        oa = self._openai
        retries: dict[str, int] = {}
        for attempt in range(self.retry.max_retries + 1):
            reason, wait_hint = None, None
            try:
                reply = call_with_deadline(lambda: self._ask(request, sampling), self.timeout_s)
            except (oa.AuthenticationError, oa.PermissionDeniedError, oa.NotFoundError) as exc:
                raise TeacherError(
                    f"the teacher endpoint refused us: {_short(exc, self._secrets)}"
                ) from None
            except oa.RateLimitError as exc:
                reason, wait_hint = "rate_limited", _retry_after(exc)
            except (oa.APITimeoutError, DeadlineExceeded):
                reason = "timeout"
            except oa.APIConnectionError:
                reason = "connection"
            except oa.InternalServerError:
                reason = "server_error"
            except oa.APIStatusError as exc:
                if exc.status_code < 500 and exc.status_code not in (408, 409):
                    return Reply(
                        error=f"rejected ({exc.status_code})", attempts=attempt + 1, retries=retries
                    )
                reason = "server_error"
            except (
                oa.APIResponseValidationError,
                ValueError,
                TypeError,
                AttributeError,
                LookupError,
            ):
                reason = "malformed"
            else:
                if reply is not None:
                    reply.attempts, reply.retries = attempt + 1, retries
                    return reply
                reason = "malformed"
            retries[reason] = retries.get(reason, 0) + 1
            if attempt < self.retry.max_retries:
                delay = self.retry.delay(attempt, wait_hint)
                logger.debug("request %s: %s, retry in %.2fs", request.key, reason, delay)
                time.sleep(delay)
        return Reply(
            error=f"gave up after {self.retry.max_retries + 1} attempts ({reason})",
            attempts=self.retry.max_retries + 1,
            retries=retries,
        )

    def _ask(self, request: Request, sampling: SamplingSettings) -> Reply | None:
        """One HTTP request; None when the reply has no usable message (counted as malformed)."""
        resp = self.client.chat.completions.create(
            model=self.model,
            messages=request.messages,
            temperature=sampling.temperature,
            top_p=sampling.top_p,
            max_tokens=sampling.max_new_tokens,
            seed=sampling.seed + request.sample,
        )
        # The client validates loosely: choices may be a dict, a message a string. Anything but
        # a list whose first choice holds a text message is malformed (retried, then counted).
        choices = getattr(resp, "choices", None)
        first = choices[0] if isinstance(choices, list) and choices else None
        message = getattr(first, "message", None)
        if not isinstance(getattr(message, "content", None), str):
            return None
        usage = getattr(resp, "usage", None)
        finish = getattr(first, "finish_reason", None) or FINISH_STOP
        return Reply(
            text=message.content,
            finish_reason=FINISH_LENGTH if finish == "length" else FINISH_STOP,
            prompt_tokens=token_count(getattr(usage, "prompt_tokens", 0)),
            completion_tokens=token_count(getattr(usage, "completion_tokens", 0)),
        )


MAX_TOKEN_COUNT = 2**53
"""Token counts a server reports above this (or negative, NaN, infinite, not numbers) are
read as 0: they are a broken server's, and would not survive JSON (orjson's integers stop at
2^64, floats at 2^53 exactly)."""


def token_count(value: Any) -> int:
    """A server's token count as a plain int; anything unusable is 0 (never an error).

    >>> token_count(12), token_count(float("inf")), token_count(1e30), token_count("7")
    (12, 0, 0, 0)
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return 0
    if isinstance(value, float) and not math.isfinite(value):
        return 0
    return int(value) if 0 <= value <= MAX_TOKEN_COUNT else 0


def _short(exc: Exception, secrets: tuple[str, ...] = ()) -> str:
    """An exception's first line, with every credential it could echo redacted."""
    status = getattr(exc, "status_code", None)
    text = str(exc).splitlines()[0][:300] if str(exc) else type(exc).__name__
    text = redact_text(text, secrets)[:200]
    return f"{status} {text}" if status else text


class LocalTeacher:
    """A local model (path or hub id) through srlkit's evaluation backends (HF or vLLM).

    The chat template of the model renders the messages, so a student checkpoint can be its own
    teacher: sample solutions, keep those that verify. Sample ``i`` of a record is drawn with
    seed ``seed + i`` by HF; vLLM draws with one engine seed.
    """

    batched = True

    def __init__(
        self,
        model: str,
        backend: str = "hf",
        batch_size: int = 8,
        device: str = "auto",
        dtype: str = "auto",
        **vllm_kwargs: Any,
    ):
        from srlkit.evaluation.backends import load_backend

        self.backend = load_backend(
            backend, model, batch_size=batch_size, device=device, dtype=dtype, **vllm_kwargs
        )
        self.batch_size = self.backend.chunk_size
        self.identity = teacher_identity(model, backend=backend)

    def complete(self, requests: list[Request], sampling: SamplingSettings) -> list[Reply]:
        tok = self.backend.tokenizer
        prompts = [
            tok.apply_chat_template(r.messages, tokenize=False, add_generation_prompt=True)
            for r in requests
        ]
        settings = replace(sampling, seed=sampling.seed + requests[0].sample)
        gens = self.backend.generate(prompts, settings)
        return [
            Reply(
                text=g.text,
                finish_reason=FINISH_LENGTH if g.finish_reason == "length" else FINISH_STOP,
                prompt_tokens=len(tok(p, add_special_tokens=False)["input_ids"]),
                completion_tokens=g.num_tokens,
            )
            for p, g in zip(prompts, gens)
        ]

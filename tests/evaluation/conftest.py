"""Evaluation test fixtures: a model-free backend with scripted answers (no torch)."""

from __future__ import annotations

from collections import Counter

import pytest

from srlkit.evaluation.backends import FINISH_STOP, Generation, SamplingSettings


class PlainTokenizer:
    """No chat template: prompts are the plain problem text (what a base model gets)."""

    chat_template = None


class ScriptedBackend:
    """Answers each prompt from a script: ``script(prompt, call_number, settings) -> text``.

    ``call_number`` counts earlier calls for the same prompt and mode, so the i-th sample of a
    problem can be made right or wrong. ``fail_after`` raises after that many chunks, like a
    run killed in the middle.
    """

    name = "scripted"

    def __init__(self, script, chunk_size: int = 4, fail_after: int | None = None):
        self.script = script
        self.chunk_size = chunk_size
        self.tokenizer = PlainTokenizer()
        self.fail_after = fail_after
        self.calls = Counter()
        self.chunks = 0
        self.generated = 0

    def generate(self, prompts: list[str], settings: SamplingSettings) -> list[Generation]:
        if self.fail_after is not None and self.chunks >= self.fail_after:
            raise KeyboardInterrupt("simulated kill")
        self.chunks += 1
        out = []
        for prompt in prompts:
            mode = "greedy" if settings.greedy else "sample"
            text = self.script(prompt, self.calls[(prompt, mode)], settings)
            self.calls[(prompt, mode)] += 1
            out.append(Generation(text, len(text.split()) + 1, FINISH_STOP))
        self.generated += len(prompts)
        return out


@pytest.fixture
def scripted():
    """The :class:`ScriptedBackend` class, to build backends with a per-test script."""
    return ScriptedBackend

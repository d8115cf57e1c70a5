"""The options of ``srl data build`` as one flat dataclass: YAML recipe keys = flags = fields.

The library's :class:`~srlkit.data.build.BuildConfig` groups its options by the stage that
reads them (:class:`~srlkit.data.loaders.LoaderOptions`,
:class:`~srlkit.data.instances.InstanceOptions`); a user writes them flat. Defaults and help
texts are read from those classes (:func:`_same_as`), never restated, so the command line and
the library cannot drift apart.
"""

from __future__ import annotations

import re
from dataclasses import MISSING, dataclass, field, fields
from typing import Any

from srlkit.data.build import BuildConfig
from srlkit.data.instances import LAYOUTS, InstanceOptions
from srlkit.data.loaders import ALIASES, FORMAT_NAMES, LoaderOptions
from srlkit.data.prompts import read_system_prompt
from srlkit.data.segment import METHODS


def _same_as(cls: type, name: str, help_text: str | None = None, **metadata: Any) -> Any:
    """A field with the default and the help of ``cls.name``, the stage option it sets."""
    source = {f.name: f for f in fields(cls)}[name]
    meta = {**source.metadata, **metadata, **({"help": help_text} if help_text else {})}
    if source.default_factory is not MISSING:  # type: ignore[misc]
        return field(default_factory=source.default_factory, metadata=meta)  # type: ignore[misc]
    return field(default=source.default, metadata=meta)


def _help(cls: type, name: str) -> str:
    return {f.name: f for f in fields(cls)}[name].metadata["help"]


_INSTANCES = InstanceOptions()
_BUILD = BuildConfig()


@dataclass
class BuildArguments:
    """``srl data build INPUT... --out DIR [options]``."""

    inputs: list[str] = field(
        default_factory=list,
        metadata={
            "help": "trajectory files (.jsonl/.json/.traj), folders of them, or hub dataset ids "
            "ORG/NAME[:CONFIG][@SPLIT] (positional)"
        },
    )
    out: str | None = field(default=None, metadata={"help": "output folder (required)"})
    format: str | None = field(
        default=None,
        metadata={
            "help": f"input format, one of: {', '.join(FORMAT_NAMES)} (aliases: "
            f"{', '.join(ALIASES)}); default: detected per file"
        },
    )
    problem_field: str | None = _same_as(LoaderOptions, "problem_field")
    solution_field: str | None = _same_as(LoaderOptions, "solution_field")
    answer_field: str | None = _same_as(LoaderOptions, "answer_field")
    segment: str = _same_as(
        LoaderOptions, "segment", f"{_help(LoaderOptions, 'segment')}, one of {', '.join(METHODS)}"
    )
    step_regex: str | None = _same_as(LoaderOptions, "step_regex")
    title_hint: bool = _same_as(InstanceOptions, "title_hint")
    layout: str = _same_as(InstanceOptions, "layout")
    answer_opening: str = _same_as(InstanceOptions, "answer_opening")
    math_system_prompt: str | None = field(
        default=None, metadata={"help": "file with the math system prompt (default: packaged)"}
    )
    # The two below are written differently on the command line ('all', 0) than in the library (None).
    history_rounds: str = field(
        default=str(_INSTANCES.history_rounds),
        metadata={"help": _help(InstanceOptions, "history_rounds").replace("None", "'all'")},
    )
    max_observation_chars: int = field(
        default=_INSTANCES.max_observation_chars,
        metadata={"help": _help(InstanceOptions, "max_observation_chars").replace("None", "0")},
    )
    agent_system_prompt: str | None = field(
        default=None, metadata={"help": "file with the agent system prompt (default: packaged)"}
    )
    include_source_system: bool = _same_as(InstanceOptions, "include_source_system")
    targets: str = _same_as(InstanceOptions, "targets")
    min_steps: int = _same_as(LoaderOptions, "min_steps")
    max_prompt_tokens: int | None = _same_as(InstanceOptions, "max_prompt_tokens")
    tokenizer: str | None = _same_as(BuildConfig, "tokenizer")
    validation_size: int | None = _same_as(BuildConfig, "validation_size")
    max_validation_fraction: float = _same_as(BuildConfig, "max_validation_fraction")
    seed: int = _same_as(BuildConfig, "seed")
    dedup: bool = _same_as(BuildConfig, "dedup")
    skip_invalid: bool = _same_as(BuildConfig, "skip_invalid")
    max_record_mb: float = field(
        default=_BUILD.max_record_bytes / (1024 * 1024),
        metadata={"help": "records larger than this many MB are an error"},
    )
    parquet: bool = _same_as(BuildConfig, "parquet")

    def __post_init__(self) -> None:
        if self.layout not in LAYOUTS:
            raise ValueError(f"--layout must be one of {', '.join(LAYOUTS)}, got {self.layout!r}")
        if self.history_rounds != "all":
            try:
                int(self.history_rounds)
            except ValueError:
                raise ValueError(
                    f"history_rounds must be a number or 'all', got {self.history_rounds!r}"
                ) from None
        if self.segment == "regex" and not self.step_regex:
            raise ValueError("--segment regex needs --step_regex PATTERN")
        if self.step_regex:
            try:
                re.compile(self.step_regex)
            except re.error as exc:
                raise ValueError(f"--step_regex is not a valid regular expression: {exc}") from None
        if self.max_prompt_tokens and not self.tokenizer:
            raise ValueError("--max_prompt_tokens needs --tokenizer (a model id or path)")
        if self.format is not None and self.format not in FORMAT_NAMES + tuple(ALIASES):
            raise ValueError(f"--format must be one of {', '.join(FORMAT_NAMES)}")

    def to_config(self) -> BuildConfig:
        """The library's :class:`BuildConfig` (system prompt files are read here)."""
        loader = LoaderOptions(
            problem_field=self.problem_field,
            solution_field=self.solution_field,
            answer_field=self.answer_field,
            segment="regex" if self.step_regex else self.segment,
            step_regex=self.step_regex,
            min_steps=self.min_steps,
        )
        instances = InstanceOptions(
            targets=self.targets,
            title_hint=self.title_hint,
            layout=self.layout,
            answer_opening=self.answer_opening,
            history_rounds=None if self.history_rounds == "all" else int(self.history_rounds),
            max_observation_chars=self.max_observation_chars or None,
            math_system_prompt=_prompt(self.math_system_prompt),
            agent_system_prompt=_prompt(self.agent_system_prompt),
            include_source_system=self.include_source_system,
            max_prompt_tokens=self.max_prompt_tokens,
        )
        return BuildConfig(
            format=self.format,
            loader=loader,
            instances=instances,
            validation_size=self.validation_size,
            max_validation_fraction=self.max_validation_fraction,
            seed=self.seed,
            dedup=self.dedup,
            skip_invalid=self.skip_invalid,
            parquet=self.parquet,
            tokenizer=self.tokenizer,
            max_record_bytes=int(self.max_record_mb * 1024 * 1024),
        )


def _prompt(path: str | None) -> str | None:
    return read_system_prompt(path) if path else None

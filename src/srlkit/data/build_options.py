"""The options of ``srl data build`` as one flat dataclass: YAML recipe keys = flags = fields.

The library's :class:`~srlkit.data.build.BuildConfig` groups its options by the stage that
reads them (:class:`~srlkit.data.loaders.LoaderOptions`,
:class:`~srlkit.data.instances.InstanceOptions`); a user writes them flat. Defaults are read
from those classes, never restated, so the command line and the library cannot drift apart.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from srlkit.data.build import BuildConfig
from srlkit.data.instances import LAYOUTS, InstanceOptions
from srlkit.data.loaders import ALIASES, FORMAT_NAMES, LoaderOptions
from srlkit.data.prompts import read_system_prompt
from srlkit.data.segment import METHODS

_LOADER = LoaderOptions()
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
    problem_field: str | None = field(
        default=_LOADER.problem_field,
        metadata={"help": "math: field holding the problem (default: problem/question/prompt/...)"},
    )
    solution_field: str | None = field(
        default=_LOADER.solution_field,
        metadata={"help": "math: field holding the solution (default: deepseek_attempt/...)"},
    )
    answer_field: str | None = field(
        default=_LOADER.answer_field,
        metadata={
            "help": "math: field holding the final answer (default: answer/final_answer/...)"
        },
    )
    segment: str = field(
        default=_LOADER.segment,
        metadata={"help": f"math: how solutions are cut into steps, one of {', '.join(METHODS)}"},
    )
    step_regex: str | None = field(
        default=_LOADER.step_regex,
        metadata={
            "help": "math: pattern matching where each step starts (group 'title' optional); "
            "implies --segment regex"
        },
    )
    title_hint: bool = field(
        default=_INSTANCES.title_hint,
        metadata={"help": "math: put the next step's title in the context; target = its body"},
    )
    layout: str = field(
        default=_INSTANCES.layout,
        metadata={
            "help": "math: 'paper' (problem and earlier steps in a user turn) or 'continuation' "
            "(the solve prompt of srl eval, the model's answer opened with the earlier steps)"
        },
    )
    answer_opening: str = field(
        default=_INSTANCES.answer_opening,
        metadata={"help": "continuation: text the model's answer starts with before the steps"},
    )
    math_system_prompt: str | None = field(
        default=None, metadata={"help": "file with the math system prompt (default: packaged)"}
    )
    history_rounds: str = field(
        default=str(_INSTANCES.history_rounds),
        metadata={"help": "agents: (action, observation) rounds kept in context, or 'all'"},
    )
    max_observation_chars: int = field(
        default=_INSTANCES.max_observation_chars,
        metadata={"help": "agents: longer observations are cut in the middle (0 = never)"},
    )
    agent_system_prompt: str | None = field(
        default=None, metadata={"help": "file with the agent system prompt (default: packaged)"}
    )
    include_source_system: bool = field(
        default=_INSTANCES.include_source_system,
        metadata={"help": "agents: append the trajectory's own system prompt (tool docs)"},
    )
    targets: str = field(
        default=_INSTANCES.targets,
        metadata={"help": "'all' steps are targets, or the paper's literal N-1 rule ('paper')"},
    )
    min_steps: int = field(
        default=_LOADER.min_steps,
        metadata={"help": "trajectories with fewer steps are dropped"},
    )
    max_prompt_tokens: int | None = field(
        default=_INSTANCES.max_prompt_tokens,
        metadata={"help": "drop instances whose prompt is longer (needs --tokenizer)"},
    )
    tokenizer: str | None = field(
        default=_BUILD.tokenizer,
        metadata={"help": "HF model id or path, for --max_prompt_tokens"},
    )
    validation_size: int | None = field(
        default=_BUILD.validation_size,
        metadata={"help": "trajectories held out (default: 60 math / 30 agent, as in the paper)"},
    )
    max_validation_fraction: float = field(
        default=_BUILD.max_validation_fraction,
        metadata={"help": "cap on the held-out share of kept trajectories"},
    )
    seed: int = field(default=_BUILD.seed, metadata={"help": "seed of the train/validation split"})
    dedup: bool = field(default=_BUILD.dedup, metadata={"help": "drop repeated trajectories"})
    skip_invalid: bool = field(
        default=_BUILD.skip_invalid,
        metadata={"help": "count and skip malformed records instead of stopping"},
    )
    max_record_mb: float = field(
        default=_BUILD.max_record_bytes / (1024 * 1024),
        metadata={"help": "records larger than this many MB are an error"},
    )
    parquet: bool = field(
        default=_BUILD.parquet, metadata={"help": "also write parquet (--no_parquet: JSONL only)"}
    )

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

"""Config dataclasses of ``srl data generate`` and ``srl data rewrite``.

One class is both the YAML schema (``--config recipe.yaml``) and the command-line flags
(``HfArgumentParser``), as in TRL; flags given on the command line win over the YAML file.
The API key is never a field: only the *name* of the environment variable that holds it.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

from srlkit.evaluation.backends import SamplingSettings
from srlkit.redact import redact_url
from srlkit.teacher.teachers import RetryPolicy, is_endpoint
from srlkit.teacher.verify import FilterOptions


@dataclass
class TeacherRunConfig:
    """Options shared by generate and rewrite."""

    inputs: list[str] = field(
        default_factory=list, metadata={"help": "problem/solution files (.jsonl / .json)"}
    )
    out: str = field(
        default="",
        metadata={
            "help": "output directory (trajectories.jsonl, rlvr.jsonl, stats.json, responses.jsonl)"
        },
    )
    teacher: str = field(
        default="",
        metadata={"help": "a base URL (OpenAI-compatible endpoint) or a local model path / hub id"},
    )
    teacher_model: str = field(
        default="", metadata={"help": "model name to ask at the endpoint (endpoint teachers)"}
    )
    api_key_env: str = field(
        default="OPENAI_API_KEY",
        metadata={"help": "environment variable holding the endpoint's API key"},
    )
    backend: str = field(
        default="hf", metadata={"help": "local teachers: 'hf' (transformers generate) or 'vllm'"}
    )
    prompt_file: str | None = field(
        default=None, metadata={"help": "text file replacing our prompt (same placeholders)"}
    )
    problem_field: str | None = field(
        default=None,
        metadata={
            "help": "field holding the problem (default: problem/question/prompt/task/query)"
        },
    )
    answer_field: str | None = field(
        default=None,
        metadata={
            "help": "field holding the gold answer (default: answer/final_answer/gold/ground_truth, "
            "else the solution's \\boxed{})"
        },
    )
    num_samples: int = field(default=1, metadata={"help": "solutions asked per problem"})
    temperature: float = field(default=0.7, metadata={"help": "teacher sampling temperature"})
    top_p: float = field(default=1.0, metadata={"help": "teacher nucleus sampling"})
    max_tokens: int = field(
        default=4096,
        metadata={
            "help": "longest teacher reply, in tokens (longer replies are dropped as truncated)"
        },
    )
    seed: int = field(
        default=0, metadata={"help": "sampling seed; sample i is asked with seed + i"}
    )
    concurrency: int = field(default=16, metadata={"help": "endpoint requests in flight at once"})
    max_retries: int = field(
        default=6,
        metadata={
            "help": "retries of a request on rate limits, server errors, timeouts, malformed replies"
        },
    )
    retry_backoff_s: float = field(
        default=1.0,
        metadata={"help": "first retry delay in seconds (doubles each retry, with jitter)"},
    )
    timeout_s: float = field(
        default=600.0, metadata={"help": "seconds before an endpoint request times out"}
    )
    batch_size: int = field(
        default=8, metadata={"help": "local teachers: sequences per generate call"}
    )
    device: str = field(
        default="auto", metadata={"help": "local HF teacher: cpu, cuda, ... (default auto)"}
    )
    dtype: str = field(
        default="auto", metadata={"help": "local teacher dtype (default: bf16 on GPU, fp32 on CPU)"}
    )
    min_steps: int = field(default=2, metadata={"help": "fewer numbered steps: dropped"})
    max_steps: int = field(default=40, metadata={"help": "more numbered steps: dropped"})
    max_chars: int = field(default=30000, metadata={"help": "longer replies (characters): dropped"})
    max_step_chars: int = field(
        default=6000, metadata={"help": "a longer step (characters): the reply is dropped"}
    )
    keep_uncheckable: bool = field(
        default=False,
        metadata={
            "help": "also ask, and keep, problems whose gold cannot be checked (proofs, prose)"
        },
    )
    dedup: bool = field(
        default=True, metadata={"help": "drop identical trajectories (--no_dedup keeps them)"}
    )
    golds_only: bool = field(
        default=False,
        metadata={
            "help": "ask no teacher: only classify the golds and write rlvr.jsonl + stats.json (verified RLVR data)"
        },
    )
    limit: int | None = field(default=None, metadata={"help": "use only the first N problems"})
    skip_invalid: bool = field(
        default=False,
        metadata={"help": "count and skip malformed input records instead of stopping"},
    )
    progress: bool = field(default=True, metadata={"help": "show a progress bar"})

    task = "generate"

    def validate(self) -> None:
        """Raise ValueError on options that cannot work together (the CLI reports it in one line)."""
        if not self.inputs:
            raise ValueError("give at least one input file (--inputs)")
        if not self.out:
            raise ValueError("give an output directory (--out)")
        if not self.teacher and not self.golds_only:
            raise ValueError("give a teacher (--teacher URL or model path), or --golds_only true")
        if is_endpoint(self.teacher) and not self.teacher_model:
            raise ValueError("an endpoint teacher needs --teacher_model (the model name to ask)")
        if self.backend not in ("hf", "vllm"):
            raise ValueError(f"--backend must be 'hf' or 'vllm', not {self.backend!r}")
        for name in ("num_samples", "concurrency", "batch_size", "max_tokens", "min_steps"):
            if getattr(self, name) < 1:
                raise ValueError(f"--{name} must be at least 1")
        if self.max_retries < 0:
            raise ValueError("--max_retries must be >= 0")
        # Checked here, not by the server: a request it rejects is retried as malformed.
        _check_number("timeout_s", self.timeout_s, low=0.0, low_open=True)
        _check_number("temperature", self.temperature, low=0.0)
        _check_number("top_p", self.top_p, low=0.0, high=1.0, low_open=True)
        _check_number("retry_backoff_s", self.retry_backoff_s, low=0.0)
        for name in ("max_steps", "max_chars", "max_step_chars"):
            if getattr(self, name) < 1:
                raise ValueError(f"--{name} must be at least 1")
        if self.max_steps < self.min_steps:
            raise ValueError(f"--max_steps {self.max_steps} is below --min_steps {self.min_steps}")

    def sampling(self) -> SamplingSettings:
        return SamplingSettings(
            temperature=self.temperature,
            top_p=self.top_p,
            max_new_tokens=self.max_tokens,
            seed=self.seed,
        )

    def retry(self) -> RetryPolicy:
        return RetryPolicy(self.max_retries, self.retry_backoff_s)

    def filters(self) -> FilterOptions:
        return FilterOptions(
            min_steps=self.min_steps,
            max_steps=self.max_steps,
            max_chars=self.max_chars,
            max_step_chars=self.max_step_chars,
            min_faithfulness=getattr(self, "min_faithfulness", 0.0),
        )

    def to_dict(self) -> dict[str, Any]:
        """The resolved config, as saved in stats.json: no secret (only the key's variable name,
        and the endpoint URL without user information or key parameters)."""
        out = asdict(self)
        out["teacher"] = redact_url(self.teacher)
        return out


def _check_number(
    name: str, value: float, low: float, high: float | None = None, low_open: bool = False
) -> None:
    """ValueError naming ``--name`` unless ``value`` is a finite number in range."""
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    ok = ok and (value > low if low_open else value >= low) and (high is None or value <= high)
    if not ok:
        bound = f"{'above' if low_open else 'at least'} {low:g}"
        bound += f" and at most {high:g}" if high is not None else ""
        raise ValueError(f"--{name} must be a finite number {bound}, not {value!r}")


@dataclass
class GenerateConfig(TeacherRunConfig):
    """``srl data generate``: problems with gold answers -> N teacher solutions per problem."""

    task = "generate"


@dataclass
class RewriteConfig(TeacherRunConfig):
    """``srl data rewrite``: existing solutions -> the same solutions as numbered steps."""

    solution_field: str | None = field(
        default=None,
        metadata={
            "help": "field holding the original solution (default: deepseek_attempt/attempt/solution/answer)"
        },
    )
    min_faithfulness: float = field(
        default=0.6,
        metadata={
            "help": "least share of the rewrite's math items found in the original (see docs/teacher.md)"
        },
    )

    task = "rewrite"

"""Config dataclasses of ``srl data generate`` and ``srl data rewrite``.

One class is both the YAML schema (``--config recipe.yaml``) and the command-line flags
(``HfArgumentParser``), as in TRL; flags given on the command line win over the YAML file.
The API key is never a field: only the *name* of the environment variable that holds it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from srlkit.teacher.teachers import RetryPolicy, Sampling, is_endpoint
from srlkit.teacher.verify import FilterOptions


def _help(text: str, **kw: Any) -> Any:
    return field(metadata={"help": text}, **kw)


@dataclass
class TeacherRunConfig:
    """Options shared by generate and rewrite."""

    inputs: list[str] = _help("problem/solution files (.jsonl / .json)", default_factory=list)
    out: str = _help("output directory (trajectories.jsonl, rlvr.jsonl, stats.json, responses.jsonl)", default="")
    teacher: str = _help("a base URL (OpenAI-compatible endpoint) or a local model path / hub id", default="")
    teacher_model: str = _help("model name to ask at the endpoint (endpoint teachers)", default="")
    api_key_env: str = _help("environment variable holding the endpoint's API key", default="OPENAI_API_KEY")
    backend: str = _help("local teachers: 'hf' (transformers generate) or 'vllm'", default="hf")
    prompt_file: str | None = _help("text file replacing our prompt (same placeholders)", default=None)
    problem_field: str | None = _help("field holding the problem (default: problem/question/prompt/task/query)", default=None)
    answer_field: str | None = _help("field holding the gold answer (default: answer/final_answer/gold/ground_truth, else the solution's \\boxed{})", default=None)
    num_samples: int = _help("solutions asked per problem", default=1)
    temperature: float = _help("teacher sampling temperature", default=0.7)
    top_p: float = _help("teacher nucleus sampling", default=1.0)
    max_tokens: int = _help("longest teacher reply, in tokens (longer replies are dropped as truncated)", default=4096)
    seed: int = _help("sampling seed; sample i is asked with seed + i", default=0)
    concurrency: int = _help("endpoint requests in flight at once", default=16)
    max_retries: int = _help("retries of a request on rate limits, server errors, timeouts, malformed replies", default=6)
    retry_backoff_s: float = _help("first retry delay in seconds (doubles each retry, with jitter)", default=1.0)
    timeout_s: float = _help("seconds before an endpoint request times out", default=600.0)
    batch_size: int = _help("local teachers: sequences per generate call", default=8)
    device: str = _help("local HF teacher: cpu, cuda, ... (default auto)", default="auto")
    dtype: str = _help("local teacher dtype (default: bf16 on GPU, fp32 on CPU)", default="auto")
    min_steps: int = _help("fewer numbered steps: dropped", default=2)
    max_steps: int = _help("more numbered steps: dropped", default=40)
    max_chars: int = _help("longer replies (characters): dropped", default=30000)
    max_step_chars: int = _help("a longer step (characters): the reply is dropped", default=6000)
    keep_uncheckable: bool = _help("also ask, and keep, problems whose gold cannot be checked (proofs, prose)", default=False)
    no_dedup: bool = _help("keep identical trajectories", default=False)
    golds_only: bool = _help("ask no teacher: only classify the golds and write rlvr.jsonl + stats.json (verified RLVR data)", default=False)
    limit: int | None = _help("use only the first N problems", default=None)
    skip_invalid: bool = _help("count and skip malformed input records instead of stopping", default=False)
    no_progress: bool = _help("no progress bar", default=False)

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

    def sampling(self) -> Sampling:
        return Sampling(self.temperature, self.top_p, self.max_tokens, self.seed)

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
        """The resolved config, as saved in stats.json (holds no secret: only the key's variable name)."""
        return asdict(self)


@dataclass
class GenerateConfig(TeacherRunConfig):
    """``srl data generate``: problems with gold answers -> N teacher solutions per problem."""

    task = "generate"


@dataclass
class RewriteConfig(TeacherRunConfig):
    """``srl data rewrite``: existing solutions -> the same solutions as numbered steps."""

    solution_field: str | None = _help("field holding the original solution (default: deepseek_attempt/attempt/solution/answer)", default=None)
    min_faithfulness: float = _help("least share of the rewrite's math items found in the original (see docs/teacher.md)", default=0.6)

    task = "rewrite"

"""Options of ``srl loop``: one dataclass, both the YAML recipe schema and the flags.

The loop is made of the toolkit's own commands, so most options are theirs under the same
names: sampling (``srl data generate``: ``num_samples``, ``temperature``, ``max_tokens``,
``backend``, ``batch_size``), instances (``srl data build``: ``layout``, ``answer_opening``,
``targets``, ``title_hint``), training (an ``srl train srl`` recipe, ``train_config``) and
evaluation (``srl eval``: ``eval_benchmarks``; ``srl eval-steps``: ``eval_steps_data``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from srlkit.data.instances import LAYOUTS, InstanceOptions

VERIFIERS = ("outcome", "process")
"""How a sampled solution is verified: its final answer (``score_answer``, the default), or its
answer and every step (a process check the task provides, :mod:`srlkit.loop.verify`)."""

_INSTANCES = InstanceOptions()


@dataclass
class LoopConfig:
    """``srl loop --config recipe.yaml [--field value ...]``."""

    model: str = field(
        default="", metadata={"help": "the student to start from (HF model id or local path)"}
    )
    problems: list[str] = field(
        default_factory=list,
        metadata={
            "help": "training problems with gold answers (files or hub ids, as srl data generate "
            "reads them); solved ones are sampled no more"
        },
    )
    out: str = field(default="", metadata={"help": "output folder (one subfolder per round)"})
    rounds: int = field(default=3, metadata={"help": "rounds of sample -> verify -> SRL -> eval"})
    problem_field: str | None = field(
        default=None, metadata={"help": "field holding the problem (default: detected)"}
    )
    answer_field: str | None = field(
        default=None, metadata={"help": "field holding the gold answer (default: detected)"}
    )
    # -- sampling (srl data generate) --
    num_samples: int = field(
        default=8, metadata={"help": "solutions sampled per unsolved problem and round"}
    )
    temperature: float = field(default=1.0, metadata={"help": "sampling temperature"})
    top_p: float = field(default=1.0, metadata={"help": "nucleus sampling"})
    max_tokens: int = field(
        default=2048, metadata={"help": "longest sampled solution in tokens (longer: dropped)"}
    )
    seed: int = field(
        default=0,
        metadata={"help": "seed of sampling (round r samples with seed + 1000 r) and of training"},
    )
    backend: str = field(
        default="hf", metadata={"help": "how the student samples: hf (transformers) or vllm"}
    )
    batch_size: int = field(default=16, metadata={"help": "sequences per generate call"})
    device: str = field(default="auto", metadata={"help": "cpu, cuda, ... (default auto)"})
    dtype: str = field(
        default="auto", metadata={"help": "sampling dtype (default: bf16 on GPU, fp32 on CPU)"}
    )
    prompt_file: str | None = field(
        default=None,
        metadata={
            "help": "prompt the student samples with ({problem} placeholder); default: srl "
            "eval's solve prompt, the one the student is evaluated with"
        },
    )
    min_steps: int = field(default=2, metadata={"help": "solutions with fewer steps: dropped"})
    # -- the first round's teacher (optional) --
    teacher: str = field(
        default="",
        metadata={
            "help": "round 1 samples from this teacher instead of the student: an "
            "OpenAI-compatible URL or a model path / id (later rounds sample the student)"
        },
    )
    teacher_model: str = field(default="", metadata={"help": "model name at the teacher endpoint"})
    api_key_env: str = field(
        default="OPENAI_API_KEY", metadata={"help": "variable holding the endpoint's API key"}
    )
    teacher_prompt_file: str | None = field(
        default=None,
        metadata={"help": "the teacher's prompt (default: srl data generate's numbered-step one)"},
    )
    concurrency: int = field(default=16, metadata={"help": "endpoint requests in flight at once"})
    # -- verification --
    verifier: str | None = field(
        default=None,
        metadata={
            "help": "outcome (the final answer, score_answer) or process (answer and every "
            "step, by --process_check); default: process when a process check is named, else "
            "outcome",
            "choices": list(VERIFIERS),
        },
    )
    process_check: str | None = field(
        default=None,
        metadata={
            "help": "the task's step-by-step check (registered name, e.g. 'chain' for the "
            "built-in task); with --verifier outcome it only counts what the outcome filter "
            "lets in through a wrong chain"
        },
    )
    # -- the pool --
    expert_pool: list[str] = field(
        default_factory=list,
        metadata={
            "help": "trajectory files mixed into every round's pool (original expert or teacher "
            "data, any format srl data build reads; agent runs only when resolved)"
        },
    )
    expert_weight: float = field(
        default=1.0,
        metadata={"help": "copies of each expert-pool trajectory in training (fractions sample)"},
    )
    self_weight: float = field(
        default=1.0, metadata={"help": "copies of each verified sampled solution in training"}
    )
    # -- step instances (srl data build) --
    layout: str = field(
        default=_INSTANCES.layout,
        metadata={"help": "step instance layout (paper or continuation)", "choices": list(LAYOUTS)},
    )
    answer_opening: str = field(
        default=_INSTANCES.answer_opening,
        metadata={"help": "continuation layout: what opens the answer before the expert's steps"},
    )
    targets: str = field(
        default=_INSTANCES.targets, metadata={"help": "which steps are targets (as srl data build)"}
    )
    title_hint: bool = field(
        default=_INSTANCES.title_hint, metadata={"help": "give the step's title in the prompt"}
    )
    # -- training (srl train srl) --
    train_config: str | None = field(
        default=None,
        metadata={
            "help": "an srl train srl recipe (YAML); the loop sets model_name_or_path, "
            "train_file, output_dir and seed"
        },
    )
    train_launcher: str | None = field(
        default=None,
        metadata={
            "help": "run each round's training as 'LAUNCHER -m srlkit.cli.main train srl ...' "
            "(e.g. 'accelerate launch --config_file recipes/accelerate/multi_gpu.yaml'); "
            "default: in this process"
        },
    )
    # -- evaluation (srl eval, srl eval-steps) --
    eval_benchmarks: list[str] = field(
        default_factory=list,
        metadata={"help": "held-out benchmarks of srl eval (names or name=file)"},
    )
    eval_data_dir: str | None = field(
        default=None, metadata={"help": "srl eval's --data_dir (local benchmark files)"}
    )
    eval_max_new_tokens: int = field(default=2048, metadata={"help": "srl eval's max_new_tokens"})
    eval_batch_size: int = field(default=16, metadata={"help": "srl eval's batch_size"})
    eval_steps_data: str | None = field(
        default=None, metadata={"help": "held-out step instances for srl eval-steps (optional)"}
    )
    progress: bool = field(default=True, metadata={"help": "show progress bars"})

    @property
    def verification(self) -> str:
        """The verifier in force: ``--verifier``, else process when a check is named."""
        if self.verifier is not None:
            return self.verifier
        return "process" if self.process_check else "outcome"

    def validate(self) -> None:
        """One line for options that cannot work (the CLI prints it)."""
        for name in ("model", "out", "train_config"):
            if not getattr(self, name):
                raise ValueError(f"give --{name}")
        if not self.problems:
            raise ValueError("give --problems (training problems with gold answers)")
        if not self.eval_benchmarks:
            raise ValueError("give --eval_benchmarks (the held-out set each round is scored on)")
        for name in ("rounds", "num_samples", "batch_size", "max_tokens", "min_steps"):
            if getattr(self, name) < 1:
                raise ValueError(f"--{name} must be at least 1")
        if self.verifier is not None and self.verifier not in VERIFIERS:
            raise ValueError(f"--verifier must be one of {', '.join(VERIFIERS)}")
        if self.verifier == "process" and not self.process_check:
            raise ValueError("--verifier process needs --process_check (the task's check)")
        if self.process_check:
            from srlkit.loop.verify import process_check

            process_check(self.process_check)  # an unknown name fails here, not in round 1
        for name in ("expert_weight", "self_weight"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0):
                raise ValueError(f"--{name} must be a finite number >= 0, got {value}")
        if self.layout not in LAYOUTS:
            raise ValueError(f"--layout must be one of {', '.join(LAYOUTS)}")

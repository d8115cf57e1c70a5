"""The demo's base student: a tiny local Qwen2 model warm-started on EASY chain problems.

Why: SRL assumes a student that already follows the think-then-step format well enough to earn
non-trivial step rewards, yet fails the hard problems outright (the paper's setting where RLVR
sees no signal). We build one in a few CPU minutes with no download: a byte-level BPE
tokenizer and a ~0.4M-parameter ``Qwen2ForCausalLM`` (:mod:`srlkit.models.tiny`), then a short
SFT on easy problems (two or three operations) in both forms it will meet later: "give the next
step" (the SRL instance form) and "solve the whole problem" (the evaluation form). It has never
written a fourth operation step, so on the hard split (five or six operations) it answers too
early and almost never gets the final number right.

The result is cached under ``$XDG_CACHE_HOME/srlkit/students/<key>`` (``~/.cache`` by default),
keyed by a hash of everything that shapes it (config, prompts, task format), so a changed config
builds a new student and a warm ``srl demo`` skips the build. The build happens in a temporary
sibling directory that is renamed into place only when complete.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

from srlkit.demo import prompts
from srlkit.demo.sft import SFTExample, SFTSettings, train_sft
from srlkit.demo.tasks import EASY, HARD, SOURCE_FORMAT, ChainProblem, generate_problems
from srlkit.io import write_json
from srlkit.models.tiny import CHATML_TEMPLATE, TinyModelConfig

logger = logging.getLogger(__name__)

STUDENT_FORMAT_VERSION = 3
META_FILE = "student.json"


@dataclass(frozen=True)
class StudentConfig:
    """Everything that determines the base student; its hash is the cache key."""

    model: TinyModelConfig = field(
        default_factory=lambda: TinyModelConfig(
            vocab_size=768,
            hidden_size=128,
            intermediate_size=256,
            num_hidden_layers=2,
            num_attention_heads=4,
            num_key_value_heads=2,
            max_position_embeddings=512,
        )
    )
    num_easy_problems: int = 600
    sft: SFTSettings = field(default_factory=lambda: SFTSettings(epochs=2.0, batch_size=8))
    seed: int = 0
    measure_problems: int = 64

    def key(self) -> str:
        """A short hash of the config and of every text the student is trained on."""
        payload = {
            "config": asdict(self),
            "prompts": prompts.prompt_texts(),
            "template": CHATML_TEMPLATE,
            "tasks": [SOURCE_FORMAT, repr(EASY)],
            "version": STUDENT_FORMAT_VERSION,
        }
        blob = json.dumps(payload, sort_keys=True, default=str).encode()
        return hashlib.sha256(blob).hexdigest()[:16]


def cache_root() -> Path:
    """``$XDG_CACHE_HOME/srlkit`` (``~/.cache/srlkit`` when unset)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(Path.home(), ".cache")
    return Path(base) / "srlkit"


def warmstart_examples(problems: list[ChainProblem]) -> list[SFTExample]:
    """Every step of every problem in the step form, plus each whole solution in the solve form."""
    examples = []
    for problem in problems:
        trajectory = problem.trajectory()
        for inst in prompts.step_instances([trajectory]):
            step = trajectory.steps[inst.step_index - 1]
            completion = prompts.step_completion(step, inst.step_index)
            examples.append(SFTExample(tuple(inst.prompt), completion))
        solve = prompts.solve_messages(problem.question)
        examples.append(SFTExample(tuple(solve), prompts.solve_completion(trajectory.steps)))
    return examples


def tokenizer_corpus(problems: list[ChainProblem]) -> list[str]:
    """Texts the BPE tokenizer is trained on: prompts, chat roles, problems, worked solutions."""
    fixed = prompts.prompt_texts() + ["system\n", "user\n", "assistant\n", "Steps so far:\n"]
    corpus = []
    for problem in problems:
        corpus += fixed
        corpus.append(f"Problem:\n{problem.question}")
        corpus.append(prompts.solve_completion(problem.steps()))
    # Frequent enough that every small number becomes one token, as in real tokenizers' vocabularies.
    corpus += [" ".join(str(i) for i in range(100))] * 100
    return corpus


def _train_student(out_dir: Path, config: StudentConfig) -> dict:
    """Build tokenizer + model in ``out_dir``, warm-start it, measure it; returns the metadata."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from srlkit.demo.generate import solve_accuracy
    from srlkit.models.tiny import build_tiny_model

    easy = generate_problems(EASY, config.num_easy_problems, seed=config.seed, prefix="easy")
    build_tiny_model(out_dir, tokenizer_corpus(easy), config.model)
    tokenizer = AutoTokenizer.from_pretrained(out_dir)  # think tags decode as text (models.tiny)
    model = AutoModelForCausalLM.from_pretrained(out_dir)
    losses = train_sft(model, tokenizer, warmstart_examples(easy), config.sft, "warm-start student")
    model.save_pretrained(out_dir)
    seen = {p.question for p in easy}
    n = config.measure_problems
    measures = {
        split: solve_accuracy(
            model,
            tokenizer,
            generate_problems(difficulty, n, seed=10_000 + config.seed, prefix=split, exclude=seen),
            description=f"measure student ({split})",
        ).to_dict(keep_completions=2)
        for split, difficulty in (("easy", EASY), ("hard", HARD))
    }
    return {
        "key": config.key(),
        "config": asdict(config),
        "sft_loss_first": losses[0],
        "sft_loss_last": losses[-1],
        "accuracy": {split: m["accuracy"] for split, m in measures.items()},
        "measures": measures,
        "parameters": sum(p.numel() for p in model.parameters()),
    }


def build_student(
    config: StudentConfig | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    rebuild: bool = False,
) -> Path:
    """Path of the cached base student for ``config``, building it first when missing.

    A half-built student is never visible: the build runs in a temporary directory beside the
    cache entry and is renamed into place once its metadata file is written.
    """
    config = config or StudentConfig()
    root = Path(cache_dir) if cache_dir else cache_root()
    target = root / "students" / config.key()
    if (target / META_FILE).is_file() and not rebuild:
        logger.info("reusing cached base student %s", target)
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        meta = _train_student(tmp, config)
        write_json(tmp / META_FILE, meta)
        if target.exists():
            shutil.rmtree(target)
        os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    logger.info(
        "built base student %s: easy accuracy %.2f, hard accuracy %.2f",
        target,
        meta["accuracy"]["easy"],
        meta["accuracy"]["hard"],
    )
    return target


def read_student_meta(path: str | os.PathLike[str]) -> dict:
    """The metadata (config, warm-start loss, measured accuracies) saved with a student."""
    with open(Path(path) / META_FILE, encoding="utf-8") as f:
        return json.load(f)

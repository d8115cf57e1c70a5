"""The demo's base student: a tiny local Qwen2 model warm-started on EASY chain problems.

Why: SRL assumes a student that already follows the step format and gets most single steps
right, yet fails the hard problems as a whole (the paper's setting where RLVR sees no signal).
We build one in a few CPU minutes with no download: a byte-level BPE tokenizer (every number
0..20 one token) and a ~0.35M-parameter ``Qwen2ForCausalLM``
(:mod:`srlkit.models.tiny`), then a short SFT on *fresh* easy problems (no problem is seen
twice: a tiny model shown the same few hundred problems for epochs memorises them instead of
learning to read, measured in docs/paper-table.md): half whole solutions in ``srl eval``'s
prompt (the form it is evaluated in, and whose opened answers are SRL's step instances), half
single-step exercises in the paper's step layout (:mod:`srlkit.demo.prompts` says why). Easy
problems have every length but seldom a doubling; hard ones are long and need two or more
doublings, the skill the student barely has.

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
import random
import shutil
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

from srlkit.demo import prompts
from srlkit.demo.sft import SFTExample, SFTSettings, train_sft
from srlkit.demo.tasks import (
    EASY,
    HARD,
    SOURCE_FORMAT,
    ChainProblem,
    generate_problems,
    held_out_problems,
)
from srlkit.io import write_json
from srlkit.models.tiny import CHATML_TEMPLATE, TinyModelConfig

logger = logging.getLogger(__name__)

STUDENT_FORMAT_VERSION = 4
META_FILE = "student.json"


@dataclass(frozen=True)
class StudentConfig:
    """Everything that determines the base student; its hash is the cache key.

    ``sft.epochs`` is 1: the ``sft_steps * sft.batch_size`` warm-start problems are all fresh.
    ``solve_fraction`` of them are whole solutions, the rest one random step instance each.
    """

    model: TinyModelConfig = field(
        default_factory=lambda: TinyModelConfig(
            vocab_size=768,
            hidden_size=128,
            intermediate_size=256,
            num_hidden_layers=2,
            num_attention_heads=4,
            num_key_value_heads=2,
            max_position_embeddings=1024,
        )
    )
    sft_steps: int = 1000
    sft: SFTSettings = field(
        default_factory=lambda: SFTSettings(
            epochs=1.0,
            learning_rate=3e-3,
            batch_size=32,
            warmup_ratio=0.1,
            bucket_by_length=False,
        )
    )
    solve_fraction: float = 0.5
    seed: int = 0
    measure_problems: int = 64

    def key(self) -> str:
        """A short hash of the config and of every text the student is trained on."""
        payload = {
            "config": asdict(self),
            "prompts": prompts.prompt_texts() + [prompts.THINK_OPEN],
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


def warmstart_examples(
    problems: list[ChainProblem], solve_fraction: float, seed: int
) -> list[SFTExample]:
    """One example per problem: its whole solution or one random step exercise."""
    rng = random.Random(seed)
    examples = []
    for problem in problems:
        trajectory = problem.trajectory()
        if rng.random() < solve_fraction:
            solve = prompts.solve_messages(problem.question)
            examples.append(SFTExample(tuple(solve), prompts.solve_completion(trajectory.steps)))
            continue
        inst = rng.choice(prompts.step_instances([trajectory], prompts.exercise_options()))
        step = trajectory.steps[inst.step_index - 1]
        examples.append(
            SFTExample(tuple(inst.prompt), prompts.step_completion(step, inst.step_index))
        )
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
    corpus += [" ".join(str(i) for i in range(30))] * 3
    return corpus


def _train_student(out_dir: Path, config: StudentConfig) -> dict:
    """Build tokenizer + model in ``out_dir``, warm-start it, measure it; returns the metadata."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from srlkit.demo.generate import solve_accuracy
    from srlkit.models.tiny import build_tiny_model

    held_out = {p.question for p in held_out_problems()}
    n_train = config.sft_steps * config.sft.batch_size
    easy = generate_problems(EASY, n_train, seed=config.seed, prefix="easy", exclude=held_out)
    # Hard problems too: "double" must be a token even though easy problems seldom double.
    words = easy[:300] + generate_problems(HARD, 100, seed=config.seed + 1, prefix="words")
    build_tiny_model(out_dir, tokenizer_corpus(words), config.model)
    tokenizer = AutoTokenizer.from_pretrained(out_dir)  # think tags decode as text (models.tiny)
    model = AutoModelForCausalLM.from_pretrained(out_dir)
    examples = warmstart_examples(easy, config.solve_fraction, config.seed)
    losses = train_sft(model, tokenizer, examples, config.sft, "warm-start student")
    model.save_pretrained(out_dir)
    seen = held_out | {p.question for p in easy}
    n = config.measure_problems
    measures = {
        split: solve_accuracy(
            model,
            tokenizer,
            generate_problems(split, n, seed=10_000 + config.seed, prefix=split, exclude=seen),
            description=f"measure student ({split})",
        ).to_dict(keep_completions=2)
        for split in ("easy", "hard")
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

"""The demo's base student: a tiny local Qwen2 model warm-started on EASY chain problems.

Why: SRL assumes a student that already follows the step format and gets most single steps
right, yet fails the hard problems as a whole (the paper's setting where RLVR sees no signal).
We build one with no download: a byte-level BPE tokenizer (every number 0..20 one token) and a
~0.36M-parameter ``Qwen2ForCausalLM`` (:mod:`srlkit.models.tiny`), warm-started by ``srl train
sft`` (TRL's SFTTrainer) on *fresh* easy problems (no problem is seen twice: a tiny model shown
the same few hundred problems for epochs memorises them instead of learning to read, measured in
docs/paper-table.md): half whole solutions in ``srl eval``'s prompt (the form it is evaluated
in, and whose opened answers are SRL's step instances), half single-step exercises in the
paper's step layout (:mod:`srlkit.demo.prompts` says why). Easy problems have every length but
seldom a doubling; hard ones are long and need two or more doublings, the skill the student
barely has.

**One student everywhere.** The warm start (1,000 steps at learning rate 3e-3) is chaotic in the
floating-point path: the same seed built three different students on three kernel paths, and
three different demo conclusions. So the student the demo uses is shipped in the package
(``srlkit/demo/student/``, about 1.5 MB), built once by
``python -m srlkit.demo.student --out src/srlkit/demo/student``; every machine starts from the
same weights, and the cold demo skips its longest stage. ``srl demo --rebuild_student`` builds
one on this machine instead, cached under ``$XDG_CACHE_HOME/srlkit/students/<key>``; the key
covers the config, the prompts, the task format and what changes the floating-point path
(torch and transformers versions, torch's CPU capability, the thread count). A half-built
student is never visible: the build runs in a temporary sibling folder renamed into place.
"""

from __future__ import annotations

import argparse
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
from srlkit.demo.tasks import EASY, HARD, SOURCE_FORMAT, ChainProblem, generate_problems
from srlkit.io import write_json, write_jsonl
from srlkit.models.tiny import CHATML_TEMPLATE, TinyModelConfig
from srlkit.options import to_argv

logger = logging.getLogger(__name__)

STUDENT_FORMAT_VERSION = 5
META_FILE = "student.json"
PACKAGED_STUDENT = Path(__file__).parent / "student"
"""The shipped student (package data), built with the default :class:`StudentConfig`."""
MEASURE_SEED = 10_000
RUN_RECORDS = (
    "run_summary.json",
    "config.yaml",
    "resolved_config.json",
    "metrics.jsonl",
    "data_summary.json",
    "training_args.bin",
)
"""What ``srl train sft`` leaves beside the model: the warm start's records, not the student's."""


@dataclass(frozen=True)
class WarmStart:
    """``srl train sft`` settings of the warm start: one epoch over fresh problems."""

    learning_rate: float = 3e-3
    batch_size: int = 32
    warmup_ratio: float = 0.1


@dataclass(frozen=True)
class StudentConfig:
    """Everything that determines the base student; its hash is the cache key.

    ``sft_steps * warm_start.batch_size`` fresh easy problems, seen once each;
    ``solve_fraction`` of them are whole solutions, the rest one random step exercise each.
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
    warm_start: WarmStart = field(default_factory=WarmStart)
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


def build_environment() -> dict[str, str | int]:
    """What changes a warm start's floating-point path besides its config (part of the key of
    a student built on this machine)."""
    import torch
    import transformers
    import trl

    return {
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "trl": trl.__version__,
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "threads": torch.get_num_threads(),
    }


def cache_key(config: StudentConfig) -> str:
    """The cache key of a student built here: the config's key and the build environment."""
    blob = json.dumps([config.key(), build_environment()], sort_keys=True).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def cache_root() -> Path:
    """``$XDG_CACHE_HOME/srlkit`` (``~/.cache/srlkit`` when unset)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(Path.home(), ".cache")
    return Path(base) / "srlkit"


def warmstart_records(problems: list[ChainProblem], solve_fraction: float, seed: int) -> list[dict]:
    """One TRL prompt-completion example per problem: its whole solution or one step exercise."""
    rng = random.Random(seed)
    records = []
    for problem in problems:
        trajectory = problem.trajectory()
        if rng.random() < solve_fraction:
            prompt = prompts.solve_messages(problem.question)
            completion = prompts.solve_completion(trajectory.steps)
        else:
            inst = rng.choice(prompts.step_instances([trajectory], prompts.exercise_options()))
            step = trajectory.steps[inst.step_index - 1]
            prompt = list(inst.prompt)
            completion = prompts.step_completion(step, inst.step_index)
        records.append(
            {"prompt": prompt, "completion": [{"role": "assistant", "content": completion}]}
        )
    return records


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


def warm_start_argv(config: StudentConfig, model_dir: Path, train_file: Path) -> list[str]:
    """The ``srl train sft`` options of the warm start (it trains ``model_dir`` in place)."""
    w = config.warm_start
    options = {
        "model_name_or_path": model_dir,
        "train_file": train_file,
        "output_dir": model_dir,
        "num_train_epochs": 1,
        "learning_rate": w.learning_rate,
        "per_device_train_batch_size": w.batch_size,
        "warmup_steps": w.warmup_ratio,  # a float < 1 is a ratio of the total steps
        "lr_scheduler_type": "cosine",
        "weight_decay": 0.0,
        "max_grad_norm": 1.0,
        "seed": config.seed,
        "use_cpu": "true",
        "bf16": "false",
        "save_strategy": "no",
        "report_to": "none",
        "logging_steps": 50,
    }
    return to_argv(options)


def _measure(model_dir: Path, work: Path, config: StudentConfig, seen: set[str]) -> dict:
    """Greedy accuracy on fresh easy and hard problems, with ``srl eval``."""
    from srlkit.evaluation.runner import EvalConfig, run_evaluation

    accuracy = {}
    for name, difficulty in (("easy", EASY), ("hard", HARD)):
        problems = generate_problems(
            difficulty, config.measure_problems, MEASURE_SEED + config.seed, name, exclude=seen
        )
        path = work / f"measure_{name}.jsonl"
        write_jsonl(path, (p.to_record() for p in problems))
        summary = run_evaluation(
            EvalConfig(
                model=str(model_dir),
                out_dir=str(work / f"measure_{name}"),
                benchmarks=[f"{name}={path}"],
                k=0,
                max_new_tokens=192,
                batch_size=64,
                device="cpu",
                dtype="float32",
            )
        )
        accuracy[name] = summary["benchmarks"][name]["greedy"]["accuracy"]
    return accuracy


def _train_student(out_dir: Path, work: Path, config: StudentConfig) -> dict:
    """Build tokenizer + model in ``out_dir``, warm-start it, measure it; returns the metadata."""
    from srlkit.models.tiny import build_tiny_model
    from srlkit.training.config import parse_method_args
    from srlkit.training.runner import run

    n_train = config.sft_steps * config.warm_start.batch_size
    easy = generate_problems(EASY, n_train, seed=config.seed, prefix="easy")
    # Hard problems too: "double" must be a token even though easy problems seldom double.
    words = easy[:300] + generate_problems(HARD, 100, seed=config.seed + 1, prefix="words")
    build_tiny_model(out_dir, tokenizer_corpus(words), config.model)
    train_file = work / "warm_start.jsonl"
    write_jsonl(train_file, warmstart_records(easy, config.solve_fraction, config.seed))
    result = run(parse_method_args("sft", warm_start_argv(config, out_dir, train_file)))
    for name in RUN_RECORDS:
        if (out_dir / name).exists():
            shutil.move(str(out_dir / name), work / name)  # the run's records, not the model's
    import torch
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(out_dir)
    return {
        "key": config.key(),
        "config": asdict(config),
        "train_loss": result.metrics.get("train_loss"),
        "accuracy": _measure(out_dir, work, config, {p.question for p in easy}),
        "parameters": sum(p.numel() for p in model.parameters()),
        "built_on": {**build_environment(), "torch_threads": torch.get_num_threads()},
    }


def build_into(target: Path, config: StudentConfig) -> dict:
    """Build a student into ``target`` (replacing it only once complete); returns its metadata."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    work = Path(tempfile.mkdtemp(prefix=".warm-start.", dir=target.parent))
    try:
        meta = _train_student(tmp, work, config)
        write_json(tmp / META_FILE, meta)
        if target.exists():
            shutil.rmtree(target)
        os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    logger.info(
        "built base student %s: easy accuracy %.2f, hard accuracy %.2f",
        target,
        meta["accuracy"]["easy"],
        meta["accuracy"]["hard"],
    )
    return meta


def packaged_student(config: StudentConfig) -> Path | None:
    """The shipped student when it was built with ``config`` (else None)."""
    meta = PACKAGED_STUDENT / META_FILE
    if meta.is_file() and json.loads(meta.read_text("utf-8")).get("key") == config.key():
        return PACKAGED_STUDENT
    return None


def build_student(
    config: StudentConfig | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    rebuild: bool = False,
) -> Path:
    """The base student for ``config``: the shipped one, unless ``rebuild`` or another config
    asks for one built on this machine (cached, built first when missing)."""
    config = config or StudentConfig()
    if not rebuild:
        shipped = packaged_student(config)
        if shipped is not None:
            logger.info("using the shipped base student %s", shipped)
            return shipped
    root = Path(cache_dir) if cache_dir else cache_root()
    target = root / "students" / cache_key(config)
    if (target / META_FILE).is_file() and not rebuild:
        logger.info("reusing cached base student %s", target)
        return target
    build_into(target, config)
    return target


def read_student_meta(path: str | os.PathLike[str]) -> dict:
    """The metadata (config, warm-start loss, measured accuracies) saved with a student."""
    with open(Path(path) / META_FILE, encoding="utf-8") as f:
        return json.load(f)


def main(argv: list[str] | None = None) -> int:
    """``python -m srlkit.demo.student --out DIR``: build the default student into ``DIR``
    (``src/srlkit/demo/student`` refreshes the shipped one)."""
    import torch

    parser = argparse.ArgumentParser(prog="python -m srlkit.demo.student", description=main.__doc__)
    parser.add_argument("--out", required=True, help="folder to write the student into")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads (default 2)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    torch.set_num_threads(args.threads)
    meta = build_into(Path(args.out), StudentConfig())
    print(json.dumps({"accuracy": meta["accuracy"], "built_on": meta["built_on"]}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

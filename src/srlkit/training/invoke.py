"""Run ``srl train METHOD ARGV`` inside this process and summarise the run for a caller.

Programs made of srlkit's commands (``srl demo``'s stages, ``srl loop``'s rounds) train by
handing the very argument list they print to the same parser and runner the command line uses,
so every stage can be rerun by hand from its printed command, and resume and "finished,
nothing to do" are the runner's.
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

from srlkit.io import iter_jsonl

KEPT_KEY = "dynamic_sampling/kept_fraction"
GENERATED_KEY = "dynamic_sampling/rollouts_generated"


def command_line(algorithm: str, argv: list[str]) -> str:
    """The shell command that reruns a training (as printed and recorded)."""
    return shlex.join(["srl", "train", algorithm, *argv])


def train_command(algorithm: str, argv: list[str]) -> dict[str, Any]:
    """Run ``srl train ALGORITHM argv``; the final model, the command, the logged history, the
    rollouts dynamic sampling generated and the mean share of groups it kept."""
    from srlkit.training.config import parse_method_args
    from srlkit.training.runner import run

    result = run(parse_method_args(algorithm, argv))
    history = [rec for _, rec in iter_jsonl(Path(result.output_dir) / "metrics.jsonl")]
    kept = [float(h[KEPT_KEY]) for h in history if KEPT_KEY in h]
    generated = [float(h[GENERATED_KEY]) for h in history if GENERATED_KEY in h]
    return {
        "model_dir": str(result.final_model_dir),
        "command": command_line(algorithm, argv),
        "history": history,
        "rollouts_generated": int(sum(generated)),
        "kept_fraction": sum(kept) / len(kept) if kept else None,
    }

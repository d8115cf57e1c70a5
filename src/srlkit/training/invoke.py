"""Run ``srl train METHOD ARGV`` inside this process and summarise the run for a caller.

Programs made of srlkit's commands (``srl demo``'s stages, ``srl loop``'s rounds) train by
handing the very argument list they print to the same parser and runner the command line uses,
so every stage can be rerun by hand from its printed command, and resume and "finished,
nothing to do" are the runner's.
"""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

from srlkit.io import SrlkitError, iter_jsonl

KEPT_KEY = "dynamic_sampling/kept_fraction"
GENERATED_KEY = "dynamic_sampling/rollouts_generated"


def command_line(algorithm: str, argv: list[str]) -> str:
    """The shell command that reruns a training (as printed and recorded)."""
    return shlex.join(["srl", "train", algorithm, *argv])


class TrainingFailed(SrlkitError):
    """A launched training process exited with an error (its own output says why)."""


def launched_argv(launcher: str, algorithm: str, argv: list[str]) -> list[str]:
    """``LAUNCHER -m srlkit.cli.main train ALGORITHM argv``, e.g. with ``accelerate launch
    --config_file recipes/accelerate/multi_gpu.yaml`` as the launcher.

    >>> launched_argv("accelerate launch --num_processes 8", "srl", ["--max_steps", "2"])[-5:]
    ['srlkit.cli.main', 'train', 'srl', '--max_steps', '2']
    """
    return [*shlex.split(launcher), "-m", "srlkit.cli.main", "train", algorithm, *argv]


def train_command(algorithm: str, argv: list[str], launcher: str | None = None) -> dict[str, Any]:
    """Run ``srl train ALGORITHM argv``; the final model, the command, the logged history, the
    rollouts dynamic sampling generated and the mean share of groups it kept.

    Without ``launcher`` the training runs in this process (one device). With one (``accelerate
    launch ...``, ``torchrun ...``) it runs in the processes the launcher starts, as the same
    command typed in a terminal would, and its result is read from the run folder.
    """
    from srlkit.training.checkpoints import finished_run
    from srlkit.training.config import parse_method_args
    from srlkit.training.runner import run

    args = parse_method_args(algorithm, argv)
    if launcher:
        command = launched_argv(launcher, algorithm, argv)
        if command[0] == "python":  # the interpreter running srlkit, not whichever is on PATH
            command[0] = sys.executable
        code = subprocess.call(command)
        result = finished_run(args.train.output_dir)
        if code != 0 or result is None:
            raise TrainingFailed(
                f"{shlex.join(command)} exited with code {code}"
                + ("" if result else " and left no finished run")
            )
    else:
        result = run(args)
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

"""Helpers for the training tests: real GSM8K solutions cut into step instances, tiny recipes."""

from __future__ import annotations

import json
import os
from pathlib import Path

from srlkit.data.schema import KIND_MATH, Step, StepInstance, Trajectory

REPO_ROOT = Path(__file__).resolve().parents[2]
TINY_RECIPES = REPO_ROOT / "recipes" / "tiny"


def gsm8k_trajectories(shared_data: Path, n: int, offset: int = 0) -> list[Trajectory]:
    """The first ``n`` GSM8K solutions after ``offset``, one step per solution line."""
    trajectories = []
    with open(shared_data / "gsm8k" / "train.jsonl", encoding="utf-8") as f:
        for i, line in enumerate(f):
            if i < offset:
                continue
            if len(trajectories) == n:
                break
            rec = json.loads(line)
            lines = [ln.strip() for ln in rec["answer"].split("\n") if ln.strip()]
            steps = [Step(body=ln) for ln in lines]
            trajectories.append(
                Trajectory(
                    id=f"gsm8k-{i}",
                    task=rec["question"],
                    steps=steps,
                    kind=KIND_MATH,
                    final_answer=lines[-1],
                )
            )
    return trajectories


def step_instances(trajectories: list[Trajectory]) -> list[StepInstance]:
    """Instances as the paper defines them: problem + expert steps 1..k-1 -> step k."""
    out = []
    for traj in trajectories:
        for k, step in enumerate(traj.steps, start=1):
            context = "\n".join(s.math_text(j) for j, s in enumerate(traj.steps[: k - 1], start=1))
            content = f"{traj.task}\n\nSteps so far:\n{context or '(none)'}\n\nWrite step {k}."
            out.append(
                StepInstance(
                    id=f"{traj.id}-{k}",
                    prompt=[{"role": "user", "content": content}],
                    target=step.math_text(k),
                    step_index=k,
                    num_steps=len(traj.steps),
                    trajectory_id=traj.id,
                )
            )
    return out


def shared_gsm8k(split: str) -> str:
    """GSM8K in the shared data folder, honouring ``SRLKIT_SHARED_DATA`` (the recipes' own
    ``../shared/data`` paths assume the repository's neighbour)."""
    shared = Path(os.environ.get("SRLKIT_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))
    return str(shared / "gsm8k" / f"{split}.jsonl")


def tiny_argv(method: str, model_dir: Path, output_dir: Path, *extra: str) -> list[str]:
    """Command-line arguments for ``srl train <method>`` on a tiny recipe."""
    data = (
        ["--train_file", shared_gsm8k("train"), "--eval_file", shared_gsm8k("test")]
        if method == "rlvr"
        else []
    )
    return [
        "--config",
        str(TINY_RECIPES / method / "config.yaml"),
        "--model_name_or_path",
        str(model_dir),
        "--output_dir",
        str(output_dir),
        *data,
        *extra,
    ]

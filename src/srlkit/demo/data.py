"""The demo's data files: chain problems written in the forms ``srl train`` and ``srl eval`` read.

One draw of training and test problems (at the difficulty the regime calibration chose) becomes:

- ``train_trajectories.jsonl``: the expert trajectories in the data contract (``srl train r3``);
- ``test_problems.jsonl``: ``id, problem, solution, answer`` records, an ``srl eval`` benchmark
  file;
- ``train_instances.jsonl`` / ``test_instances.jsonl``: step instances in the continuation layout
  (``srl train srl``, ``srl eval-steps``);
- ``train_solve.jsonl``: the solve prompt (``srl eval``'s, as chat messages) with the gold answer
  and the expert solution (``srl train rlvr``; the whole-solution ablation grades the solution);
- ``train_sft.jsonl``: the same prompt with the expert's whole solution as the completion
  (``srl train sft``, in TRL's prompt-completion form).

Training and test problems never share a question; the test problems are drawn by seed alone,
never chosen by how any model does on them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from srlkit.demo import prompts
from srlkit.demo.tasks import ChainProblem, Difficulty, generate_problems
from srlkit.io import write_jsonl

TEST_SEED_OFFSET = 1_000
"""Test problems of seed ``s`` are drawn with seed ``TEST_SEED_OFFSET + s`` (training: ``s``)."""

FILES = {
    "trajectories": "train_trajectories.jsonl",
    "instances": "train_instances.jsonl",
    "solve": "train_solve.jsonl",
    "sft": "train_sft.jsonl",
    "test_problems": "test_problems.jsonl",
    "test_instances": "test_instances.jsonl",
}


@dataclass(frozen=True)
class DemoData:
    """Where one seed's data files are, and how many records each holds."""

    folder: Path
    counts: dict[str, int]

    def path(self, kind: str) -> Path:
        return self.folder / FILES[kind]


def draw_problems(
    difficulty: Difficulty, train: int, test: int, seed: int
) -> tuple[list[ChainProblem], list[ChainProblem]]:
    """Training and test problems at ``difficulty``; disjoint, deterministic for ``seed``."""
    tests = generate_problems(difficulty, test, seed=TEST_SEED_OFFSET + seed, prefix="test")
    trains = generate_problems(
        difficulty, train, seed=seed, prefix="train", exclude={p.question for p in tests}
    )
    return trains, tests


def sft_record(problem: ChainProblem, style: str = "worked") -> dict:
    """The solve prompt and the expert's whole solution, as the student writes it."""
    return {
        "id": problem.id,
        "prompt": prompts.solve_messages(problem.question),
        "completion": [
            {"role": "assistant", "content": prompts.solve_completion(problem.steps(style))}
        ],
    }


def solve_record(problem: ChainProblem, style: str = "worked") -> dict:
    """The solve prompt with the gold answer and the expert solution (``srl train rlvr``)."""
    return {
        "id": problem.id,
        "prompt": prompts.solve_messages(problem.question),
        "answer": problem.answer,
        "solution": problem.solution_text(style),
    }


def write_demo_data(
    folder: Path,
    difficulty: Difficulty,
    train: int,
    test: int,
    seed: int,
    style: str = "worked",
) -> DemoData:
    """Draw one seed's problems and write every data file (each atomically); ``style`` is how
    the expert's steps are written (:data:`srlkit.demo.tasks.EXPERT_STYLES`)."""
    trains, tests = draw_problems(difficulty, train, test, seed)
    train_instances = prompts.step_instances([p.trajectory(style) for p in trains])
    test_instances = prompts.step_instances([p.trajectory(style) for p in tests])
    records = {
        "trajectories": [p.trajectory(style).to_dict() for p in trains],
        "instances": [i.to_dict() for i in train_instances],
        "solve": [solve_record(p, style) for p in trains],
        "sft": [sft_record(p, style) for p in trains],
        "test_problems": [p.to_record(style) for p in tests],
        "test_instances": [i.to_dict() for i in test_instances],
    }
    for kind, rows in records.items():
        write_jsonl(folder / FILES[kind], rows)
    return DemoData(folder, {kind: len(rows) for kind, rows in records.items()})

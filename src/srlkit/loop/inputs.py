"""What a loop starts from: its training problems and the trajectories of its expert files.

Problems are read as ``srl data generate`` reads them (so a file that feeds a teacher feeds a
loop, and errors name the file and line); expert files as ``srl data build`` reads them, every
record kept or dropped with a reason.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from srlkit.data.schema import KIND_AGENT
from srlkit.loop.config import LoopConfig
from srlkit.loop.pool import PoolEntry, merge
from srlkit.loop.verify import RESOLVED_FIELDS, resolved


def read_training_problems(config: LoopConfig) -> list[dict[str, Any]]:
    """The training problems as ``{id, problem, answer, solution}`` records, read as ``srl
    data generate`` reads them (errors name the file and line)."""
    from srlkit.teacher.problems import read_problems

    problems, _ = read_problems(config.problems, config.problem_field, config.answer_field)
    return [
        {"id": p.id, "problem": p.problem, "answer": p.gold_value, "solution": p.solution}
        for p in problems
    ]


def load_expert_pool(config: LoopConfig) -> tuple[list[PoolEntry], dict[str, Any]]:
    """The expert files' trajectories as pool entries (agent runs only when resolved), and
    their counts: read = kept + dropped by reason."""
    from srlkit.data.loaders import expand_inputs, load_file

    entries: list[PoolEntry] = []
    dropped: Counter = Counter()
    read = 0
    for path in expand_inputs(list(config.expert_pool)):
        for outcome in load_file(Path(path), None):
            read += 1
            trajectory = outcome.trajectory
            if trajectory is None:
                dropped[outcome.dropped or "invalid"] += 1
            elif not resolved(trajectory):
                dropped["unresolved"] += 1
            else:
                # an agent run's flag is its verification; other expert data is taken as given
                flagged = trajectory.kind == KIND_AGENT and any(
                    name in trajectory.metadata for name in RESOLVED_FIELDS
                )
                verifier = "resolved" if flagged else "given"
                entries.append(
                    PoolEntry(trajectory, "expert", 0, str(path), verifier, config.expert_weight)
                )
    pool, repeats = merge([], entries)
    if repeats:
        dropped["duplicate"] += repeats
    return pool, {"read": read, "kept": len(pool), "dropped": dict(dropped)}

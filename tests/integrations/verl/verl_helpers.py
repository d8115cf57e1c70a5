"""Small real inputs for the verl tests: an s1K math build, a SWE-smith agent build, golds."""

from __future__ import annotations

import json
from pathlib import Path

from srlkit.cli.main import main


def build(shared_data: Path, out: Path, kind: str = "math", n: int = 16) -> Path:
    """``srl data build`` on the first ``n`` real trajectories of s1K (math) or SWE-smith (agent)."""
    if kind == "math":
        records = json.loads((shared_data / "s1k_questions" / "s1k.json").read_text("utf-8"))
        src = out.parent / f"{out.name}.json"
        src.write_text(json.dumps(records[:n]), encoding="utf-8")
        extra = ["--validation_size", "2"]
    else:
        records = json.loads(
            (shared_data / "swe_smith_trajectories" / "sample_raw.json").read_text("utf-8")
        )
        src = out.parent / f"{out.name}.json"
        src.write_text(json.dumps(records[:n]), encoding="utf-8")
        extra = ["--validation_size", "1", "--history_rounds", "2"]
    assert main(["data", "build", str(src), "--out", str(out), *extra]) == 0
    return out


def rlvr_problems(path: Path) -> Path:
    """Five problems: three checkable golds, one proof restating its claim, one without a gold."""
    rows = [
        {"id": "p1", "problem": "What is 2 + 3?", "answer": "5"},
        {"id": "p2", "problem": "Compute 1/2 + 1/4.", "answer": "\\frac{3}{4}"},
        {"id": "p3", "problem": "Solve x + 1 = 3.", "answer": "2"},
        {"id": "p4", "problem": "Prove that a^2 + b^2 >= 2ab.", "answer": "a^2 + b^2 \\geq 2ab"},
        {"id": "p5", "problem": "What is 7 * 6?", "answer": ""},
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path

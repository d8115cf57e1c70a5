"""benchmarks/demo_diagnostics.py on a hand-made demo folder: openings and two-digit results."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from srlkit.demo import prompts
from srlkit.demo.tasks import ChainProblem, Operation
from srlkit.io import write_jsonl

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "demo_diagnostics.py"
sys.path.insert(0, str(SCRIPT.parent))

import demo_diagnostics


def test_openings_and_cut_values_are_counted_per_seed_and_method(tmp_path):
    chain = (Operation("double"),) * 4 + (Operation("subtract", 2),)
    problems = [
        ChainProblem("a", 1, chain),  # 1, 2, 4, 8, 16, 14
        ChainProblem("b", 1, chain[:4] + (Operation("subtract", 5),)),  # same opening
        ChainProblem("c", 3, chain),  # 3, 6, 12, 24, ...: another opening
    ]
    seed = tmp_path / "seed-0"
    write_jsonl(seed / "data" / "test_problems.jsonl", (p.to_record() for p in problems))
    right = prompts.solve_completion(problems[0].steps())
    cut = right.replace("8 * 2 = 16", "8 * 2 = 1")
    for method, text in (("base", cut), ("srl", right)):
        write_jsonl(
            seed / "evals" / method / "solve" / "samples" / "chain.jsonl",
            [{"problem_id": "0", "mode": "greedy", "completion": text, "correct": text == right}],
        )
    out = tmp_path / "diag.json"
    assert demo_diagnostics.main([str(tmp_path), "--json", str(out)]) == 0
    found = json.loads(out.read_text())["seed-0"]
    assert found["top_opening"] == "1, 2, 4, 8, 16"
    assert found["top_opening_share"] == 2 / 3
    # 8 * 2 = 16 is the only two-digit result of problem a (16 - 2 = 14 too: two digits).
    assert found["methods"]["srl"] == {"accuracy": 1.0, "steps": 2, "right": 2, "cut": 0}
    assert found["methods"]["base"]["cut"] == 1 and found["methods"]["base"]["accuracy"] == 0.0
    assert demo_diagnostics.main([str(tmp_path / "missing")]) == 2

"""benchmarks/gpu_check.py at a tiny shape on CPU: the GPU check's own logic, as a test.

On a machine without a GPU the vLLM rows are skipped and everything else runs exactly as on
the GPU (bf16 aside): model building, the GRPO rows in their own processes, the eval rows, the
table and the exit status.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "benchmarks" / "gpu_check.py"
sys.path.insert(0, str(SCRIPT.parent))

import gpu_check

TINY = [
    "--shape", "tiny", "--steps", "2", "--batch-prompts", "2", "--num-generations", "4",
    "--num-prompts", "32", "--max-completion-length", "8", "--eval-problems", "4",
    "--eval-k", "1", "--eval-batch-size", "4",
]  # fmt: skip


def _run(args: list[str], tmp_path: Path) -> subprocess.CompletedProcess:
    env = {"PYTHONPATH": str(REPO / "src"), "HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin"}
    return subprocess.run(
        [sys.executable, str(SCRIPT), *TINY, *args, "--work-dir", str(tmp_path / "work")],
        capture_output=True,
        check=False,
        text=True,
        timeout=1800,
        env=env,
    )


@pytest.mark.slow
def test_all_rows_run_at_tiny_shape_and_print_one_table(tmp_path, shared_data):
    out = tmp_path / "table.json"
    proc = _run(["--data-dir", str(shared_data), "--output", str(out)], tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = json.loads(out.read_text(encoding="utf-8"))["rows"]
    assert set(rows) == set(gpu_check.RATIO_PAIRS) | set(gpu_check.RATIO_PAIRS.values()) | {
        "eval_hf",
        "eval_vllm",
    }
    for name, row in rows.items():
        expected = "skipped" if "vllm" in name else "ok"  # no GPU here, so no vLLM
        assert row["status"] == expected, (name, row)
    srl, plain = rows["grpo_srl_hf"], rows["grpo_plain_hf"]
    assert (
        srl["kept_fraction"] == 1.0 and srl["rollouts_per_kept_rollout"] == 1.0
    )  # nothing filtered
    assert srl["ratio_to_baseline"] == pytest.approx(srl["median_step_s"] / plain["median_step_s"])
    for name in ("refill_full_hf", "refill_adaptive_hf"):
        assert 0 < rows[name]["kept_fraction"] < 1  # the mastered prompts were filtered
        assert rows[name]["rollouts_per_kept_rollout"] >= 1
    assert rows["eval_hf"]["samples"] == 4 * 2 and rows["eval_hf"]["samples_per_s"] > 0
    table = [line for line in proc.stdout.splitlines() if line.startswith("| ")]
    assert len(table) == len(rows) + 1  # the header and one line per row
    assert any(line.startswith("| grpo_srl_hf | ok |") for line in table)


@pytest.mark.slow
def test_a_failing_row_makes_the_exit_status_non_zero(tmp_path, shared_data):
    """A row whose trainer refuses its config (0 generation rounds) fails; the table says so and
    the exit status is 1, while the other rows still run."""
    proc = _run(
        [
            "--data-dir",
            str(shared_data),
            "--rows",
            "refill_full_hf,eval_hf",
            "--max-rounds",
            "0",
        ],
        tmp_path,
    )
    assert proc.returncode == 1, proc.stderr[-2000:]
    assert "| refill_full_hf | FAILED |" in proc.stdout
    assert "max_generation_rounds must be >= 1" in proc.stdout
    assert "| eval_hf | ok |" in proc.stdout
    assert (tmp_path / "work" / "refill_full_hf.log").is_file()  # the failing row's full log


def test_ratio_target_turns_a_slow_srl_row_into_a_failure():
    rows = {
        "grpo_plain_hf": {"status": "ok", "median_step_s": 2.0},
        "grpo_srl_hf": {"status": "ok", "median_step_s": 2.2},
        "refill_full_hf": {"status": "ok", "median_step_s": 3.0},
        "refill_adaptive_hf": {"status": "ok", "median_step_s": 4.0},
    }
    assert gpu_check.add_ratios(json.loads(json.dumps(rows)), target=None)
    checked = json.loads(json.dumps(rows))
    assert not gpu_check.add_ratios(checked, target=1.05)
    assert checked["grpo_srl_hf"]["status"] == "MISSED"
    assert checked["grpo_srl_hf"]["ratio_to_baseline"] == pytest.approx(1.1)
    # the refill pair is reported, never held to the overhead target
    assert checked["refill_adaptive_hf"]["status"] == "ok"
    assert "| grpo_srl_hf | MISSED | 2.200 | 1.100 |" in gpu_check.format_table(checked)

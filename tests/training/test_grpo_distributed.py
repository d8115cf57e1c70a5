"""Dynamic sampling across 2 CPU processes (accelerate + gloo): decisions on gathered groups.

The test launches this very file on 2 processes with ``torchrun``; run as a
script it trains a few steps and writes what each process saw to JSON. The layout makes one
group of every round straddle the two processes (G = 4, 6 rows per process: rows 4-7 of each
round are group 1, split 2 + 2), and "cross" prompts get a reward that is constant *within* each
process but differs *between* them: judged on local rewards such a group looks flat and would be
dropped; judged on the gathered group it has spread and must be kept.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

G = 4
ROWS_PER_PROCESS = 6
KINDS = ("cross", "informative", "flat", "cross")  # by pid % 4


def _dataset():
    from datasets import Dataset

    n = 24
    return Dataset.from_dict(
        {
            "prompt": [[{"role": "user", "content": f"Problem {i}: next step?"}] for i in range(n)],
            "pid": list(range(n)),
            "kind": [KINDS[i % len(KINDS)] for i in range(n)],
        }
    )


def _worker(model_dir: str, out_dir: str, refill_size: str = "full") -> None:
    import re

    import torch

    from srlkit.training.grpo import SRLGRPOConfig, SRLGRPOTrainer

    rank = int(
        os.environ["RANK"]
    )  # set by torchrun; the trainer's accelerator must agree (checked below)
    rng = random.Random(1000 + rank)
    calls = []

    def reward(completions, pid, kind, **kwargs):
        values = []
        for k in kind:
            if k == "informative":
                values.append(rng.random())
            elif k == "cross":
                values.append(0.2 if rank == 0 else 0.8)
            else:
                values.append(0.5)
        calls.append({"pid": list(pid), "reward": values})
        return values

    class Recording(SRLGRPOTrainer):
        """Records, per generation, the keep masks and which prompt each real batch row holds."""

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.steps = []

        def _generate_and_score_completions(self, inputs):
            batch = super()._generate_and_score_completions(inputs)
            texts = self.processing_class.batch_decode(
                batch["prompt_ids"], skip_special_tokens=True
            )
            real = (batch["completion_mask"].sum(dim=1) > 0).tolist()
            pids = [int(re.search(r"Problem (\d+)", t).group(1)) for t in texts]
            plan = self.last_dynamic_sampling
            self.steps.append(
                {
                    "keep_masks": self.last_keep_masks,
                    "selected": plan.selected,
                    "padding": plan.padding,
                    "batch_pids": pids,
                    "batch_real": real,
                }
            )
            return batch

    args = SRLGRPOConfig(
        os.path.join(out_dir, "run"),
        use_cpu=True,
        bf16=False,
        per_device_train_batch_size=ROWS_PER_PROCESS,
        num_generations=G,
        max_completion_length=4,
        max_steps=3,
        max_generation_rounds=3,
        refill_size=refill_size,
        learning_rate=1e-2,
        logging_steps=1,
        report_to=[],
        save_strategy="no",
        disable_tqdm=True,
        shuffle_dataset=True,
        seed=0,
    )
    trainer = Recording(model=model_dir, reward_funcs=reward, args=args, train_dataset=_dataset())
    before = torch.cat([p.detach().flatten().clone() for p in trainer.model.parameters()])
    trainer.train()
    after = torch.cat([p.detach().flatten() for p in trainer.model.parameters()])
    result = {
        "rank": trainer.accelerator.process_index,
        "num_processes": trainer.accelerator.num_processes,
        "calls": calls,
        "steps": trainer.steps,
        "param_change": float((after - before).abs().sum()),
        "param_checksum": float(after.double().sum()),
        "metrics": [
            {k: v for k, v in h.items() if k.startswith("dynamic_sampling/")}
            for h in trainer.state.log_history
            if "dynamic_sampling/generation_rounds" in h
        ],
    }
    Path(out_dir, f"rank{rank}.json").write_text(json.dumps(result))
    # Tear the gloo group down before the interpreter exits: left to exit-time destructors, its
    # threads can abort a rank ("terminate called without an active exception") under load.
    trainer.accelerator.wait_for_everyone()
    if torch.distributed.is_initialized():
        torch.distributed.destroy_process_group()


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _expected_keep(kind: str, group: int, rows_per_process: int = ROWS_PER_PROCESS) -> bool:
    """Informative groups always have spread; cross groups only when split over both processes."""
    straddles = (group * G) // rows_per_process != (group * G + G - 1) // rows_per_process
    return kind == "informative" or (kind == "cross" and straddles)


@pytest.mark.slow
@pytest.mark.parametrize("refill_size", ["full", "adaptive"])
def test_two_processes_take_identical_decisions_on_gathered_groups(
    tiny_model_dir, tmp_path, refill_size
):
    # torchrun starts the 2 processes; accelerate (via TrainingArguments(use_cpu=True)) sees the
    # WORLD_SIZE it sets and runs them as MULTI_CPU with the gloo backend.
    # (`accelerate launch --cpu` without MPI would start a single process.)
    torchrun = Path(sys.executable).with_name("torchrun")
    cmd = [
        str(torchrun),
        "--nproc_per_node",
        "2",
        "--master_port",
        str(_free_port()),
        __file__,
        str(tiny_model_dir),
        str(tmp_path),
        refill_size,
    ]
    env = {
        **os.environ,
        "OMP_NUM_THREADS": "1",
        "HF_HUB_OFFLINE": "1",
        "TOKENIZERS_PARALLELISM": "false",
    }
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env, check=False)
    assert proc.returncode == 0, proc.stderr[-4000:]
    r0, r1 = (json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1))

    assert (r0["rank"], r1["rank"], r0["num_processes"]) == (0, 1, 2)
    # every process took the same decisions, ran the same rounds, and ended with the same weights
    assert [s["keep_masks"] for s in r0["steps"]] == [s["keep_masks"] for s in r1["steps"]]
    assert [s["selected"] for s in r0["steps"]] == [s["selected"] for s in r1["steps"]]
    assert r0["param_change"] > 0 and r0["param_checksum"] == r1["param_checksum"]
    assert len(r0["metrics"]) == 3 and r0["metrics"] == r1["metrics"]

    # round by round: groups are whole prompts, and each decision is the one the gathered group implies
    masks = [m for s in r0["steps"] for m in s["keep_masks"]]
    assert len(masks) == len(r0["calls"]) == len(r1["calls"])
    kind_of = {i: KINDS[i % len(KINDS)] for i in range(24)}
    saw_straddling_cross = False
    for mask, c0, c1 in zip(masks, r0["calls"], r1["calls"]):
        pids = c0["pid"] + c1["pid"]
        groups = [pids[j * G : (j + 1) * G] for j in range(len(pids) // G)]
        assert all(len(set(g)) == 1 for g in groups), f"a group mixes prompts: {groups}"
        rows = len(c0["pid"])  # this round's rows per process (fewer in a smaller refill round)
        assert len(c1["pid"]) == rows
        assert mask == [_expected_keep(kind_of[g[0]], j, rows) for j, g in enumerate(groups)]
        saw_straddling_cross |= any(
            kind_of[g[0]] == "cross" and j == 1 for j, g in enumerate(groups)
        )

    # the assembled batch: real rows, read across processes, are the selected groups in order
    for s0, s1 in zip(r0["steps"], r1["steps"]):
        pids = s0["batch_pids"] + s1["batch_pids"]
        real = s0["batch_real"] + s1["batch_real"]
        n_real = len(s0["selected"]) * G
        assert real == [True] * n_real + [False] * (len(real) - n_real)
        for k in range(len(s0["selected"])):
            group = pids[k * G : (k + 1) * G]
            assert len(set(group)) == 1 and kind_of[group[0]] in ("informative", "cross")
    assert saw_straddling_cross, "the seeded run never put a cross prompt across the processes"

    # the rollout log, written by the main process only: whole groups of its own rows, each with
    # the keep decision every process took
    run_dir = tmp_path / "run"
    logged = [json.loads(line) for line in (run_dir / "rollouts.jsonl").read_text().splitlines()]
    assert {rec["step"] for rec in logged} == {1, 2, 3}
    for rec in logged:
        assert (rec["group"] + 1) * G <= ROWS_PER_PROCESS and len(rec["rollouts"]) == G
        assert rec["kept"] == r0["steps"][rec["step"] - 1]["keep_masks"][rec["round"]][rec["group"]]

    # each round had the size the refill rule gives from the step's earlier rounds
    from srlkit.training.dynamic_sampling import refill_groups

    batch_groups = 2 * ROWS_PER_PROCESS // G
    refill_sizes = [len(m) for s in r0["steps"] for m in s["keep_masks"][1:]]
    if refill_size == "adaptive":  # the seeded run has a refill round smaller than B
        assert any(n < batch_groups for n in refill_sizes), refill_sizes
    else:
        assert refill_sizes and all(n == batch_groups for n in refill_sizes)
    for step in r0["steps"]:
        sizes, kept, generated = [len(m) for m in step["keep_masks"]], 0, 0
        for r, mask in enumerate(step["keep_masks"]):
            if r > 0:
                missing = batch_groups - min(kept, batch_groups)
                expected = refill_groups(
                    missing, generated, kept, batch_groups, refill_size, last_round=r == 2
                )
                assert sizes[r] == expected, (refill_size, step["keep_masks"])
            kept, generated = kept + sum(mask), generated + len(mask)


if __name__ == "__main__":
    _worker(*sys.argv[1:4])

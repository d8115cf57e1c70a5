"""R3 (reverse curriculum from expert prefixes): stage plan, episode prompts, data, a real run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from training_helpers import tiny_argv

from srlkit.data.schema import KIND_MATH, Step, Trajectory
from srlkit.io import DataError, write_jsonl
from srlkit.training.config import R3Config, parse_method_args
from srlkit.training.r3 import (
    COL_PREFIX_STEPS,
    COL_STAGE,
    episode_prompt,
    load_r3_rows,
    prefix_lengths,
    r3_rows,
    rows_per_stage,
)

TEMPLATE = "{problem}\n\nAnswer in \\boxed{}."


def _trajectory(tid: str, n_steps: int, answer: str | None = "9") -> Trajectory:
    steps = [Step(title=f"Step {i}", body=f"body {i}") for i in range(1, n_steps)]
    steps.append(Step(title="Answer", body=f"\\boxed{{{answer}}}"))
    return Trajectory(
        id=tid, task=f"Problem {tid}?", steps=steps, kind=KIND_MATH, final_answer=answer
    )


class _Template:
    """A tokenizer stand-in with a chat template: renders ``<u>text</u><a>``."""

    chat_template = "x"

    def apply_chat_template(self, messages, tokenize, add_generation_prompt):
        assert not tokenize and add_generation_prompt
        return "".join(f"<u>{m['content']}</u>" for m in messages) + "<a>"


@pytest.mark.parametrize(
    ("num_steps", "stages", "expected"),
    [(7, 4, [6, 4, 2, 0]), (3, 3, [2, 1, 0]), (5, 1, [0]), (1, 3, [0, 0, 0])],
)
def test_prefix_lengths_go_from_just_before_the_answer_to_the_plain_problem(
    num_steps, stages, expected
):
    assert prefix_lengths(num_steps, stages) == expected


def test_prefix_lengths_need_a_stage():
    with pytest.raises(ValueError, match="at least one stage"):
        prefix_lengths(4, 0)


def test_episode_prompt_continues_the_assistant_turn_with_expert_steps():
    traj = _trajectory("a", 4)
    text = episode_prompt(_Template(), traj, 2, TEMPLATE, prefix_open="<think></think>\n")
    assert text == (
        "<u>Problem a?\n\nAnswer in \\boxed{}.</u><a><think></think>\n"
        "1. **Step 1** body 1\n2. **Step 2** body 2\n"
    )
    plain = episode_prompt(object(), traj, 0, TEMPLATE)  # no chat template: the text itself
    assert plain == "Problem a?\n\nAnswer in \\boxed{}.\n\n"


def test_rows_are_ordered_stage_by_stage_and_cycle_through_the_data():
    trajs = [_trajectory(t, 5) for t in "abc"]
    rows = r3_rows(trajs, _Template(), TEMPLATE, stages=3, rows_per_stage=4, seed=1)
    assert [r[COL_STAGE] for r in rows] == [0] * 4 + [1] * 4 + [2] * 4
    assert [r[COL_PREFIX_STEPS] for r in rows] == [4] * 4 + [2] * 4 + [0] * 4
    assert {r["answer"] for r in rows} == {"9"}
    first = rows[:3]  # one full pass over the three problems before any repeats
    assert sorted(r["prompt"].split("</u>")[0] for r in first) == [
        f"<u>Problem {t}?\n\nAnswer in \\boxed{{}}." for t in "abc"
    ]
    assert rows[0]["prompt"].endswith("4. **Step 4** body 4\n")


def test_rows_per_stage_shares_the_step_budget():
    args = R3Config(
        output_dir="/tmp/unused",
        max_steps=10,
        per_device_train_batch_size=8,
        num_generations=4,
        r3_stages=4,
        use_cpu=True,
        bf16=False,
    )
    assert rows_per_stage(args, 4, 100) == 5  # 10 steps x 2 prompts / 4 stages
    args.max_steps = -1
    assert rows_per_stage(args, 4, 100) == 100


def test_config_refuses_a_shuffled_curriculum():
    parsed = parse_method_args("r3", ["--output_dir", "/tmp/r3", "--use_cpu", "true"])
    assert isinstance(parsed.train, R3Config)
    assert parsed.train.shuffle_dataset is False and parsed.train.r3_stages == 4
    with pytest.raises(ValueError, match="shuffle_dataset false"):
        parse_method_args(
            "r3", ["--output_dir", "/tmp/r3", "--use_cpu", "true", "--shuffle_dataset", "true"]
        )


def test_loader_counts_what_it_drops(tmp_path):
    path = tmp_path / "traj.jsonl"
    records = [
        _trajectory("a", 3).to_dict(),
        _trajectory("b", 3, answer=None).to_dict(),
        {"id": "c", "no": "steps"},
    ]
    write_jsonl(path, records)
    args = R3Config(output_dir=str(tmp_path), use_cpu=True, bf16=False, r3_stages=2)
    rows, summary = load_r3_rows(path, _Template(), args, TEMPLATE)
    assert len(rows) == 2  # one trajectory x two stages (no step budget: one pass each)
    counts = summary.to_dict()
    assert counts["records_in"] == 3 and counts["kept"] == 1
    assert counts["dropped"]["trajectory has no final_answer"] == 1
    empty = tmp_path / "empty.jsonl"
    write_jsonl(empty, [records[1]])
    with pytest.raises(DataError, match="no trajectories usable for r3"):
        load_r3_rows(empty, _Template(), args, TEMPLATE)


@pytest.mark.slow
def test_srl_train_r3_runs_the_curriculum(tmp_path, tiny_model_dir, srl_data):
    from srlkit.cli.main import main

    out = tmp_path / "r3"
    argv = tiny_argv("r3", tiny_model_dir, out, "--train_file", str(srl_data["trajectories"]))
    assert main(["train", "r3", *argv]) == 0
    summary = json.loads((out / "run_summary.json").read_text(encoding="utf-8"))
    assert summary["method"] == "r3" and summary["global_step"] == 4
    data = json.loads((out / "data_summary.json").read_text(encoding="utf-8"))["train"]
    assert data["records_in"] == data["kept"] + sum(data["dropped"].values())
    assert Path(out / "model.safetensors").is_file()

"""Training data: every record is kept or counted as dropped with a reason, on real files."""

from __future__ import annotations

import json

import pytest
from training_helpers import gsm8k_trajectories, step_instances

from srlkit.data.reader import ReadSummary
from srlkit.data.schema import KIND_AGENT, Step, Trajectory
from srlkit.io import ConfigError, DataError, write_jsonl
from srlkit.training import datasets as tdata
from srlkit.training.config import DEFAULT_RLVR_PROMPT


def _reconciles(summary: ReadSummary) -> bool:
    return summary.records_in == summary.kept + sum(summary.dropped.values())


def test_srl_instances_keep_only_trainer_columns_and_count_bad_lines(tmp_path, shared_data):
    good = [i.to_dict() for i in step_instances(gsm8k_trajectories(shared_data, 2))]
    good[0]["metadata"] = {"nested": {"any": ["shape"]}}
    path = tmp_path / "train.jsonl"
    lines = [json.dumps(r) for r in good]
    lines += [
        "{not json",
        json.dumps({"prompt": "a string", "target": "x"}),
        json.dumps({**good[1], "target": " "}),
        json.dumps({**good[1], "kind": "robot"}),
        "[1, 2]",
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    rows, summary = tdata.load_srl_instances(path)
    assert len(rows) == len(good) == summary.kept and summary.records_in == len(good) + 5
    assert _reconciles(summary) and len(summary.dropped) == 5
    assert set(rows[0]) == {"prompt", "target", "kind", "continuation", "id"}
    assert rows[0]["continuation"] is False
    assert rows[0]["target"] == good[0]["target"]


def test_rlvr_prompts_from_real_math_sets(shared_data):
    rows, summary = tdata.load_rlvr_problems(
        shared_data / "math500" / "test.jsonl", DEFAULT_RLVR_PROMPT
    )
    assert len(rows) == 500 and _reconciles(summary)
    assert rows[0]["prompt"][0]["role"] == "user" and rows[0]["prompt"][0]["content"].endswith(
        "within \\boxed{}."
    )
    rows, summary = tdata.load_rlvr_problems(
        shared_data / "gsm8k" / "test.jsonl", DEFAULT_RLVR_PROMPT, "question"
    )
    assert len(rows) == 1319 and rows[0]["answer"].rstrip().split("#### ")[-1].isdigit()
    rows, summary = tdata.load_rlvr_problems(
        shared_data / "s1k_questions" / "s1k.json", DEFAULT_RLVR_PROMPT, answer_field="solution"
    )
    assert summary.records_in == 1000 and _reconciles(summary) and len(rows) == summary.kept > 900
    rows, summary = tdata.load_rlvr_problems(
        shared_data / "minerva_math" / "test.jsonl", DEFAULT_RLVR_PROMPT
    )
    assert rows == [] and summary.dropped == {
        "'answer' missing or empty": 272
    }  # gold lives in 'solution'


def test_rlvr_template_needs_placeholder(shared_data):
    with pytest.raises(ConfigError, match=r"\{problem\}"):
        tdata.load_rlvr_problems(shared_data / "gsm8k" / "test.jsonl", "Solve it.")


def test_sft_full_and_outline_from_trajectories(tmp_path, shared_data):
    trajs = gsm8k_trajectories(shared_data, 3)
    trajs[0].thinking = "Let me add the numbers."
    path = tmp_path / "traj.jsonl"
    write_jsonl(path, (t.to_dict() for t in trajs))
    full, _ = tdata.load_sft_examples(path, "full")
    outline, summary = tdata.load_sft_examples(path, "outline")
    assert len(full) == len(outline) == 3 and _reconciles(summary)
    assert full[0]["completion"][0]["content"].startswith(
        "<think>\nLet me add the numbers.\n</think>"
    )
    assert outline[0]["completion"][0]["content"].startswith("1. ")
    assert full[1] == outline[1]  # no thinking trace: full and outline agree
    assert outline[0]["prompt"] == [{"role": "user", "content": trajs[0].task}]


def test_sft_reads_a_build_folder_and_refuses_instances(tmp_path, shared_data):
    """SFT trains on the trajectories `srl data build` parsed (no regrouping of instances), and
    an instance file gets a one-line error saying where the trajectories are."""
    from srlkit.data.build import BuildConfig, build_dataset

    out = tmp_path / "built"
    stats = build_dataset([shared_data / "gsm8k" / "test.jsonl"], out, BuildConfig(parquet=False))
    rows, summary = tdata.load_sft_examples(out, "outline")
    assert len(rows) == stats.splits["train"].trajectories and _reconciles(summary)
    assert rows[0]["completion"][0]["content"].startswith("1. ")
    val_rows, _ = tdata.load_sft_examples(out, "outline", split="validation")
    assert len(val_rows) == stats.splits["validation"].trajectories
    with pytest.raises(DataError, match=r"train\.jsonl: holds step instances"):
        tdata.load_sft_examples(out / "train.jsonl", "outline")


def test_sft_reads_trl_prompt_completion_files_as_they_are(tmp_path):
    """A file already in TRL's conversational prompt-completion form (a prompt other than the
    bare problem, as the demo's warm start writes) is used as is; a record of another shape in
    it is a counted drop, not a crash."""
    prompt = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "1+1?"}]
    completion = [{"role": "assistant", "content": "2"}]
    path = tmp_path / "pc.jsonl"
    write_jsonl(
        path,
        [
            {"id": "a", "prompt": prompt, "completion": completion},
            {"id": "b", "problem": "2+2?", "solution": "4"},
        ],
    )
    rows, summary = tdata.load_sft_examples(path)
    assert rows == [{"prompt": prompt, "completion": completion}]
    counts = summary.to_dict()
    assert counts["records_in"] == 2 and counts["kept"] == 1
    assert counts["dropped"] == {"not a prompt-completion example (chat messages in both)": 1}


def test_sft_agent_trajectory_is_multi_turn():
    traj = Trajectory(
        id="t",
        task="Fix the bug",
        kind=KIND_AGENT,
        steps=[
            Step(thought="look first", action="ls", observation="a.py"),
            Step(action="cat a.py", observation="x"),
        ],
    )
    full = tdata.sft_row(traj, "full")["messages"]
    assert [m["role"] for m in full] == ["user", "assistant", "user", "assistant"]
    assert full[1]["content"] == "look first\n\nls" and full[2]["content"] == "a.py"
    assert tdata.sft_row(traj, "outline")["messages"][1]["content"] == "ls"


def test_prompt_length_filter_counts_drops(tiny_model_dir, shared_data):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    rows, summary = tdata.load_rlvr_problems(
        shared_data / "gsm8k" / "test.jsonl", DEFAULT_RLVR_PROMPT, "question"
    )
    lengths = [
        len(
            tok.apply_chat_template(r["prompt"], add_generation_prompt=True, tokenize=True)[
                "input_ids"
            ]
        )
        for r in rows[:50]
    ]
    limit = sorted(lengths)[25]
    kept = tdata.filter_prompt_length(
        rows[:50], tok, limit, summary, chunk_size=16
    )  # several chunks
    assert len(kept) == sum(n <= limit for n in lengths)
    assert summary.dropped[f"prompt longer than max_prompt_length={limit} tokens"] == 50 - len(kept)
    capped = tdata.cap_rows(kept, summary, 3)
    assert len(capped) == 3 and summary.dropped["beyond max_samples=3"] == len(kept) - 3


def test_tiny_rlvr_recipe_reads_real_gsm8k(tmp_path, tiny_model_dir):
    """The recipe's relative paths reach ../shared/data; both splits are built and counted."""
    from training_helpers import tiny_argv
    from transformers import AutoTokenizer

    from srlkit.training.config import parse_method_args
    from srlkit.training.runner import build_datasets

    args = parse_method_args("rlvr", tiny_argv("rlvr", tiny_model_dir, tmp_path / "run"))
    train, evaluation, summary = build_datasets(args, AutoTokenizer.from_pretrained(tiny_model_dir))
    assert len(train) == 32 and len(evaluation) == 2
    assert summary["train"]["records_in"] == 7473 and summary["train"]["dropped"] == {
        "beyond max_samples=32": 7441
    }
    assert summary["eval"]["records_in"] == 1319
    assert train[0]["prompt"][0]["content"].startswith("Natalia sold clips") and train[0][
        "answer"
    ].endswith("#### 72")


def test_sft_counts_prompts_that_leave_no_room_for_the_completion(
    tmp_path, tiny_model_dir, srl_data
):
    from training_helpers import tiny_argv
    from transformers import AutoTokenizer

    from srlkit.training.config import parse_method_args
    from srlkit.training.runner import build_datasets

    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    rows, _ = tdata.load_sft_examples(srl_data["trajectories"], "outline")
    lengths = sorted(
        len(
            tok.apply_chat_template(r["prompt"], add_generation_prompt=True, tokenize=True)[
                "input_ids"
            ]
        )
        for r in rows
    )
    max_length = (
        lengths[len(lengths) // 2] + 1
    )  # about half the prompts fit with one token to spare
    extra = ["--train_file", str(srl_data["trajectories"]), "--max_length", str(max_length)]
    args = parse_method_args("sft", tiny_argv("sft", tiny_model_dir, tmp_path / "run", *extra))
    train, _, summary = build_datasets(args, tok)
    reason = f"prompt leaves no completion token within max_length={max_length}"
    assert len(train) == sum(n <= max_length - 1 for n in lengths) > 0
    assert summary["train"]["dropped"] == {reason: len(rows) - len(train)}


def test_continuation_instances_are_rendered_to_text_that_continues_the_answer(
    tmp_path, tiny_model_dir, shared_data
):
    """TRL would close an opened answer; the loader renders every prompt as `srl eval` does."""
    from transformers import AutoTokenizer

    from srlkit.data.instances import InstanceOptions, build_instances
    from srlkit.evaluation.prompts import render_prompt

    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    trajectories = gsm8k_trajectories(shared_data, 3)
    options = InstanceOptions(layout="continuation")
    instances = [i for t in trajectories for i in build_instances(t, options)]
    write_jsonl(tmp_path / "train.jsonl", (i.to_dict() for i in instances))
    rows, summary = tdata.load_srl_instances(tmp_path / "train.jsonl")
    assert all(row["continuation"] for row in rows) and summary.kept == len(instances)
    rendered = tdata.render_text_prompts(rows, tok)
    last = instances[-1]
    opened = last.prompt[-1]["content"]
    assert rendered[-1]["prompt"] == render_prompt(tok, last.prompt)
    assert rendered[-1]["prompt"].endswith("<|im_start|>assistant\n" + opened)
    assert opened.endswith("\n") and opened.count("\n") == last.step_index - 1
    # Counted in tokens as TRL will tokenize the text; a limit below the longest drops rows.
    lengths = [len(tok(r["prompt"])["input_ids"]) for r in rendered]
    kept = tdata.filter_prompt_length(rendered, tok, max(lengths) - 1, summary)
    assert len(kept) == sum(n < max(lengths) for n in lengths)
    # Paper-layout rows stay conversational: TRL applies the chat template itself.
    paper = [tdata.srl_row(i) for t in trajectories for i in build_instances(t)]
    assert tdata.render_text_prompts(paper, tok) == paper


class _BosTemplateTokenizer:
    """A Llama-3-like tokenizer: its chat template writes the BOS, and tokenizing adds one."""

    chat_template = "template"
    bos_token, bos_token_id = "<s>", 1

    def apply_chat_template(self, messages, tokenize, add_generation_prompt):
        return "<s>" + "".join(f"[{m['role']}]{m['content']}" for m in messages) + "[assistant]"

    def __call__(self, text):
        return {"input_ids": [self.bos_token_id, 7]}


def test_a_bos_written_by_the_template_is_not_doubled():
    """TRL tokenizes text prompts with special tokens: the rendered BOS would come twice."""
    rows = [
        {
            "prompt": [
                {"role": "user", "content": "Q"},
                {"role": "assistant", "content": "1. a\n"},
            ],
            "continuation": True,
        }
    ]
    rendered = tdata.render_text_prompts(rows, _BosTemplateTokenizer())
    assert rendered[0]["prompt"] == "[user]Q[assistant]1. a\n"

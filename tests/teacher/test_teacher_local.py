"""A local tiny model as the teacher, end to end: generate, verify, write, rerun from cache."""

from __future__ import annotations

import json

import pytest

from srlkit.teacher.config import GenerateConfig
from srlkit.teacher.prompts import load_prompt
from srlkit.teacher.run import STATS_FILE, TRAJECTORIES_FILE, run_teacher

ANSWER = "SOLUTION:\n1. **Add** $2+3=5$\n2. **Answer** $\\boxed{5}$"
PROBLEMS = [
    {"id": "p1", "problem": "What is 2+3?", "answer": "5"},
    {"id": "p2", "problem": "What is 2+4?", "answer": "6"},  # the memorised reply is wrong here
    {
        "id": "p3",
        "problem": "Prove that there are infinitely many primes.",
        "solution": "Suppose finitely many ... " * 8,
    },
]


def _overfit(model_dir, prompt_texts: list[str], reply: str, steps: int = 80) -> None:
    """Teach the tiny model to answer every prompt with ``reply`` (it then writes real steps)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir)
    torch.manual_seed(0)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-2)
    batch = []
    for text in prompt_texts:
        prefix = tok.apply_chat_template(
            [{"role": "user", "content": text}], tokenize=False, add_generation_prompt=True
        )
        ids = tok(prefix + reply + "<|im_end|>", add_special_tokens=False)["input_ids"]
        n_prefix = len(tok(prefix, add_special_tokens=False)["input_ids"])
        labels = [-100] * n_prefix + ids[n_prefix:]
        batch.append((torch.tensor([ids]), torch.tensor([labels])))
    model.train()
    for _ in range(steps):
        for ids, labels in batch:
            loss = model(input_ids=ids, labels=labels).loss
            loss.backward()
            opt.step()
            opt.zero_grad()
    model.save_pretrained(model_dir)


@pytest.mark.slow
def test_local_tiny_model_teacher_end_to_end(tmp_path):
    from srlkit.models.tiny import TinyModelConfig, build_tiny_model

    prompt_file = tmp_path / "short_prompt.txt"  # a short prompt keeps CPU training quick
    prompt_file.write_text(
        "Solve in numbered steps, answer in \\boxed{}.\n{problem}\n", encoding="utf-8"
    )
    prompt = load_prompt("generate", prompt_file)
    prompts = [prompt.render(p["problem"]) for p in PROBLEMS[:2]]
    model_dir = build_tiny_model(
        tmp_path / "tiny",
        corpus=prompts + [ANSWER] * 5,
        config=TinyModelConfig(vocab_size=512, max_position_embeddings=1024),
    )
    _overfit(model_dir, prompts, ANSWER)
    inputs = tmp_path / "problems.jsonl"
    inputs.write_text("".join(json.dumps(p) + "\n" for p in PROBLEMS), encoding="utf-8")
    config = GenerateConfig(
        inputs=[str(inputs)],
        out=str(tmp_path / "out"),
        teacher=str(model_dir),
        num_samples=2,
        temperature=0.0,
        max_tokens=48,
        batch_size=4,
        device="cpu",
        progress=False,
        prompt_file=str(prompt_file),
    )
    stats = run_teacher(config)
    assert stats["teacher"] == {"teacher": "local-hf", "model": str(model_dir)}
    assert stats["problems"]["gold"] == {"checkable": 2, "proof": 1}
    assert stats["problems"]["asked"] == 2  # the proof is reported, not asked
    samples = stats["samples"]
    assert samples["in"] == 4 == samples["kept"] + samples["dropped_total"]
    # greedy: both samples of p1 are the memorised, right solution (one kept, one duplicate);
    # p2 gets the same reply, whose answer 5 is wrong against 6.
    assert samples["kept"] == 1 and samples["dropped"] == {"wrong_answer": 2, "duplicate": 1}
    traj = json.loads((tmp_path / "out" / TRAJECTORIES_FILE).read_text().splitlines()[0])
    assert traj["metadata"]["record_id"] == "p1"
    assert [s["title"] for s in traj["steps"]] == ["Add", "Answer"]
    assert stats["requests"]["completion_tokens"] > 0

    rerun = run_teacher(config)  # fully cached: no model is even loaded
    assert rerun["requests"]["asked"] == 0 and rerun["samples"] == samples
    assert json.loads((tmp_path / "out" / STATS_FILE).read_text())["requests"]["cached"] == 4

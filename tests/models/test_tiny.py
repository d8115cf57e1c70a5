from transformers import AutoModelForCausalLM, AutoTokenizer

from srlkit.models.tiny import SPECIAL_TOKENS


def test_tiny_model_loads_by_path_and_generates(tiny_model_dir):
    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    assert model.config.model_type == "qwen2"
    assert 50_000 < sum(p.numel() for p in model.parameters()) < 1_000_000
    prompt = tok.apply_chat_template(
        [{"role": "user", "content": "What is 2 + 3?"}], tokenize=False, add_generation_prompt=True
    )
    assert prompt.endswith("<|im_start|>assistant\n")
    out = model.generate(**tok(prompt, return_tensors="pt"), max_new_tokens=5, do_sample=False)
    assert out.shape[1] > len(tok(prompt)["input_ids"])


def test_special_tokens_are_single_tokens(tiny_model_dir):
    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    for special in SPECIAL_TOKENS:
        assert len(tok.encode(special, add_special_tokens=False)) == 1, special
    # byte-level BPE: any text, including non-ASCII, round-trips
    text = "Ω ≤ 3 — ✓ 你好"
    assert tok.decode(tok.encode(text, add_special_tokens=False)) == text

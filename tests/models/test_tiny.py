from transformers import AutoModelForCausalLM, AutoTokenizer

from srlkit.models.tiny import SPECIAL_TOKENS, THINK_TAGS


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
    for special in SPECIAL_TOKENS + THINK_TAGS:
        assert len(tok.encode(special, add_special_tokens=False)) == 1, special
    # byte-level BPE: any text, including non-ASCII, round-trips
    text = "Ω ≤ 3 — ✓ 你好"
    assert tok.decode(tok.encode(text, add_special_tokens=False)) == text


def test_think_tags_survive_decoding_without_special_tokens(tiny_model_dir):
    # TRL decodes completions with skip_special_tokens=True: the tags must not be special.
    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    ids = tok.encode("<think>plan</think>1. **Add** 2 + 3 = 5<|im_end|>", add_special_tokens=False)
    assert tok.decode(ids, skip_special_tokens=True) == "<think>plan</think>1. **Add** 2 + 3 = 5"
    # fixed ids: recipes bias </think> by id (recipes/tiny/*/config.yaml)
    assert tok.convert_tokens_to_ids(THINK_TAGS) == [3, 4]

"""LoRA adapters load from any working directory: recorded as absolute, resolved when relative."""

from __future__ import annotations

import json
import shutil

import pytest
import torch

from srlkit.models.adapters import adapter_base_model, is_adapter, load_causal_lm

peft = pytest.importorskip("peft")


@pytest.fixture
def legacy_adapter(tmp_path, tiny_model_dir, monkeypatch):
    """A run laid out as users have it (work/base, work/runs/srl), its adapter trained from the
    relative path ``base`` in ``work`` (what PEFT records when given a relative path)."""
    from transformers import AutoModelForCausalLM

    work = tmp_path / "work"
    shutil.copytree(tiny_model_dir, work / "base")
    monkeypatch.chdir(work)
    model = AutoModelForCausalLM.from_pretrained("base")
    config = peft.LoraConfig(
        r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"], init_lora_weights=False
    )
    lora = peft.get_peft_model(model, config)
    adapter = work / "runs" / "srl"
    lora.save_pretrained(adapter)
    assert (
        json.loads((adapter / "adapter_config.json").read_text())["base_model_name_or_path"]
        == "base"
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    return adapter, work / "base", lora


def test_relative_base_is_found_above_the_adapter_folder(legacy_adapter):
    adapter, base, _ = legacy_adapter
    assert is_adapter(adapter) and not is_adapter(base)
    assert adapter_base_model(adapter) == str(base.resolve())


def test_plain_from_pretrained_fails_where_load_causal_lm_works(legacy_adapter):
    from transformers import AutoModelForCausalLM

    adapter, _, lora = legacy_adapter
    with pytest.raises(Exception):  # noqa: B017 - the bug being fixed: base "base" not found here
        AutoModelForCausalLM.from_pretrained(str(adapter))
    model = load_causal_lm(adapter)
    assert not any("lora" in n for n, _ in model.named_parameters())
    ids = torch.tensor([[5, 6, 7, 8]])
    with torch.no_grad():
        torch.testing.assert_close(model(ids).logits, lora(ids).logits, rtol=1e-4, atol=1e-5)


def test_hub_ids_and_absolute_paths_are_left_as_written(tmp_path):
    for base in ("Qwen/Qwen2.5-7B-Instruct", str(tmp_path / "abs")):
        (tmp_path / "a").mkdir(exist_ok=True)
        (tmp_path / "a" / "adapter_config.json").write_text(
            json.dumps({"base_model_name_or_path": base})
        )
        assert adapter_base_model(tmp_path / "a") == base


def test_eval_backend_loads_a_legacy_adapter(legacy_adapter):
    from srlkit.evaluation.backends import HFBackend

    adapter, base, _ = legacy_adapter
    for name in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copy(base / name, adapter / name)
    backend = HFBackend.from_pretrained(str(adapter), device="cpu", dtype="float32")
    assert not any("lora" in n for n, _ in backend.model.named_parameters())

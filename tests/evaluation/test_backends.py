"""Backends: vLLM's clear message when missing, explicit sampling settings, token accounting."""

from __future__ import annotations

import importlib.util

import pytest

from srlkit.evaluation.backends import (
    FINISH_LENGTH,
    FINISH_STOP,
    HFBackend,
    SamplingSettings,
    load_backend,
)


@pytest.mark.skipif(importlib.util.find_spec("vllm") is not None, reason="vllm is installed here")
def test_vllm_backend_without_vllm_says_how_to_install():
    with pytest.raises(ImportError, match=r"pip install 'srlkit\[vllm\]'"):
        load_backend("vllm", "any/model")


def test_unknown_backend():
    with pytest.raises(ValueError, match="unknown backend 'tgi'"):
        load_backend("tgi", "any/model")


@pytest.mark.slow
def test_sampling_settings_replace_the_models_shipped_defaults(tiny_model_dir):
    backend = HFBackend.from_pretrained(str(tiny_model_dir), device="cpu")
    prompts = ["1 + 1 =", "How many"]
    greedy = SamplingSettings(temperature=0.0, max_new_tokens=8)
    clean = [g.text for g in backend.generate(prompts, greedy)]
    shipped = backend.model.generation_config  # as Qwen2.5-Instruct ships, with a stronger penalty
    shipped.top_k, shipped.top_p, shipped.min_p, shipped.repetition_penalty = 20, 0.8, 0.3, 5.0
    assert [g.text for g in backend.generate(prompts, greedy)] == clean
    enc = backend.tokenizer(prompts, return_tensors="pt", padding=True)
    plain = backend.model.generate(**enc, max_new_tokens=8, do_sample=False)  # inherits the penalty
    assert backend.tokenizer.batch_decode(plain[:, enc["input_ids"].shape[1] :]) != clean
    merged, _ = backend.model._prepare_generation_config(
        backend._generation_config(SamplingSettings(temperature=1.0, max_new_tokens=7))
    )
    knobs = (
        merged.do_sample,
        merged.temperature,
        merged.top_p,
        merged.top_k,
        merged.min_p,
        merged.repetition_penalty,
    )
    assert knobs == (True, 1.0, 1.0, 0, 0.0, 1.0)
    assert merged.max_new_tokens == 7


@pytest.mark.slow
def test_a_shared_model_and_tokenizer_are_left_as_they_were(tiny_model_dir):
    backend = HFBackend.from_pretrained(str(tiny_model_dir), device="cpu")
    backend.tokenizer.padding_side = "right"  # as a trainer may have set it
    backend.model.train()
    backend.generate(["1 + 1 =", "How many"], SamplingSettings(max_new_tokens=2))
    assert backend.tokenizer.padding_side == "right" and backend.model.training


@pytest.mark.slow
def test_completion_is_cut_at_the_first_end_of_sequence_token(tiny_model_dir):
    backend = HFBackend.from_pretrained(str(tiny_model_dir), device="cpu")
    tok = backend.tokenizer
    ids = tok.encode("x = 5", add_special_tokens=False)
    eos, pad = tok.eos_token_id, tok.pad_token_id
    stopped = backend._to_generation([*ids, eos, pad, pad])
    assert (stopped.text, stopped.num_tokens, stopped.finish_reason) == (
        "x = 5",
        len(ids) + 1,
        FINISH_STOP,
    )
    cut = backend._to_generation(ids)
    assert (cut.text, cut.num_tokens, cut.finish_reason) == ("x = 5", len(ids), FINISH_LENGTH)
    think = tok.convert_tokens_to_ids("<think>")
    kept = backend._to_generation([think, *ids, eos])
    assert kept.text.startswith("<think>")  # special think tags survive decoding


@pytest.mark.skipif(importlib.util.find_spec("vllm") is not None, reason="vllm is installed here")
def test_configs_choose_their_backend(tmp_path):
    from srlkit.evaluation.backends import backend_for
    from srlkit.evaluation.runner import EvalConfig
    from srlkit.evaluation.steps import StepEvalConfig

    for config in (
        EvalConfig(model="m", out_dir=str(tmp_path), backend="vllm", tensor_parallel_size=2),
        StepEvalConfig(model="m", data="d", out_dir=str(tmp_path), backend="vllm"),
    ):
        with pytest.raises(ImportError, match="the vLLM backend needs the vllm package"):
            backend_for(config)

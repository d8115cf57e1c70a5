"""Randomly initialised models of a real model's shape, built locally: a GPU dry run with no download.

Why: the GPU path (bf16 training, vLLM generation, memory) behaves according to the model's
*shape*, not its weights. ``benchmarks/gpu_check.py`` builds a Qwen2.5-0.5B-shaped model here
(24 layers, width 896, 14 heads with 2 KV heads, a 151,936-row embedding tied to the output
layer) and a tokenizer of the same vocabulary size, then trains and serves it like the real one.

The tokenizer is a byte-level BPE trained on a local corpus (so prompts are compressed roughly
as a real BPE compresses them), with ChatML and the think tags as in
:mod:`srlkit.models.tiny`; its vocabulary is padded with plain filler tokens up to the model's
embedding size. Every id a randomly initialised model samples then decodes to text, which
vLLM's detokeniser needs (real Qwen2.5 has 271 embedding rows with no token; a trained model
never samples them, a random one samples them all the time).
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from srlkit.models.tiny import build_tiny_tokenizer, save_built_model

logger = logging.getLogger(__name__)

# Plain ASCII (a byte-level BPE maps it to itself); not `<|...|>`, which reads as a special token
# and would fail the SRL format check on every output of a random model.
FILLER = "~f{}~"


@dataclass(frozen=True)
class ModelShape:
    """The sizes that decide compute and memory; values of a real config.json."""

    name: str
    vocab_size: int
    hidden_size: int
    intermediate_size: int
    num_hidden_layers: int
    num_attention_heads: int
    num_key_value_heads: int
    max_position_embeddings: int = 32768
    rope_theta: float = 1000000.0
    rms_norm_eps: float = 1e-6
    tie_word_embeddings: bool = True
    bpe_merges_vocab: int = 32000  # trained BPE part of the vocabulary; the rest is filler


# Qwen/Qwen2.5-0.5B-Instruct config.json (494M parameters).
QWEN25_05B = ModelShape("qwen2.5-0.5b", 151936, 896, 4864, 24, 14, 2)
# The same structure at test size (CPU, seconds).
TINY = ModelShape("tiny", 2048, 64, 192, 2, 4, 2, 4096, bpe_merges_vocab=1024)
SHAPES = {s.name: s for s in (QWEN25_05B, TINY)}


def build_padded_tokenizer(corpus: Iterable[str], bpe_vocab: int, vocab_size: int):
    """A BPE tokenizer trained to ``bpe_vocab`` entries, padded with fillers to ``vocab_size``."""
    from tokenizers import Tokenizer
    from transformers import PreTrainedTokenizerFast

    trained = build_tiny_tokenizer(corpus, min(bpe_vocab, vocab_size))
    serialised = json.loads(trained.backend_tokenizer.to_str())
    vocab = serialised["model"]["vocab"]
    taken = len(trained)
    for token_id in range(taken, vocab_size):
        vocab[FILLER.format(token_id)] = token_id
    padded = PreTrainedTokenizerFast(
        tokenizer_object=Tokenizer.from_str(json.dumps(serialised)),
        eos_token=trained.eos_token,
        pad_token=trained.pad_token,
        bos_token=None,
        unk_token=None,
        additional_special_tokens=["<|im_start|>"],
        model_max_length=trained.model_max_length,
    )
    padded.chat_template = trained.chat_template
    if len(padded) != vocab_size:
        raise RuntimeError(f"padded tokenizer has {len(padded)} entries, expected {vocab_size}")
    return padded


def build_shaped_model(
    out_dir: str | os.PathLike[str],
    corpus: Iterable[str],
    shape: ModelShape = QWEN25_05B,
    dtype: str = "bfloat16",
    seed: int = 0,
) -> Path:
    """Save a random model of ``shape`` and its padded tokenizer to ``out_dir``; returns it.

    A folder that already holds a model of this shape is reused (building the 0.5B shape takes
    about a minute on CPU).
    """
    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM

    out = Path(out_dir)
    marker = out / "srlkit_shape.json"
    if (
        marker.is_file()
        and json.loads(marker.read_text(encoding="utf-8")).get("name") == shape.name
    ):
        return out
    tokenizer = build_padded_tokenizer(corpus, shape.bpe_merges_vocab, shape.vocab_size)
    torch.manual_seed(seed)
    config = Qwen2Config(
        vocab_size=shape.vocab_size,
        hidden_size=shape.hidden_size,
        intermediate_size=shape.intermediate_size,
        num_hidden_layers=shape.num_hidden_layers,
        num_attention_heads=shape.num_attention_heads,
        num_key_value_heads=shape.num_key_value_heads,
        max_position_embeddings=shape.max_position_embeddings,
        rope_theta=shape.rope_theta,
        rms_norm_eps=shape.rms_norm_eps,
        tie_word_embeddings=shape.tie_word_embeddings,
        bos_token_id=None,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        dtype=dtype,
    )
    model = Qwen2ForCausalLM(config).to(getattr(torch, dtype))
    n_params = save_built_model(model, tokenizer, Path(out))
    marker.write_text(json.dumps({"name": shape.name, "parameters": n_params}), encoding="utf-8")
    logger.info("built %s-shaped model (%d parameters) at %s", shape.name, n_params, out)
    return out

"""A tiny Qwen2-architecture causal LM and a locally trained tokenizer, built with no download.

Why: tests, the demo and CI must exercise the very code paths a user runs with
``Qwen/Qwen2.5-7B-Instruct`` (``from_pretrained`` on a directory, a ChatML chat template,
``<think>`` tags, TRL trainers) without a model hub. The tokenizer is a byte-level BPE trained
with ``tokenizers`` on a corpus the caller supplies, so any text is encodable; the model is a
``Qwen2ForCausalLM`` with a few hundred thousand parameters.

>>> from srlkit.models.tiny import build_tiny_model  # doctest: +SKIP
>>> path = build_tiny_model("/tmp/tiny", corpus=["1 + 1 = 2"])  # doctest: +SKIP
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
# Single tokens with fixed ids 3 and 4 (recipes may bias them), but NOT special, as in Qwen3's
# tokenizer: TRL and most generation code decode with ``skip_special_tokens=True``, which would
# delete special think tags from every completion and make every SRL format check fail.
THINK_TAGS = ["<think>", "</think>"]

# ChatML as Qwen2.5 writes it, with ``{% generation %}`` markers so TRL's
# ``assistant_only_loss`` can find the assistant tokens.
CHATML_TEMPLATE = (
    "{%- for message in messages %}"
    "{%- if message['role'] == 'assistant' %}"
    "{{ '<|im_start|>assistant\n' }}{% generation %}{{ message['content'] + '<|im_end|>' }}{% endgeneration %}{{ '\n' }}"
    "{%- else %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>\n' }}"
    "{%- endif %}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{%- endif %}"
)


@dataclass(frozen=True)
class TinyModelConfig:
    """Sizes of the tiny model; the defaults give about 0.3M parameters with a 1k vocabulary."""

    vocab_size: int = 1024
    hidden_size: int = 64
    intermediate_size: int = 192
    num_hidden_layers: int = 2
    num_attention_heads: int = 4
    num_key_value_heads: int = 2
    max_position_embeddings: int = 2048
    seed: int = 0


def build_tiny_tokenizer(corpus: Iterable[str], vocab_size: int = 1024):
    """Train a byte-level BPE tokenizer on ``corpus`` and wrap it as a fast HF tokenizer."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=SPECIAL_TOKENS + THINK_TAGS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(list(corpus) or [" "], trainer=trainer)
    # The trainer registers its special tokens as special; the think tags must decode as text.
    # Editing the serialised form is the one way tokenizers offers to change that flag.
    serialised = json.loads(tok.to_str())
    for added in serialised["added_tokens"]:
        if added["content"] in THINK_TAGS:
            added["special"] = False
    tok = Tokenizer.from_str(json.dumps(serialised))
    hf_tok = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        bos_token=None,
        unk_token=None,
        additional_special_tokens=["<|im_start|>"],
        model_max_length=4096,
    )
    hf_tok.chat_template = CHATML_TEMPLATE
    return hf_tok


def build_tiny_model(
    out_dir: str | os.PathLike[str],
    corpus: Iterable[str],
    config: TinyModelConfig | None = None,
) -> Path:
    """Build tokenizer + randomly initialised Qwen2 model and save both to ``out_dir``.

    The directory then loads like any hub id: ``AutoModelForCausalLM.from_pretrained(out_dir)``.
    """
    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM

    config = config or TinyModelConfig()
    out = Path(out_dir)
    tokenizer = build_tiny_tokenizer(corpus, config.vocab_size)
    torch.manual_seed(config.seed)
    model_config = Qwen2Config(
        vocab_size=len(tokenizer),
        hidden_size=config.hidden_size,
        intermediate_size=config.intermediate_size,
        num_hidden_layers=config.num_hidden_layers,
        num_attention_heads=config.num_attention_heads,
        num_key_value_heads=config.num_key_value_heads,
        max_position_embeddings=config.max_position_embeddings,
        tie_word_embeddings=True,
        bos_token_id=None,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    n_params = save_built_model(Qwen2ForCausalLM(model_config), tokenizer, out)
    logger.info(
        "built tiny Qwen2 model (%d parameters, vocab %d) at %s", n_params, len(tokenizer), out
    )
    return out


def save_built_model(model: Any, tokenizer: Any, out: Path) -> int:
    """Give a freshly built model the tokenizer's end and pad ids as its generation defaults,
    save both into ``out`` (a loadable model folder) and return the parameter count."""
    from transformers import GenerationConfig

    model.generation_config = GenerationConfig(
        eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id
    )
    out.mkdir(parents=True, exist_ok=True)
    tokenizer.save_pretrained(out)
    model.save_pretrained(out)
    return sum(p.numel() for p in model.parameters())

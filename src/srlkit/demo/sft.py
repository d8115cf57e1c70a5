"""A short supervised fine-tuning loop for the demo's tiny models (warm start and SFT baseline).

Why a plain torch loop and not TRL's SFTTrainer: the demo's examples are a few thousand
sequences of under 200 tokens for a model of about a million parameters; at that size the
trainer's per-step machinery costs more than the maths, and a cold ``srl demo`` must fit in
minutes on two CPU cores. The loop does exactly what SFTTrainer with ``completion_only_loss``
does: mean cross-entropy over completion tokens only, AdamW, cosine decay with warm-up.
"""

from __future__ import annotations

import logging
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SFTExample:
    """Chat messages (the prompt) and the assistant text the model must learn to write."""

    messages: tuple[dict[str, str], ...]
    completion: str


@dataclass(frozen=True)
class SFTSettings:
    epochs: float = 3.0
    learning_rate: float = 3e-3
    batch_size: int = 32
    warmup_ratio: float = 0.05
    weight_decay: float = 0.0
    max_grad_norm: float = 1.0
    seed: int = 0
    bucket_by_length: bool = True
    """Batch examples of similar length (little padding). Off: uniformly mixed batches, as the
    warm start uses: bucketing puts whole solutions and single steps in separate batches, and
    the bucketed 600-step demo student had 0.1% exact next steps on hard problems where the
    mixed-batch probe of the same budget had 7.1% (docs/paper-table.md, trial 5)."""


def encode_example(tokenizer, example: SFTExample) -> tuple[list[int], list[int]]:
    """Token ids of prompt + completion + end-of-turn, and labels (-100 on the prompt).

    Prompt and completion are encoded separately so the prompt ids are exactly the ones
    generation starts from (a BPE merge across the boundary would otherwise differ).
    """
    prompt = tokenizer.apply_chat_template(
        list(example.messages), add_generation_prompt=True, tokenize=False
    )
    prompt_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
    completion_ids = tokenizer(example.completion, add_special_tokens=False)["input_ids"]
    completion_ids = completion_ids + [tokenizer.eos_token_id]
    return prompt_ids + completion_ids, [-100] * len(prompt_ids) + completion_ids


def _batches(
    encoded: list[tuple[list[int], list[int]]],
    batch_size: int,
    rng: random.Random,
    bucket: bool = True,
):
    """Batches in random order; length-bucketed (little padding) unless ``bucket`` is off."""
    if bucket:
        order = sorted(range(len(encoded)), key=lambda i: (len(encoded[i][0]), rng.random()))
    else:
        order = list(range(len(encoded)))
        rng.shuffle(order)
    batches = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    rng.shuffle(batches)
    return batches


def _collate(encoded, indices, pad_id: int):
    import torch

    width = max(len(encoded[i][0]) for i in indices)
    ids = torch.full((len(indices), width), pad_id, dtype=torch.long)
    labels = torch.full((len(indices), width), -100, dtype=torch.long)
    mask = torch.zeros((len(indices), width), dtype=torch.long)
    for row, i in enumerate(indices):
        seq, lab = encoded[i]
        ids[row, : len(seq)] = torch.tensor(seq)
        labels[row, : len(lab)] = torch.tensor(lab)
        mask[row, : len(seq)] = 1
    return ids, labels, mask


def train_sft(
    model,
    tokenizer,
    examples: Sequence[SFTExample],
    settings: SFTSettings,
    description: str = "SFT",
) -> list[float]:
    """Fine-tune ``model`` in place on ``examples``; returns the loss of every optimiser step."""
    import torch
    from tqdm.auto import tqdm

    if not examples:
        raise ValueError("train_sft needs at least one example")
    torch.manual_seed(settings.seed)
    rng = random.Random(settings.seed)
    encoded = [encode_example(tokenizer, ex) for ex in examples]
    per_epoch = math.ceil(len(encoded) / settings.batch_size)
    total = max(1, round(per_epoch * settings.epochs))
    warmup = max(1, round(total * settings.warmup_ratio))
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=settings.learning_rate, weight_decay=settings.weight_decay
    )

    def lr_factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        return 0.5 * (1 + math.cos(math.pi * (step - warmup) / max(1, total - warmup)))

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_factor)
    model.train()
    losses: list[float] = []
    batches: list[list[int]] = []
    with tqdm(total=total, desc=description, unit="step", leave=False) as bar:
        while len(losses) < total:
            if not batches:
                batches = _batches(encoded, settings.batch_size, rng, settings.bucket_by_length)
            ids, labels, mask = _collate(encoded, batches.pop(), tokenizer.pad_token_id)
            loss = model(input_ids=ids, attention_mask=mask, labels=labels).loss
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), settings.max_grad_norm)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            losses.append(loss.item())
            bar.update(1)
            bar.set_postfix(loss=f"{losses[-1]:.3f}")
    model.eval()
    logger.info("%s: %d steps, loss %.3f -> %.3f", description, total, losses[0], losses[-1])
    return losses

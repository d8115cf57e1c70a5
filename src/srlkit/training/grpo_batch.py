"""Assembling one GRPO training batch from rows of several generation rounds.

Why: with dynamic sampling, the groups that train in a step may come from different
generation rounds, each padded to its own lengths (prompts on the left, completions on the
right, as TRL pads them) and, on several processes, each spread over processes in TRL's
contiguous layout. These helpers gather a round's tensors from all processes, pick rows, and
re-pad them to common widths, so the trainer hands TRL's loss a batch of the very shape and
layout TRL would have produced had it generated only those groups.

A batch is TRL's output dict of ``_generate_and_score_completions``; per key the helpers know
how it is padded. Keys they do not know (multimodal inputs) are refused with a clear error
rather than silently mis-assembled.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

# key -> (pad value, pad on the left?); None as pad value means "the tokenizer's pad id".
LEFT_PADDED = {"prompt_ids": None, "prompt_mask": 0}
RIGHT_PADDED = {
    "completion_ids": None,
    "completion_mask": 0,
    "tool_mask": 1,
    "old_per_token_logps": 0.0,
    "ref_per_token_logps": 0.0,
    "sampling_per_token_logps": 0.0,
    "importance_sampling_ratio": 1.0,
}
PER_ROW = ("advantages",)
RECOMPUTED = ("num_items_in_batch",)


def check_supported(batch: dict[str, Any]) -> None:
    """Raise if ``batch`` holds a key these helpers cannot re-assemble (e.g. images)."""
    known = set(LEFT_PADDED) | set(RIGHT_PADDED) | set(PER_ROW) | set(RECOMPUTED)
    unknown = sorted(k for k, v in batch.items() if v is not None and k not in known)
    if unknown:
        raise ValueError(
            f"dynamic sampling cannot re-assemble batch keys {unknown} (multimodal inputs are not "
            "supported); set dynamic_sampling=False for this model"
        )


def pad_to_width(t: torch.Tensor, width: int, value: float, left: bool) -> torch.Tensor:
    """Pad a ``(rows, w)`` tensor with ``value`` to ``(rows, width)`` on the left or right."""
    missing = width - t.shape[1]
    if missing <= 0:
        return t
    filler = torch.full((t.shape[0], missing), value, dtype=t.dtype, device=t.device)
    return torch.cat([filler, t] if left else [t, filler], dim=1)


def _pad_spec(key: str, pad_token_id: int) -> tuple[float, bool]:
    if key in LEFT_PADDED:
        value, left = LEFT_PADDED[key], True
    else:
        value, left = RIGHT_PADDED[key], False
    return (pad_token_id if value is None else value), left


def gather_batch(batch: dict[str, Any], accelerator: Any, pad_token_id: int) -> dict[str, Any]:
    """All rows of a round on every process, in process order (TRL's contiguous layout).

    Each 2-D tensor is first padded to the widest process (``pad_across_processes``), on the
    side TRL pads it. Keys are visited in sorted order so that every process issues the same
    collectives in the same order.
    """
    gathered: dict[str, Any] = {}
    for key in sorted(batch):
        value = batch[key]
        if value is None or key in RECOMPUTED:
            gathered[key] = value
            continue
        if value.dim() == 2:
            pad_value, left = _pad_spec(key, pad_token_id)
            value = accelerator.pad_across_processes(
                value, dim=1, pad_index=pad_value, pad_first=left
            )
        gathered[key] = accelerator.gather(value)
    return gathered


def take_rows(
    batches: Sequence[dict[str, Any]],
    rows: Sequence[tuple[int, int]],
    pad_token_id: int,
    pad_to_multiple_of: int | None = None,
    fixed_width_keys: Sequence[str] = (),
) -> dict[str, Any]:
    """Rows ``(batch index, row index)`` from several batches, stacked in the order given.

    2-D tensors are re-padded to the widest selected batch (rounded up to
    ``pad_to_multiple_of``), prompts on the left and completions on the right. Keys in
    ``fixed_width_keys`` (e.g. a sequence-level importance ratio of shape ``(rows, 1)``) are
    stacked as they are. ``num_items_in_batch`` is left out: it depends on the whole batch and
    the caller recomputes it.

    >>> a = {"prompt_ids": torch.tensor([[0, 5], [6, 7]]), "advantages": torch.tensor([1.0, 2.0])}
    >>> b = {"prompt_ids": torch.tensor([[8], [9]]), "advantages": torch.tensor([3.0, 4.0])}
    >>> out = take_rows([a, b], [(1, 0), (0, 1)], pad_token_id=0)
    >>> out["prompt_ids"].tolist(), out["advantages"].tolist()
    ([[0, 8], [6, 7]], [3.0, 2.0])
    """
    check_supported(batches[0])
    by_batch: dict[int, list[int]] = {}
    for b, r in rows:
        by_batch.setdefault(b, []).append(r)
    order = _stacking_order(rows)
    out: dict[str, Any] = {}
    for key, first in batches[0].items():
        if first is None or key in RECOMPUTED:
            continue
        pieces = {
            b: batches[b][key][torch.tensor(idx, device=first.device)]
            for b, idx in by_batch.items()
        }
        if first.dim() == 2 and key not in fixed_width_keys:
            width = max(p.shape[1] for p in pieces.values())
            if pad_to_multiple_of:
                width = -(-width // pad_to_multiple_of) * pad_to_multiple_of
            pad_value, left = _pad_spec(key, pad_token_id)
            pieces = {b: pad_to_width(p, width, pad_value, left) for b, p in pieces.items()}
        stacked = torch.cat([pieces[b] for b in sorted(pieces)], dim=0)
        out[key] = stacked[order.to(stacked.device)]
    return out


def _stacking_order(rows: Sequence[tuple[int, int]]) -> torch.Tensor:
    """Permutation taking rows stacked batch by batch (batches in sorted order) back to ``rows``' order."""
    counts: dict[int, int] = {}
    for b, _ in rows:
        counts[b] = counts.get(b, 0) + 1
    next_slot, offset = {}, 0
    for b in sorted(counts):
        next_slot[b], offset = offset, offset + counts[b]
    order = []
    for b, _ in rows:
        order.append(next_slot[b])
        next_slot[b] += 1
    return torch.tensor(order, dtype=torch.long)

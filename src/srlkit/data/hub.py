"""Hugging Face hub datasets as a data source: ``ORG/NAME[:CONFIG][@SPLIT]``.

Every data command accepts a hub id wherever it accepts a file (``srl data build``, ``srl train``'s
``train_file``, ``srl eval-steps``), parsed here once. A local path of the same name always wins,
so a folder called ``org/name`` is never shadowed by the hub.

>>> parse_hub_id("openai/gsm8k:main@test")
HubSource(name='openai/gsm8k', config='main', split='test')
>>> parse_hub_id("runs/data/train.jsonl") is None
True
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from srlkit.data.files import DEFAULT_MAX_RECORD_BYTES, RawRecord, expand_inputs, iter_raw_records
from srlkit.io import DataError

_HUB_ID_RE = re.compile(
    r"(?:hf://)?(?P<name>[A-Za-z0-9][\w.-]*/[\w.-]+)(?::(?P<config>[\w.-]+))?(?:@(?P<split>\S+))?"
)


@dataclass(frozen=True)
class HubSource:
    """A dataset on the Hugging Face hub: ``load_dataset(name, config, split=split)``."""

    name: str
    config: str | None = None
    split: str | None = None

    def __str__(self) -> str:
        """``hf://NAME[:CONFIG][@SPLIT]``: how messages and ``stats.json`` name the source."""
        config = f":{self.config}" if self.config else ""
        split = f"@{self.split}" if self.split else ""
        return f"hf://{self.name}{config}{split}"


def parse_hub_id(token: str) -> HubSource | None:
    """``ORG/NAME[:CONFIG][@SPLIT]`` (or ``hf://...``) as a :class:`HubSource`; None when
    ``token`` is an existing local path or does not have that shape."""
    if not token.startswith("hf://") and Path(token).exists():
        return None
    match = _HUB_ID_RE.fullmatch(token)
    if match is None or match["name"].endswith((".jsonl", ".json", ".parquet", ".traj")):
        return None
    return HubSource(match["name"], match["config"], match["split"])


def hub_records(source: HubSource, split: str) -> Iterator[RawRecord]:
    try:
        import datasets
    except ImportError as exc:  # pragma: no cover - datasets is a dependency
        raise DataError(source.name, "reading a hub dataset needs `pip install datasets`") from exc
    label = str(source)
    try:
        rows = datasets.load_dataset(source.name, source.config, split=source.split or split)
    except Exception as exc:  # noqa: BLE001 - offline, unknown id, split or config: one line
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataError(label, f"could not load the hub dataset ({first_line})") from None
    path = Path(label)
    for index, row in enumerate(rows, start=1):
        yield RawRecord(path, index, dict(row))


def expand_sources(inputs: list[str | os.PathLike[str]]) -> list[Path | HubSource]:
    """Local files and folders (expanded to their trajectory files) and hub ids, in order.

    A hub id's split comes from its ``@SPLIT`` suffix, ``train`` when it has none.
    """
    sources: list[Path | HubSource] = []
    for item in inputs:
        hub = parse_hub_id(str(item))
        sources.extend([hub] if hub is not None else expand_inputs([item]))
    return sources


def iter_source_records(
    source: Path | HubSource,
    skip_invalid: bool = False,
    errors: list[DataError] | None = None,
    max_record_bytes: int | None = None,
) -> Iterator[RawRecord]:
    """The records of one source of :func:`expand_sources` (a hub dataset reads ``train``
    unless its id names a split)."""
    if isinstance(source, HubSource):
        return hub_records(source, "train")
    return iter_raw_records(
        source, skip_invalid, errors, max_record_bytes or DEFAULT_MAX_RECORD_BYTES
    )

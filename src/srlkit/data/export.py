"""Step instances on disk and in memory: JSONL (the source of truth), parquet, ``datasets.Dataset``.

JSONL keeps every instance exactly as :meth:`StepInstance.to_dict` writes it. Arrow (parquet
and ``datasets``) needs one type per column, but ``metadata`` differs between math and agent
instances (and between sources), so in those two forms ``metadata`` is a **JSON-encoded
string**; :func:`load_instances` decodes it back. ``prompt`` stays a list of
``{"role", "content"}`` structs, which is the conversational form TRL's trainers expect.

>>> instances = load_instances("runs/data", split="train")  # doctest: +SKIP
>>> dataset = load_instances("runs/data", split="train", as_dataset=True)  # doctest: +SKIP
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from srlkit.data.schema import COL_METADATA, StepInstance
from srlkit.io import DataError, atomic_write, iter_jsonl

SPLITS = ("train", "validation")
PARQUET_BATCH = 2048


try:  # several times faster than the standard encoder on long prompt texts
    import orjson

    def instance_line(inst: StepInstance) -> bytes:
        """One instance as a UTF-8 JSON line (newline included), keys as in ``to_dict``.

        One ``orjson.dumps`` call over the whole instance: cheaper than encoding each shared
        prompt message once and joining the pieces (measured 4 against 9 us per agent
        instance), because the Python work per message costs more than re-encoding its text.
        """
        return orjson.dumps(inst.to_dict(), option=orjson.OPT_APPEND_NEWLINE)

except ImportError:  # pragma: no cover - orjson is a dependency, the fallback keeps exports working

    def instance_line(inst: StepInstance) -> bytes:
        """One instance as a UTF-8 JSON line, in orjson's compact form."""
        text = json.dumps(inst.to_dict(), ensure_ascii=False, separators=(",", ":"))
        return (text + "\n").encode("utf-8")


def _arrow_schema() -> Any:
    import pyarrow as pa

    message = pa.struct([("role", pa.string()), ("content", pa.string())])
    return pa.schema(
        [
            ("id", pa.string()),
            ("prompt", pa.list_(message)),
            ("target", pa.string()),
            ("step_index", pa.int64()),
            ("num_steps", pa.int64()),
            ("trajectory_id", pa.string()),
            ("kind", pa.string()),
            ("metadata", pa.string()),
        ]
    )


def arrow_record(instance: dict[str, Any]) -> dict[str, Any]:
    """An instance dict with ``metadata`` JSON-encoded (the Arrow / datasets form)."""
    out = dict(instance)
    out[COL_METADATA] = _metadata_text(instance.get(COL_METADATA))
    out["prompt"] = [{"role": m["role"], "content": m["content"]} for m in instance["prompt"]]
    return out


def _metadata_text(metadata: dict[str, Any] | None) -> str:
    return json.dumps(metadata or {}, ensure_ascii=False, sort_keys=True)


# Value types whose equal values always encode to the same JSON text (not float: -0.0 == 0.0).
_EXACT_TYPES = (str, int, bool, type(None))


def _metadata_texts(instances: list[StepInstance]) -> list[str]:
    """:func:`_metadata_text` of every instance, each distinct metadata encoded only once.

    A sorted-keys ``json.dumps`` per instance was a fifth of the parquet cost, and the
    instances of a batch share a handful of distinct metadata dicts. Metadata is cached only
    when its values are plain scalars, keyed with their types (``True == 1``, yet they encode
    differently); anything else is simply encoded each time.
    """
    cache: dict[tuple[Any, ...], str] = {}
    texts = []
    for inst in instances:
        metadata = inst.metadata or {}
        if all(type(v) in _EXACT_TYPES for v in metadata.values()):
            key = tuple((k, type(v), v) for k, v in metadata.items())
            text = cache.get(key)
            if text is None:
                text = cache[key] = _metadata_text(metadata)
        else:
            text = _metadata_text(metadata)
        texts.append(text)
    return texts


def arrow_table(instances: list[StepInstance]) -> Any:
    """A ``pyarrow.Table`` of instances, built column by column.

    Four times faster than ``Table.from_pylist`` on row dicts: the nested ``prompt`` column is
    assembled from one flat array of roles, one of contents and the list offsets.
    """
    import pyarrow as pa

    offsets, roles, contents = [0], [], []
    for inst in instances:
        for message in inst.prompt:
            roles.append(message["role"])
            contents.append(message["content"])
        offsets.append(len(roles))
    messages = pa.StructArray.from_arrays(
        [pa.array(roles, pa.string()), pa.array(contents, pa.string())], names=["role", "content"]
    )
    columns = [
        pa.array([i.id for i in instances], pa.string()),
        pa.ListArray.from_arrays(pa.array(offsets, pa.int32()), messages),
        pa.array([i.target for i in instances], pa.string()),
        pa.array([i.step_index for i in instances], pa.int64()),
        pa.array([i.num_steps for i in instances], pa.int64()),
        pa.array([i.trajectory_id for i in instances], pa.string()),
        pa.array([i.kind for i in instances], pa.string()),
        pa.array(_metadata_texts(instances), pa.string()),
    ]
    return pa.Table.from_arrays(columns, schema=_arrow_schema())


class ParquetBatchWriter:
    """Instances into an open binary file as parquet, one row group per ``PARQUET_BATCH`` rows.

    Lets a build write parquet while it streams, instead of reading its JSONL back. Call
    :meth:`close` to flush the last batch (idempotent); a file with no rows still gets the schema.
    """

    def __init__(self, handle: Any):
        import pyarrow.parquet as pq

        self._writer = pq.ParquetWriter(handle, _arrow_schema())
        self._batch: list[StepInstance] = []
        self._closed = False
        self.rows = 0

    def add(self, instance: StepInstance) -> None:
        self._batch.append(instance)
        if len(self._batch) >= PARQUET_BATCH:
            self._flush()

    def add_record(self, record: dict[str, Any]) -> None:
        """Add one instance dict (the :meth:`StepInstance.to_dict` form)."""
        self.add(StepInstance.from_dict(record))

    def _flush(self) -> None:
        if self._batch or self.rows == 0:
            self._writer.write_table(arrow_table(self._batch))
            self.rows += len(self._batch)
            self._batch = []

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._flush()
            self._writer.close()


def write_parquet(path: str | os.PathLike[str], records: Iterable[dict[str, Any]]) -> int:
    """Stream instance dicts into a parquet file in batches, atomically; returns the row count."""
    with atomic_write(path, "wb") as handle:
        writer = ParquetBatchWriter(handle)
        for rec in records:
            writer.add_record(rec)
        writer.close()
    return writer.rows


def _resolve(path: str | os.PathLike[str], split: str) -> Path:
    p = Path(path)
    if p.is_dir():
        for suffix in (".jsonl", ".parquet"):
            candidate = p / f"{split}{suffix}"
            if candidate.is_file():
                return candidate
        raise DataError(
            p, f"no {split}.jsonl or {split}.parquet here (expected the output of 'srl data build')"
        )
    if not p.is_file():
        raise DataError(p, "no such file or directory")
    return p


def iter_instances(path: str | os.PathLike[str], split: str = "train") -> Iterator[StepInstance]:
    """Stream the instances of one split from a build directory, a JSONL or a parquet file."""
    file = _resolve(path, split)
    if file.suffix == ".parquet":
        yield from _iter_parquet_instances(file)
        return
    for line, rec in iter_jsonl(file):
        try:
            yield StepInstance.from_dict(rec)
        except (KeyError, TypeError, ValueError) as exc:
            raise DataError(
                file, f"not a step instance ({exc.__class__.__name__}: {exc})", line
            ) from None


def _iter_parquet_instances(file: Path) -> Iterator[StepInstance]:
    """The instances of a parquet split; a torn or foreign file is one located :class:`DataError`."""
    import pyarrow.parquet as pq

    row = 0
    try:
        for batch in pq.ParquetFile(file).iter_batches():
            for rec in batch.to_pylist():
                row += 1
                rec[COL_METADATA] = json.loads(rec.get(COL_METADATA) or "{}")
                yield StepInstance.from_dict(rec)
    except (OSError, ValueError, KeyError, TypeError) as exc:  # pyarrow's errors are both
        where = f"row {row}: " if row else ""
        message = str(exc).splitlines()[0][:200] if str(exc) else ""
        raise DataError(
            file,
            f"{where}not a readable parquet file of step instances ({type(exc).__name__}: {message})",
        ) from None


def load_instances(
    path: str | os.PathLike[str], split: str = "train", as_dataset: bool = False
) -> Any:
    """The instances of ``split`` as a list of :class:`StepInstance`, or as a ``datasets.Dataset``.

    The Dataset has the columns of :mod:`srlkit.data.schema` (``prompt``, ``target``, ``kind``,
    ...) with ``metadata`` JSON-encoded, ready for TRL's ``GRPOTrainer`` (extra columns are
    passed to reward functions as keyword arguments).
    """
    instances = list(iter_instances(path, split))
    if not as_dataset:
        return instances
    return to_dataset(instances)


def to_dataset(instances: Iterable[StepInstance]) -> Any:
    """A ``datasets.Dataset`` of instances (metadata JSON-encoded, see the module docstring)."""
    import datasets

    return datasets.Dataset(arrow_table(list(instances)))

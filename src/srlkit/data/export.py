"""Writing step instances: JSONL lines (the source of truth) and Arrow tables (parquet, datasets).

JSONL keeps every instance exactly as :meth:`StepInstance.to_dict` writes it. Arrow (parquet
and ``datasets``) needs one type per column, but ``metadata`` differs between math and agent
instances (and between sources), so in those two forms ``metadata`` is a **JSON-encoded
string**; the one reader, :mod:`srlkit.data.reader`, decodes it back. ``prompt`` stays a list
of ``{"role", "content"}`` structs, the conversational form TRL's trainers expect.
"""

from __future__ import annotations

import json
from typing import Any

from srlkit.data.schema import StepInstance, Trajectory

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

    def trajectory_line(trajectory: Trajectory) -> bytes:
        """One trajectory as a UTF-8 JSON line (:meth:`Trajectory.to_dict`), newline included."""
        return orjson.dumps(trajectory.to_dict(), option=orjson.OPT_APPEND_NEWLINE)

except ImportError:  # pragma: no cover - orjson is a dependency, the fallback keeps exports working

    def instance_line(inst: StepInstance) -> bytes:
        """One instance as a UTF-8 JSON line, in orjson's compact form."""
        text = json.dumps(inst.to_dict(), ensure_ascii=False, separators=(",", ":"))
        return (text + "\n").encode("utf-8")

    def trajectory_line(trajectory: Trajectory) -> bytes:
        """One trajectory as a UTF-8 JSON line, in orjson's compact form."""
        text = json.dumps(trajectory.to_dict(), ensure_ascii=False, separators=(",", ":"))
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

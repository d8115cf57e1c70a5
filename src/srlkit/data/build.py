"""``srl data build``: trajectory files in, train/validation step instances and stats out.

The build streams. Trajectories are read one at a time and their instances written to
``train.jsonl`` (and ``train.parquet``) as they come. What stays in memory is small and bounded
by the number of trajectories, not their size: the content hashes of the trajectories seen (for
de-duplication, 20 bytes each), their ids (to make repeated ids unique), and the
``validation_size`` trajectories currently chosen for validation. The validation split is the ``validation_size`` trajectories
with the smallest hash of ``(seed, content)``: deterministic for a seed, independent of file
order, always by trajectory (never by instance), and computable in one pass with a bounded heap.

Every output file is written atomically: an interrupted build leaves the previous outputs (or
none), never a half-written file.
"""

from __future__ import annotations

import hashlib
import heapq
import logging
import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from srlkit.data.export import ParquetBatchWriter, instance_line, trajectory_line
from srlkit.data.files import DEFAULT_MAX_RECORD_BYTES
from srlkit.data.hub import HubSource, expand_sources
from srlkit.data.instances import InstanceCounts, InstanceOptions, TokenCounter, build_instances
from srlkit.data.loaders import MALFORMED_ERRORS, LoaderOptions, load_file
from srlkit.data.reader import TRAJECTORIES_SUFFIX
from srlkit.data.schema import KIND_AGENT, StepInstance, Trajectory
from srlkit.data.stats import STATS_FILE, BuildStats
from srlkit.io import atomic_write, write_json
from srlkit.publish import publish_together

logger = logging.getLogger(__name__)

OUTPUT_FILES = (
    "train.jsonl",
    "validation.jsonl",
    "train.parquet",
    "validation.parquet",
    f"train{TRAJECTORIES_SUFFIX}",
    f"validation{TRAJECTORIES_SUFFIX}",
)
"""Every file a build may write besides ``stats.json`` (published together with it)."""


@dataclass
class BuildConfig:
    """Everything that decides the output of a build (saved in ``stats.json`` as ``config``)."""

    format: str | None = None
    loader: LoaderOptions = field(default_factory=LoaderOptions)
    instances: InstanceOptions = field(default_factory=InstanceOptions)
    validation_size: int | None = field(
        default=None,
        metadata={"help": "trajectories held out (default: 60 math, 30 agent, as in the paper)"},
    )
    max_validation_fraction: float = field(
        default=0.2, metadata={"help": "validation never takes more of the kept trajectories"}
    )
    seed: int = field(default=0, metadata={"help": "seed of the train/validation split"})
    dedup: bool = field(default=True, metadata={"help": "drop repeated trajectories"})
    skip_invalid: bool = field(
        default=False, metadata={"help": "count and skip malformed records instead of stopping"}
    )
    parquet: bool = field(
        default=True, metadata={"help": "also write parquet (--no_parquet: JSONL only)"}
    )
    tokenizer: str | None = field(
        default=None, metadata={"help": "HF model id or path, for --max_prompt_tokens"}
    )
    max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES

    def __post_init__(self) -> None:
        if self.validation_size is not None and self.validation_size < 0:
            raise ValueError("validation_size must be >= 0")
        if not 0.0 <= self.max_validation_fraction <= 1.0:
            raise ValueError("max_validation_fraction must be between 0 and 1")
        if self.max_record_bytes < 1:
            raise ValueError("max_record_bytes must be positive")


def default_validation_size(kind: str) -> int:
    """The paper's held-out sizes: 30 agent trajectories, 60 math problems."""
    return 30 if kind == KIND_AGENT else 60


def content_hash(trajectory: Trajectory) -> bytes:
    """Identity of a trajectory's content (task + steps); ids and metadata do not count.

    The SHA-1 of ``kind RS task RS`` then, per step, its five fields each followed by US and
    the step followed by RS (RS, US: the ASCII record and unit separators). The digest also
    decides the validation split, so this byte stream must never change. It is assembled as
    one string and hashed in one call: a few hundred ``update`` calls per trajectory cost more
    than the hashing itself.
    """
    parts = [trajectory.kind, "\x1e", trajectory.task, "\x1e"]
    for s in trajectory.steps:
        parts += (s.title, "\x1f", s.body, "\x1f", s.thought, "\x1f", s.action, "\x1f")
        parts += (s.observation, "\x1f\x1e")
    return hashlib.sha1("".join(parts).encode("utf-8", "surrogatepass")).digest()


def _split_key(seed: int, digest: bytes) -> bytes:
    return hashlib.sha1(seed.to_bytes(8, "little", signed=True) + digest).digest()


class _Builder:
    """One build's state: dedup set, id set, validation heap, stats, the open train writer."""

    def __init__(
        self,
        config: BuildConfig,
        count_tokens: TokenCounter | None,
        train_write: Callable[[Trajectory, list[tuple[StepInstance, bytes]]], None],
    ):
        self.config = config
        self.count_tokens = count_tokens
        self.train_write = train_write
        self.stats = BuildStats()
        self.seen_content: set[bytes] = set()
        self.seen_ids: dict[str, int] = {}
        # (inverted key, arrival, trajectory, instances): a max-heap via the inverted keys
        self.heap: list[tuple[bytes, int, Trajectory, list[StepInstance]]] = []
        self.arrival = 0
        self.validation_size: int | None = config.validation_size

    def add(self, trajectory: Trajectory, fmt: str) -> None:
        digest = content_hash(trajectory)
        if self.config.dedup and digest in self.seen_content:
            self.stats.record_drop(
                "duplicate", f"{_where(trajectory)}: {trajectory.id} repeats an earlier trajectory"
            )
            return
        self.seen_content.add(digest)
        self._unique_id(trajectory)
        counts = InstanceCounts()
        instances = list(
            build_instances(trajectory, self.config.instances, self.count_tokens, counts)
        )
        self.stats.instances_dropped.update(counts.dropped)
        if not instances:
            self.stats.record_drop(
                "no_instances",
                f"{trajectory.id}: every instance was dropped ({dict(counts.dropped)})",
            )
            return
        self.stats.read += 1
        self.stats.kept += 1
        self.stats.formats[fmt] += 1
        self.stats.segmentation[str(trajectory.metadata.get("segmentation", "n/a (agent)"))] += 1
        self.stats.steps_per_trajectory.add(len(trajectory.steps))
        if self.validation_size is None:
            self.validation_size = default_validation_size(trajectory.kind)
        self._route(_split_key(self.config.seed, digest), trajectory, instances)

    def _unique_id(self, trajectory: Trajectory) -> None:
        n = self.seen_ids.get(trajectory.id, 0) + 1
        self.seen_ids[trajectory.id] = n
        if n > 1:
            trajectory.id = f"{trajectory.id}#{n}"

    def _route(self, key: bytes, trajectory: Trajectory, instances: list[StepInstance]) -> None:
        """Keep the smallest keys for validation; whatever leaves the heap goes to train."""
        self.arrival += 1
        inverted = bytes(255 - b for b in key)
        item = (inverted, self.arrival, trajectory, instances)
        if len(self.heap) < (self.validation_size or 0):
            heapq.heappush(self.heap, item)
            return
        if self.heap and inverted > self.heap[0][0]:
            item = heapq.heapreplace(self.heap, item)
        self._emit("train", item[2], item[3])

    def _emit(
        self, split: str, trajectory: Trajectory, instances: list[StepInstance]
    ) -> list[tuple[StepInstance, bytes]]:
        """Count the instances of one trajectory and encode them; train ones are written at once
        (one write per trajectory, not per instance), validation ones are returned."""
        s = self.stats.splits[split]
        s.trajectories += 1
        s.instances += len(instances)
        stats = self.stats
        stats.prompt_chars.add_many([sum([len(m["content"]) for m in i.prompt]) for i in instances])
        stats.target_chars.add_many([len(i.target) for i in instances])
        stats.prompt_tokens.add_many(
            [i.metadata["prompt_tokens"] for i in instances if "prompt_tokens" in i.metadata]
        )
        pairs = [(inst, instance_line(inst)) for inst in instances]
        if split == "train":
            self.train_write(trajectory, pairs)
            return []
        return pairs

    def close_split(self) -> tuple[list[Trajectory], list[tuple[StepInstance, bytes]]]:
        """Close the split: cap validation to a fraction of what was kept, emit the rest to train.

        The cap matters for small inputs: 30 held-out trajectories out of 40 would leave almost
        nothing to train on. Which trajectories stay is still decided by the key order.
        """
        cap = int(self.stats.kept * self.config.max_validation_fraction)
        by_key = sorted(self.heap, key=lambda item: item[0], reverse=True)  # smallest keys first
        chosen, spill = by_key[:cap], by_key[cap:]
        if spill:
            logger.info(
                "validation capped at %d trajectories (%.0f%% of %d kept)",
                cap,
                100 * self.config.max_validation_fraction,
                self.stats.kept,
            )
        for _, _, trajectory, instances in sorted(spill, key=lambda item: item[1]):
            self._emit("train", trajectory, instances)
        lines: list[tuple[StepInstance, bytes]] = []
        trajectories: list[Trajectory] = []
        for _, _, trajectory, instances in sorted(chosen, key=lambda item: item[1]):
            lines.extend(self._emit("validation", trajectory, instances))
            trajectories.append(trajectory)
        return trajectories, lines


def build_dataset(
    inputs: Iterable[str | os.PathLike[str]],
    out_dir: str | os.PathLike[str],
    config: BuildConfig | None = None,
    progress: bool = False,
) -> BuildStats:
    """Read ``inputs`` (files, directories or hub ids) and write ``out_dir``: per split the
    instances (``{split}.jsonl``, ``{split}.parquet``) and the trajectories they came from
    (``{split}.trajectories.jsonl``, what SFT trains on), plus ``stats.json``."""
    config = config or BuildConfig()
    out = Path(out_dir)
    files = expand_sources(list(inputs))
    count_tokens = None
    if config.instances.max_prompt_tokens is not None:
        if not config.tokenizer:
            raise ValueError("--max-prompt-tokens needs --tokenizer (a model id or path)")
        from srlkit.data.instances import make_token_counter

        count_tokens = make_token_counter(config.tokenizer)
    with publish_together(out, OUTPUT_FILES, STATS_FILE) as staging:
        stats = _build_into(staging, files, config, count_tokens, progress)
    return stats


def _build_into(
    staging: Path,
    files: list[Path | HubSource],
    config: BuildConfig,
    count_tokens: TokenCounter | None,
    progress: bool,
) -> BuildStats:
    """Write the splits and ``stats.json`` of one build into ``staging``."""
    with ExitStack() as stack:
        train_jsonl = stack.enter_context(atomic_write(staging / "train.jsonl", "wb"))
        train_trajectories = stack.enter_context(
            atomic_write(staging / f"train{TRAJECTORIES_SUFFIX}", "wb")
        )
        train_parquet = _parquet_sink(stack, staging / "train.parquet") if config.parquet else None

        def write_train(trajectory: Trajectory, pairs: list[tuple[StepInstance, bytes]]) -> None:
            train_trajectories.write(trajectory_line(trajectory))
            train_jsonl.write(b"".join(line for _, line in pairs))
            if train_parquet is not None:
                for inst, _ in pairs:
                    train_parquet.add(inst)

        builder = _Builder(config, count_tokens, write_train)
        for outcome in _outcomes(files, config, progress):
            if outcome.trajectory is None:
                builder.stats.record_drop(outcome.dropped or "invalid", outcome.detail)
                logger.debug("dropped (%s) %s", outcome.dropped, outcome.detail)
            else:
                _add_or_drop(builder, outcome)
        validation_trajectories, validation = builder.close_split()
        if train_parquet is not None:
            train_parquet.close()
    _write_validation(staging, validation, config.parquet)
    with atomic_write(staging / f"validation{TRAJECTORIES_SUFFIX}", "wb") as f:
        f.writelines(trajectory_line(t) for t in validation_trajectories)
    stats = builder.stats
    stats.inputs = [str(f) for f in files]
    stats.config = _config_dict(config)
    if not stats.reconciles():
        raise AssertionError(
            f"stats do not reconcile: read {stats.read} != kept {stats.kept} + dropped {sum(stats.dropped.values())}"
        )
    write_json(staging / STATS_FILE, stats.to_dict())
    return stats


def _where(trajectory: Trajectory) -> str:
    """``file:line`` (or ``file record N``) of the record a trajectory came from."""
    meta = trajectory.metadata
    if "source_line" in meta:
        return f"{meta.get('source_file')}:{meta['source_line']}"
    return f"{meta.get('source_file', '?')} record {meta.get('source_record', '?')}"


def _add_or_drop(builder: _Builder, outcome: Any) -> None:
    """Add one trajectory; one whose content breaks instance building is a counted drop.

    Loaders already turn malformed records into drops; this catches what only shows when the
    instances are built (a value that cannot be hashed or serialised), naming the record.
    """
    try:
        builder.add(outcome.trajectory, outcome.format)
    except MALFORMED_ERRORS as err:
        where = outcome.raw.where if outcome.raw is not None else outcome.trajectory.id
        message = str(err).splitlines()[0][:300] if str(err) else type(err).__name__
        builder.stats.record_drop("invalid", f"{where}: malformed record: {message}")


def _parquet_sink(stack: ExitStack, path: Path) -> ParquetBatchWriter:
    """A parquet writer on an atomic file, closed before the file is moved into place."""
    writer = ParquetBatchWriter(stack.enter_context(atomic_write(path, "wb")))
    stack.callback(writer.close)
    return writer


def _write_validation(
    out: Path, validation: list[tuple[StepInstance, bytes]], parquet: bool
) -> None:
    with atomic_write(out / "validation.jsonl", "wb") as f:
        f.writelines(line for _, line in validation)
    if parquet:
        with ExitStack() as stack:
            writer = _parquet_sink(stack, out / "validation.parquet")
            for inst, _ in validation:
                writer.add(inst)


def _outcomes(files: list[Path | HubSource], config: BuildConfig, progress: bool) -> Iterator[Any]:
    """Every record's outcome, file after file, with a progress bar counting records.

    Without ``progress`` there is no bar at all: importing tqdm alone costs about 80 ms, the
    time of building a few thousand instances.
    """
    if not progress:
        for path in files:
            yield from _file_outcomes(path, config)
        return
    from tqdm import tqdm

    # disable=None: no bar when stderr is not a terminal (logs, CI), so errors stay one line.
    with tqdm(desc="records", unit="rec", disable=None, mininterval=0.5) as bar:
        for path in files:
            bar.set_postfix_str(getattr(path, "name", ""), refresh=False)
            for outcome in _file_outcomes(path, config):
                bar.update()
                yield outcome


def _file_outcomes(path: Path | HubSource, config: BuildConfig) -> Iterator[Any]:
    return load_file(
        path, config.format, config.loader, config.skip_invalid, config.max_record_bytes
    )


def _config_dict(config: BuildConfig) -> dict[str, Any]:
    d = asdict(config)
    for key in ("math_system_prompt", "agent_system_prompt"):
        if d["instances"].get(key):
            d["instances"][key] = d["instances"][key][:200] + (
                "..." if len(d["instances"][key]) > 200 else ""
            )
    return d

"""The training data of InternVL-U: Parquet rows of our schema, mixed by kind, as each rank's
examples of each global step.

    data = TrainData(["out/text", "s3://bucket/edit"], DataConfig.from_dict(cfg["data"]), processor,
                     seed=0, rank=rank, world=world)
    for step in data.steps(Position.start()):          # or a checkpoint's Position.from_dict(...)
        batch = collate(step.examples, pad_id)
        ...; save(step.position.to_dict())              # the position after this step

What makes a resume exact: at start-up only the small columns that classify rows are read (the
index: per kind, its rows grouped by shard and row group). Each kind is an endless stream of
epochs, each epoch a permutation of the kind's row groups and of the rows within each group (so
consecutive items come from few row groups), drawn from ``default_rng([seed, kind, epoch])``.
Step s draws the kinds of its global batch from ``default_rng([seed, 1_000_003, s])`` and each
slot takes the next item of its kind's stream. So a :class:`Position` (the step and the items
consumed per kind) fixes everything after it, whatever the world size or the number of workers:
rank r takes the slots ``[r*G//w, (r+1)*G//w)`` of each step, and DataLoader worker j of J builds
the steps ``start + j, start + j + J, ...`` (torch hands them back in order).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from torch.utils.data import DataLoader, IterableDataset, get_worker_info

from synth.imageio import DEFAULT_MAX_PIXELS
from synth.inputs import InputError, filesystem, list_inputs, run_shards
from synth.internvlu.errors import DataError
from synth.internvlu.processor import Processor
from synth.internvlu.train.batch import KINDS, Example
from synth.internvlu.train.reader import RowGroups
from synth.internvlu.train.rows import SKIP_REASONS, Skip, buckets, build_example, row_rng

__all__ = ["SKIP_REASONS", "DataConfig", "Position", "Skip", "Step", "TrainData", "build_example"]

log = logging.getLogger(__name__)

MIX_STREAM = 1_000_003  # the second word of the kind draws' seed, apart from every kind's index
DEFAULT_DROPOUT = {"t2i": {"all": 0.1}, "edit": {"all": 0.05, "text": 0.05}}  # the paper's


@dataclass
class DataConfig:
    """The ``data:`` section of a training config.

    ``global_batch``: rows per optimizer step, all ranks together; ``mix``: kind -> weight among
    ``t2i``, ``edit``, ``und``, ``cot``; ``sizes``: target sides (area = side**2), a row takes the
    largest not above sqrt(its own area), at least the smallest; ``aspect``: [min, max] of the
    buckets' width/height; ``max_tokens``: longer rows are skipped; ``dropout``: per generation kind
    the probability of dropping ``all`` of the condition or the ``text`` (a kind given replaces its
    default, the others keep theirs); ``workers``: DataLoader processes (0: in this process);
    ``max_pixels``: decode limit; ``prefetch``: steps each worker prepares ahead; ``cache_groups``:
    row groups each process keeps read."""

    global_batch: int
    mix: dict[str, float]
    sizes: list[int] = field(default_factory=lambda: [512])
    aspect: tuple[float, float] = (0.5, 2.0)
    max_tokens: int = 4096
    dropout: dict[str, dict[str, float]] = field(
        default_factory=lambda: {k: dict(v) for k, v in DEFAULT_DROPOUT.items()}
    )
    workers: int = 2
    max_pixels: int = DEFAULT_MAX_PIXELS
    prefetch: int = 2
    cache_groups: int = 4

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> DataConfig:
        """>>> DataConfig.from_dict({"global_batch": 64, "mix": {"t2i": 4, "edit": 1}}).sizes
        [512]"""
        known = [f.name for f in fields(cls)]
        for key in d:
            if key not in known:
                raise DataError(f"unknown key {key!r} (known: {', '.join(known)})")
        for key in ("global_batch", "mix"):
            if key not in d:
                raise DataError(f"missing key {key!r}, e.g. global_batch: 256, mix: {{t2i: 4, edit: 1}}")
        d = dict(d)
        if "dropout" in d:
            given = d["dropout"] or {}
            if not isinstance(given, Mapping):
                raise DataError(f"dropout must map t2i/edit to {{all: p, text: p}}, got {given!r}")
            d["dropout"] = {**{k: dict(v) for k, v in DEFAULT_DROPOUT.items()}, **given}
        if "aspect" in d:
            d["aspect"] = tuple(d["aspect"]) if isinstance(d["aspect"], list | tuple) else d["aspect"]
        return cls(**d)

    def __post_init__(self) -> None:
        def integer(name: str, value: Any, least: int) -> None:
            if isinstance(value, bool) or not isinstance(value, int) or value < least:
                raise DataError(f"{name} must be an integer >= {least}, got {value!r}")

        integer("global_batch", self.global_batch, 1)
        integer("max_tokens", self.max_tokens, 1)
        integer("workers", self.workers, 0)
        integer("max_pixels", self.max_pixels, 1)
        integer("prefetch", self.prefetch, 1)
        integer("cache_groups", self.cache_groups, 1)
        if not isinstance(self.mix, Mapping) or not self.mix:
            raise DataError(f"mix must map kinds ({', '.join(KINDS)}) to weights, got {self.mix!r}")
        for kind, w in self.mix.items():
            if kind not in KINDS:
                raise DataError(f"mix: unknown kind {kind!r} (kinds: {', '.join(KINDS)})")
            if isinstance(w, bool) or not isinstance(w, int | float) or not w >= 0:
                raise DataError(f"mix.{kind} must be a weight >= 0, got {w!r}")
        if sum(self.mix.values()) <= 0:
            raise DataError("mix: every weight is 0")
        if not isinstance(self.sizes, list | tuple) or not self.sizes:
            raise DataError(f"sizes must be a list of side lengths, e.g. [512, 768], got {self.sizes!r}")
        for s in self.sizes:
            integer("each of sizes", s, 16)
        a = self.aspect
        if len(a) != 2 or not all(isinstance(x, int | float) for x in a) or not 0 < a[0] <= a[1]:
            raise DataError(f"aspect must be [min, max] with 0 < min <= max, got {list(a)!r}")
        if not buckets(512, 16, self.aspect):
            raise DataError(f"aspect {list(a)} holds none of the bucket ratios 1:2 ... 2:1")
        for kind, probs in self.dropout.items():
            if kind not in ("t2i", "edit"):
                raise DataError(f"dropout.{kind}: only t2i and edit rows drop their condition")
            if not isinstance(probs, Mapping):
                raise DataError(f"dropout.{kind} must map all/text to probabilities, got {probs!r}")
            for what, p in probs.items():
                if what not in ("all", "text"):
                    raise DataError(f"dropout.{kind}: unknown key {what!r} (all, text)")
                if isinstance(p, bool) or not isinstance(p, int | float) or not 0 <= p <= 1:
                    raise DataError(f"dropout.{kind}.{what} must be a probability, got {p!r}")
            if sum(probs.values()) > 1:
                raise DataError(f"dropout.{kind}: probabilities add up to more than 1")


@dataclass
class Position:
    """Where the data stands: steps done and stream items consumed per kind (skipped rows too)."""

    step: int = 0
    consumed: dict[str, int] = field(default_factory=dict)

    @classmethod
    def start(cls) -> Position:
        return cls()

    def to_dict(self) -> dict[str, Any]:
        return {"step": self.step, "consumed": {k: self.consumed[k] for k in KINDS if k in self.consumed}}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Position:
        unknown = set(d.get("consumed", {})) - set(KINDS)
        if set(d) - {"step", "consumed"} or unknown:
            raise DataError(f"not a data position: {dict(d)!r}")
        return cls(int(d.get("step", 0)), {k: int(v) for k, v in d.get("consumed", {}).items()})


@dataclass
class Step:
    """One global step as this rank sees it."""

    position: Position  # the position after this step: what a checkpoint saves
    examples: list[Example]  # this rank's usable rows, in slot order
    skipped: dict[str, int]  # this rank's skipped rows by reason


@dataclass
class KindRows:
    """The rows of one kind in file order: shard index, row group, row within the group."""

    shard: np.ndarray
    group: np.ndarray
    row: np.ndarray

    def __post_init__(self) -> None:
        new = np.ones(len(self.shard), dtype=bool)
        new[1:] = (self.shard[1:] != self.shard[:-1]) | (self.group[1:] != self.group[:-1])
        self.gid = np.cumsum(new) - 1  # the (shard, group) each row is in, numbered 0..
        self.groups = int(self.gid[-1]) + 1 if len(new) else 0

    def __len__(self) -> int:
        return len(self.shard)

    def order(self, seed: int, kind_index: int, epoch: int) -> np.ndarray:
        """Row indices of one epoch: the groups permuted, then the rows within each group."""
        rng = np.random.default_rng([seed, kind_index, epoch])
        rank = np.empty(self.groups, dtype=np.int64)
        rank[rng.permutation(self.groups)] = np.arange(self.groups)
        return np.lexsort((rng.random(len(self)), rank[self.gid]))


def classify(uri: str, use_cot: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray, Counter]:
    """(kind index per row, -1 for rows left out; row group; row within it) of one shard, from its
    ``task``, ``cot`` and ``status`` columns only; and the rows left out, by reason."""
    fs, path = filesystem(uri)
    with fs.open_input_file(path) as f:
        pf = pq.ParquetFile(f)
        names = pf.schema_arrow.names
        if "task" not in names:
            raise DataError(f"{uri}: no column 'task'; expected a shard of the synth schema")
        table = pf.read(columns=[c for c in ("task", "cot", "status") if c in names])
        sizes = [pf.metadata.row_group(i).num_rows for i in range(pf.num_row_groups)]
    task = table["task"]
    kind = pc.fill_null(pc.index_in(task, value_set=pa.array(KINDS[:3])), -1).to_numpy().astype(np.int8)
    out = Counter({"unsupported_task": int((kind < 0).sum())})
    if use_cot and "cot" in names:
        has_cot = pc.greater(pc.utf8_length(pc.utf8_trim_whitespace(table["cot"])), 0)
        kind[np.asarray(pc.fill_null(has_cot, False)) & (kind >= 0) & (kind <= 1)] = KINDS.index("cot")
    if "status" in names:  # data/ holds kept rows only; a rejected/ shard given by name does not count
        kept = np.asarray(pc.fill_null(pc.equal(table["status"], "kept"), True))
        out["not_kept"] = int((~kept & (kind >= 0)).sum())
        kind[~kept] = -1
    group = np.repeat(np.arange(len(sizes), dtype=np.int32), sizes)
    row = np.concatenate([np.arange(n, dtype=np.int32) for n in sizes]) if sizes else group
    return kind, group, row, +out


class TrainData:
    """Rows of ``sources`` (run folders, shards, globs; local or ``s3://``) as this rank's examples
    of each global step. ``kinds``: rows found per kind; ``weights``: the kinds drawn, renormalised."""

    def __init__(
        self,
        sources: list[str],
        cfg: DataConfig,
        processor: Processor,
        seed: int,
        rank: int = 0,
        world: int = 1,
    ):
        if world < 1 or not 0 <= rank < world:
            raise DataError(f"rank {rank} of world {world}")
        if cfg.global_batch % world:
            raise DataError(f"global_batch {cfg.global_batch} does not divide among {world} ranks")
        self.cfg, self.processor, self.seed, self.rank, self.world = cfg, processor, seed, rank, world
        self.shards = shard_uris(sources)
        use_cot = cfg.mix.get("cot", 0) > 0
        with ThreadPoolExecutor(min(8, len(self.shards))) as pool:
            parts = list(pool.map(lambda u: classify(u, use_cot), self.shards))
        self.excluded: dict[str, int] = dict(sum((p[3] for p in parts), Counter()))
        kind = np.concatenate([p[0] for p in parts])
        shard = np.concatenate([np.full(len(p[0]), i, dtype=np.int32) for i, p in enumerate(parts)])
        group, row = np.concatenate([p[1] for p in parts]), np.concatenate([p[2] for p in parts])
        self.rows: dict[str, KindRows] = {}
        for i, k in enumerate(KINDS):
            m = kind == i
            if m.any():
                self.rows[k] = KindRows(shard[m], group[m], row[m])
        self.kinds: dict[str, int] = {k: len(r) for k, r in self.rows.items()}
        for k, w in cfg.mix.items():
            if w > 0 and k not in self.rows:
                log.warning("data: mix gives %s weight %s but the sources hold no %s rows", k, w, k)
        active = [k for k in KINDS if cfg.mix.get(k, 0) > 0 and k in self.rows]
        if not active:
            raise DataError(
                f"no training rows in {sources} for mix {cfg.mix}: expected run folders (run.json and "
                f"data/part-*.parquet) or Parquet shards of the synth schema with kept rows of task "
                f"t2i, edit or und (cot: rows with cot text); found {self.kinds or 'none'}"
                + (f", left out {self.excluded}" if self.excluded else "")
            )
        total = sum(cfg.mix[k] for k in active)
        self.weights: dict[str, float] = {k: cfg.mix[k] / total for k in active}
        self._p = np.array([self.weights[k] for k in active])
        self._orders: dict[str, dict[int, np.ndarray]] = {k: {} for k in active}
        self._reader = RowGroups(self.shards, cfg.cache_groups)
        log.info("data: %d shards, rows %s, drawn %s", len(self.shards), self.kinds, self.weights)
        if self.excluded:
            log.info("data: rows left out of the index: %s", self.excluded)

    # -- positions: pure functions of (start, step) ------------------------------------------

    def slots(self, pos: Position) -> tuple[list[tuple[str, int]], Position]:
        """Every slot of step ``pos.step`` as (kind, stream item), in slot order; and the position after."""
        active = list(self.weights)
        draws = np.random.default_rng([self.seed, MIX_STREAM, pos.step]).choice(
            len(active), size=self.cfg.global_batch, p=self._p
        )
        items = np.empty(len(draws), dtype=np.int64)
        consumed = {**pos.consumed, **{k: pos.consumed.get(k, 0) for k in active}}
        for i, k in enumerate(active):
            m = draws == i
            items[m] = consumed[k] + np.arange(int(m.sum()))
            consumed[k] += int(m.sum())
        return [(active[d], int(c)) for d, c in zip(draws, items, strict=True)], Position(
            pos.step + 1, consumed
        )

    def locate(self, kind: str, item: int) -> tuple[int, int, int, int]:
        """(epoch, shard, row group, row within it) of item ``item`` of ``kind``'s stream."""
        rows = self.rows[kind]
        epoch, offset = divmod(item, len(rows))
        orders = self._orders[kind]
        if epoch not in orders:
            if len(orders) >= 2:  # a step may span the end of one epoch and the start of the next
                orders.pop(min(orders))
            orders[epoch] = rows.order(self.seed, KINDS.index(kind), epoch)
        r = orders[epoch][offset]
        return epoch, int(rows.shard[r]), int(rows.group[r]), int(rows.row[r])

    def row(self, kind: str, item: int) -> tuple[dict[str, Any], int]:
        """(the row, its epoch) of item ``item`` of ``kind``'s stream, as :meth:`build` reads it."""
        epoch, shard, group, row = self.locate(kind, item)
        return self._reader.rows([(shard, group, row)])[0], epoch

    # -- materialising ------------------------------------------------------------------------

    def build(self, slots: list[tuple[str, int]], position: Position) -> Step:
        """This rank's examples of one step's ``slots`` (all of them, in slot order)."""
        g = self.cfg.global_batch
        mine = slots[self.rank * g // self.world : (self.rank + 1) * g // self.world]
        located = [(kind, *self.locate(kind, item)) for kind, item in mine]
        rows = self._reader.rows([(s, gr, r) for _, _, s, gr, r in located])
        examples, skipped = [], Counter()
        for (kind, epoch, *_), row in zip(located, rows, strict=True):
            ex = build_example(row, kind, self.cfg, self.processor, row_rng(row, epoch))
            if isinstance(ex, Skip):
                skipped[ex.reason] += 1
                log.debug("data: skipped %s (%s): %s", row.get("sample_id"), ex.reason, ex.detail)
            else:
                examples.append(ex)
        return Step(position, examples, dict(skipped))

    def iterate(self, start: Position, worker: int = 0, workers: int = 1) -> Iterator[Step]:
        """The steps ``start.step + worker + k * workers`` built here, the others only drawn."""
        pos, k = start, 0
        while True:
            slots, after = self.slots(pos)
            if k % workers == worker:
                yield self.build(slots, after)
            pos, k = after, k + 1

    def steps(self, start: Position) -> Iterator[Step]:
        """Every step from ``start`` on, in order, without end; built by ``cfg.workers`` processes."""
        if self.cfg.workers == 0:
            yield from self.iterate(start)
            return
        loader = DataLoader(
            _Steps(self, start),
            batch_size=None,
            num_workers=self.cfg.workers,
            collate_fn=_same,
            prefetch_factor=self.cfg.prefetch,
        )
        yield from loader

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_orders": {k: {} for k in self._orders}}  # a worker draws its own


def _same(step: Step) -> Step:
    return step


class _Steps(IterableDataset):
    """The steps from ``start`` split among the DataLoader's workers by step number."""

    def __init__(self, data: TrainData, start: Position):
        self.data, self.start = data, start

    def __iter__(self) -> Iterator[Step]:
        info = get_worker_info()
        return self.data.iterate(self.start, info.id if info else 0, info.num_workers if info else 1)


def shard_uris(sources: list[str]) -> list[str]:
    """The Parquet shards of ``sources``: run folders (their ``data/``), shard files, globs."""
    if not sources:
        raise DataError("no data sources: give run folders, Parquet shards or globs of them")
    try:
        entries = list_inputs(run_shards(list(sources)), image_column="task")
    except InputError as e:
        raise DataError(
            f"training sources {sources}: {e}; expected run folders (run.json and data/part-*.parquet), "
            "Parquet shards of the synth schema or globs of them"
        ) from None
    other = [e.uri for e in entries if e.kind != "parquet"]
    if other:
        raise DataError(f"training sources hold files that are not Parquet shards: {other[:3]}")
    return [e.uri for e in entries]

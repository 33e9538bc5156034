"""What a warehouse does with each kind of write, and the Beam step that hands writes over in
batches. Every write is idempotent and independent of the order writes arrive in, so a retried
bundle or a redelivered message changes nothing:
  - raw.* and ops.dead_letters: a row is inserted unless its key is stored (dedup on event_id /
    dead_letter_id); the rows a raw write stores are counted in ops.partitions_touched per event date
    (late rows apart) in the same unit;
  - core.*: per key the change with the greatest source position wins (cdc.py);
  - ops.realtime_metrics: a minute's pane replaces the stored minute unless it counts fewer records
    (accumulating panes only grow, so an older pane arriving late never undoes a newer one);
  - ops.watermarks: the greater watermark wins.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from typing import Any

import apache_beam as beam

from .. import contracts
from ..cdc import CoreChange, Truncate, reduce_changes
from ..event_time import Watermark
from ..transforms import Clock

INSERT_ONLY = (*contracts.RAW_TABLES.values(), contracts.DEAD_LETTERS)


def unique_by_key(table: str, rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The first row per key of a batch (a batch may hold the same dead letter twice)."""
    key = contracts.table_key(table)
    seen: set[tuple[Any, ...]] = set()
    out: list[dict[str, Any]] = []
    for r in rows:
        k = tuple(r[c] for c in key)
        if k not in seen:
            seen.add(k)
            out.append(r)
    return out


def latest_panes(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per (stream, minute) the pane that counts the most records."""
    best: dict[tuple[str, str], dict[str, Any]] = {}
    for r in rows:
        k = (r["stream"], r["minute"])
        if k not in best or r["events"] >= best[k]["events"]:
            best[k] = r
    return list(best.values())


def greatest_watermarks(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    best: dict[str, dict[str, Any]] = {}
    for r in rows:
        if r["stream"] not in best or r["watermark_ts"] > best[r["stream"]]["watermark_ts"]:
            best[r["stream"]] = r
    return list(best.values())


class Warehouse(ABC):
    """A warehouse the pipeline writes to; instances are pickled to workers, so clients are made in
    `open` (once per DoFn instance), not in the constructor."""

    def open(self) -> None:  # noqa: B027 - optional hook
        pass

    def close(self) -> None:  # noqa: B027 - optional hook
        pass

    @abstractmethod
    def insert_new(self, table: str, rows: list[dict[str, Any]], now: str) -> None:
        """Rows whose key is not stored yet (rows are unique by key); for a raw table the rows stored
        are added to ops.partitions_touched at `now`, in the same unit of work."""

    @abstractmethod
    def apply_changes(self, table: str, changes: list[CoreChange], truncates: list[Truncate], updated_at: str) -> None:
        """Truncates flag older rows; each change is upserted where its position is greater."""

    @abstractmethod
    def replace_minutes(self, rows: list[dict[str, Any]]) -> None:
        """ops.realtime_metrics rows, each replacing its minute unless it counts fewer records."""

    @abstractmethod
    def advance_watermarks(self, rows: list[dict[str, Any]]) -> None:
        """ops.watermarks rows, each kept where it is ahead of the stored one."""

    @abstractmethod
    def read_watermark(self, stream: str) -> Watermark:
        """A stream's persisted watermark (empty when none is stored)."""

    def write(self, table: str, items: Sequence[Any], now: str) -> None:
        if table in INSERT_ONLY:
            self.insert_new(table, unique_by_key(table, items), now)
        elif table.startswith("core."):
            changes, truncates = reduce_changes(items)
            self.apply_changes(table, changes, truncates, now)
        elif table == contracts.REALTIME_METRICS:
            self.replace_minutes(latest_panes(items))
        elif table == contracts.WATERMARKS:
            self.advance_watermarks(greatest_watermarks(items))
        else:
            raise ValueError(f"no write defined for table {table}")


class _WriteBatchFn(beam.DoFn):
    def __init__(self, warehouse: Warehouse, clock: Clock) -> None:
        self.warehouse, self.clock = warehouse, clock

    def setup(self) -> None:
        self.warehouse.open()

    def teardown(self) -> None:
        self.warehouse.close()

    def process(self, batch: tuple[Any, Sequence[Any]]) -> Iterator[tuple[str, int]]:
        key, items = batch
        table = key if isinstance(key, str) else key.key
        self.warehouse.write(table, list(items), self.clock.now())
        yield (table, len(items))


class _WriteBundleFn(beam.DoFn):
    """Writes per table what one bundle holds (at most `max_rows` at a time), at the bundle's end."""

    def __init__(self, warehouse: Warehouse, clock: Clock, max_rows: int) -> None:
        self.warehouse, self.clock, self.max_rows = warehouse, clock, max_rows
        self._buffer: dict[str, list[Any]] = {}

    def setup(self) -> None:
        self.warehouse.open()

    def teardown(self) -> None:
        self.warehouse.close()

    def start_bundle(self) -> None:
        self._buffer = {}

    def process(self, write: tuple[str, Any]) -> Iterator[tuple[str, int]]:
        table, item = write
        items = self._buffer.setdefault(table, [])
        items.append(item)
        if len(items) >= self.max_rows:
            self.warehouse.write(table, items, self.clock.now())
            self._buffer[table] = []
        return iter(())

    def finish_bundle(self) -> None:
        for table, items in self._buffer.items():
            if items:
                self.warehouse.write(table, items, self.clock.now())
        self._buffer = {}


class WriteToWarehouse(beam.PTransform):
    """(table, write) pairs → the warehouse, in batches per table of at most `max_rows`, flushed at
    least every `flush_interval_s` in streaming (each batch is one staged write and one statement in
    BigQuery: the interval bounds the jobs per table and day).

    `per_bundle`: batches are what each bundle holds instead (_WriteBundleFn). For streaming on
    Beam's local DirectRunner, whose processing-time timers do not fire while a Pub/Sub read runs,
    so GroupIntoBatches would hold rows until the window ends (never, in the global window); its
    Pub/Sub read makes a bundle of each pull."""

    def __init__(self, warehouse: Warehouse, clock: Clock, max_rows: int = 10_000, flush_interval_s: float = 5.0, per_bundle: bool = False) -> None:
        super().__init__()
        self.warehouse, self.clock, self.max_rows, self.flush_interval_s, self.per_bundle = warehouse, clock, max_rows, flush_interval_s, per_bundle

    def expand(self, writes: beam.PCollection[tuple[str, Any]]) -> beam.PCollection[tuple[str, int]]:
        if self.per_bundle:
            return writes | "WriteBundles" >> beam.ParDo(_WriteBundleFn(self.warehouse, self.clock, self.max_rows))
        batch = beam.GroupIntoBatches(self.max_rows, max_buffering_duration_secs=self.flush_interval_s or None)
        batches = writes | "Batch" >> batch
        return batches | "Write" >> beam.ParDo(_WriteBatchFn(self.warehouse, self.clock))

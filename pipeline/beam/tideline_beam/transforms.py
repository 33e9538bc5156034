"""The pipeline's steps, each a PTransform whose DoFns call the pure functions of parse.py,
event_time.py, cdc.py and metrics.py. Where batch and streaming need different Beam machinery for
the same semantics (the arrival order is data in a backfill and processing order in streaming), a
step chooses by whether its input is bounded, as Beam's own transforms do."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import apache_beam as beam
from apache_beam import pvalue
from apache_beam.coders import PickleCoder
from apache_beam.transforms import trigger, window
from apache_beam.transforms.deduplicate import DeduplicatePerKey
from apache_beam.transforms.userstate import ReadModifyWriteStateSpec
from apache_beam.utils.timestamp import Duration, Timestamp

from . import contracts
from .cdc import changes_of
from .event_time import DAY_MS, EventTimeOptions, Judged, Watermark, capped_ms, event_ms, judge, judge_batch, prefix_watermarks, watermark_row
from .jsvalues import iso_from_ms, parse_iso_ms
from .metrics import MinuteCounts, counts_of, metric_row
from .parse import Message, Parsed, parse_message

WINDOW_MS = 60_000
DEAD_LETTERS_TAG = "dead_letters"
TOO_LATE_TAG = "too_late"
WATERMARKS_TAG = "watermarks"
LATE_FLAG = "_late"
"""A raw row's lateness for ops.partitions_touched; not a column (raw.events stores it as is_late)."""


@dataclass(frozen=True)
class Inbound:
    """A message and where it arrived: its watermark scope (a stream's shared watermark, or one of
    its own for an upload), the sortable position of its arrival batch in that scope (the archive
    object's name), and its line in the batch."""

    message: Message
    scope: str
    order: str = ""
    seq: int = 0
    own_watermark: bool = False


@dataclass(frozen=True)
class Record:
    stream: str
    record: dict[str, Any]
    text: str
    scope: str
    order: str
    seq: int
    own_watermark: bool

    @property
    def dedup_key(self) -> tuple[str, str]:
        """event_id; for webhooks the edge derives it from provider and delivery id."""
        return (self.stream, str(self.record["event_id"]))

    @property
    def arrival(self) -> tuple[str, int]:
        return (self.order, self.seq)


class Clock:
    """Processing time as ISO text: fixed (tests, golden vectors, a backfill's run) or the wall clock."""

    def __init__(self, fixed: str | None = None) -> None:
        self.fixed = fixed

    def now(self) -> str:
        return self.fixed or iso_from_ms(int(time.time() * 1000))


def _at(ms: int) -> Timestamp:
    return Timestamp(micros=ms * 1000)


class _ParseFn(beam.DoFn):
    def __init__(self, clock: Clock) -> None:
        self.clock = clock

    def process(self, element: Inbound) -> Iterator[Any]:
        msg = element.message
        result = parse_message(msg, self.clock.now())
        if not isinstance(result, Parsed):
            yield pvalue.TaggedOutput(DEAD_LETTERS_TAG, result.dead_letter)
        elif result.stream == "dead-letters":
            yield pvalue.TaggedOutput(DEAD_LETTERS_TAG, result.record)
        else:
            rec = Record(result.stream, result.record, msg.data, element.scope, element.order, element.seq, element.own_watermark)
            yield window.TimestampedValue(rec, _at(event_ms(result.record)))


class ParseMessages(beam.PTransform):
    """Messages → records of their stream's contract (main output, timestamped by event_ts) and
    dead letters (`dead_letters`: malformed, off-contract, oversize, unknown stream; records of the
    dead-letters stream as they are)."""

    def __init__(self, clock: Clock) -> None:
        super().__init__()
        self.clock = clock

    def expand(self, inbound: beam.PCollection[Inbound]) -> pvalue.DoOutputsTuple:
        return inbound | beam.ParDo(_ParseFn(self.clock)).with_outputs(DEAD_LETTERS_TAG, main="records")


def _first_arrival(records: Iterable[Record]) -> Record:
    return min(records, key=lambda r: r.arrival)


class _Restamp(beam.DoFn):
    def process(self, keyed: tuple[Any, Record]) -> Iterator[window.TimestampedValue]:
        rec = keyed[1]
        yield window.TimestampedValue(rec, _at(event_ms(rec.record)))


class Deduplicate(beam.PTransform):
    """One record per dedup key. Streaming: Beam's DeduplicatePerKey, whose state per key lives
    until the watermark passes the record's event time plus `ttl_ms` (no shorter than the allowed
    lateness, so any redelivery the horizon would still accept finds it). Batch: the copy that
    arrived first (archive order), as a replay judges it."""

    def __init__(self, ttl_ms: int) -> None:
        super().__init__()
        self.ttl_ms = ttl_ms

    def expand(self, records: beam.PCollection[Record]) -> beam.PCollection[Record]:
        keyed = records | "Key" >> beam.Map(lambda r: (r.dedup_key, r))
        if records.is_bounded:
            kept = keyed | "FirstArrival" >> beam.CombinePerKey(_first_arrival)
        else:
            kept = keyed | "FirstSeen" >> DeduplicatePerKey(event_time_duration=Duration(micros=self.ttl_ms * 1000))
        return kept | "Restamp" >> beam.ParDo(_Restamp())


def _judged_outputs(j: Judged) -> Iterator[Any]:
    if j.too_late is not None:
        yield pvalue.TaggedOutput(TOO_LATE_TAG, j.too_late)
    else:
        yield window.TimestampedValue(j, _at(j.event_ms))


class _JudgeOwnFn(beam.DoFn):
    """Records of an upload, judged against a watermark of their own: the upload is one batch, so
    nothing in it is behind a watermark."""

    def __init__(self, opts: EventTimeOptions, clock: Clock) -> None:
        self.opts, self.clock = opts, clock

    def process(self, rec: Record) -> Iterator[Any]:
        yield from _judged_outputs(judge(rec.stream, rec.record, None, self.opts, self.clock.now(), rec.text))


class _JudgeByPrefixFn(beam.DoFn):
    """Batch: each record against the watermark its archive object started with, from the greatest
    event times of the objects before it (a small side input: one entry per object)."""

    def __init__(self, opts: EventTimeOptions, clock: Clock) -> None:
        self.opts, self.clock = opts, clock
        self._cache: tuple[int, dict[tuple[str, str], int | None]] | None = None

    def process(self, rec: Record, summaries: list[tuple[str, str, int | None]]) -> Iterator[Any]:
        if self._cache is None or self._cache[0] != id(summaries):
            self._cache = (id(summaries), prefix_watermarks(summaries, self.opts.out_of_orderness_ms))
        w = self._cache[1].get((rec.scope, rec.order))
        yield from _judged_outputs(judge(rec.stream, rec.record, w, self.opts, self.clock.now(), rec.text))


WatermarkSeed = Callable[[str], Watermark]
"""Reads a stream's persisted watermark (ops.watermarks) when a streaming job starts with empty state."""


class _JudgeInOrderFn(beam.DoFn):
    """Streaming: the stream's watermark in state; each record is judged against the watermark the
    records before it left (an arrival batch of one), then moves it."""

    WATERMARK = ReadModifyWriteStateSpec("watermark", PickleCoder())

    def __init__(self, opts: EventTimeOptions, clock: Clock, seed: WatermarkSeed | None) -> None:
        self.opts, self.clock, self.seed = opts, clock, seed

    def process(self, keyed: tuple[str, Record], state: Any = beam.DoFn.StateParam(WATERMARK)) -> Iterator[Any]:
        scope, rec = keyed
        current: Watermark | None = state.read()
        if current is None:
            current = self.seed(scope) if self.seed is not None else Watermark()
        now = self.clock.now()
        judged, after = judge_batch(rec.stream, [(rec.record, rec.text)], current, self.opts, now)
        state.write(after)
        if after != current and after.watermark_ms is not None:
            yield pvalue.TaggedOutput(WATERMARKS_TAG, watermark_row(scope, after, now))
        for j in judged:
            yield from _judged_outputs(j)


def _summary(rec: Record, now_ms: int) -> tuple[tuple[str, str], int]:
    return ((rec.scope, rec.order), capped_ms(event_ms(rec.record), now_ms))


class AssignEventTime(beam.PTransform):
    """is_late / lateness_ms against the stream's watermark (event_time.py); records beyond the
    allowed lateness → `too_late` dead letters; streaming also emits `watermarks` rows."""

    def __init__(self, opts: EventTimeOptions, clock: Clock, seed: WatermarkSeed | None = None) -> None:
        super().__init__()
        self.opts, self.clock, self.seed = opts, clock, seed

    def expand(self, records: beam.PCollection[Record]) -> dict[str, beam.PCollection[Any]]:
        own, shared = records | "OwnOrShared" >> beam.Partition(lambda r, _: 0 if r.own_watermark else 1, 2)
        own_out = own | "JudgeOwn" >> beam.ParDo(_JudgeOwnFn(self.opts, self.clock)).with_outputs(TOO_LATE_TAG, main="rows")
        outs = [own_out]
        watermarks: beam.PCollection[Any] | None = None
        if records.is_bounded:
            now_ms = parse_iso_ms(self.clock.now())
            assert now_ms is not None
            summaries = (
                shared
                | "Summarize" >> beam.Map(_summary, now_ms)
                | "GreatestPerBatch" >> beam.CombinePerKey(max)
                | "Flat" >> beam.Map(lambda kv: (kv[0][0], kv[0][1], kv[1]))
            )
            outs.append(
                shared
                | "JudgeByArrival" >> beam.ParDo(_JudgeByPrefixFn(self.opts, self.clock), pvalue.AsList(summaries)).with_outputs(TOO_LATE_TAG, main="rows")
            )
        else:
            judged = (
                shared
                | "KeyByScope" >> beam.Map(lambda r: (r.scope, r))
                | "JudgeInOrder" >> beam.ParDo(_JudgeInOrderFn(self.opts, self.clock, self.seed)).with_outputs(TOO_LATE_TAG, WATERMARKS_TAG, main="rows")
            )
            outs.append(judged)
            watermarks = judged[WATERMARKS_TAG]
        p = records.pipeline
        result: dict[str, beam.PCollection[Any]] = {
            "rows": [o["rows"] for o in outs] | "Rows" >> beam.Flatten(),
            TOO_LATE_TAG: [o[TOO_LATE_TAG] for o in outs] | "TooLate" >> beam.Flatten(),
        }
        result[WATERMARKS_TAG] = watermarks if watermarks is not None else p | "NoWatermarks" >> beam.Create([])
        return result


def raw_row(j: Judged, loaded_at: str) -> dict[str, Any]:
    row = {**j.record, "event_date": j.event_date, "loaded_at": loaded_at, LATE_FLAG: j.is_late}
    if j.stream == "events":
        row["is_late"] = j.is_late
        row["lateness_ms"] = j.lateness_ms
    return row


class _RawRowFn(beam.DoFn):
    def __init__(self, clock: Clock) -> None:
        self.clock = clock

    def process(self, j: Judged) -> Iterator[tuple[str, dict[str, Any]]]:
        yield (contracts.RAW_TABLES[j.stream], raw_row(j, self.clock.now()))


class CdcChanges(beam.PTransform):
    """Change events → per-key core changes and truncates (cdc.py), keyed by core table."""

    def expand(self, rows: beam.PCollection[Judged]) -> beam.PCollection[tuple[str, Any]]:
        return (
            rows
            | "OnlyCdc" >> beam.Filter(lambda j: j.stream == "cdc")
            | "Changes" >> beam.FlatMap(lambda j: [(contracts.core_table(c.table), c) for c in changes_of(j.record)])
        )


def _sum_counts(counts: Iterable[MinuteCounts]) -> MinuteCounts:
    total = MinuteCounts()
    for c in counts:
        total = total + c
    return total


class _MetricRowFn(beam.DoFn):
    def __init__(self, clock: Clock) -> None:
        self.clock = clock

    def process(
        self,
        kv: tuple[str, MinuteCounts],
        w: Any = beam.DoFn.WindowParam,
    ) -> Iterator[tuple[str, dict[str, Any]]]:
        stream, counts = kv
        minute = iso_from_ms(int(w.start.micros // 1000))
        yield (contracts.REALTIME_METRICS, metric_row(stream, minute, counts, self.clock.now()))


class MinuteMetrics(beam.PTransform):
    """ops.realtime_metrics: one-minute event-time windows per stream. The on-time pane fires when
    the watermark passes the minute; every late record fires the minute again with its corrected
    total (accumulating panes) for `lateness_ms` (GraphSettings.metrics_lateness_ms)."""

    def __init__(self, lateness_ms: int, clock: Clock) -> None:
        super().__init__()
        self.lateness_ms, self.clock = lateness_ms, clock

    def expand(self, rows: beam.PCollection[Judged]) -> beam.PCollection[tuple[str, dict[str, Any]]]:
        lateness_s = self.lateness_ms // 1000
        return (
            rows
            | "Counts" >> beam.Map(lambda j: (j.stream, counts_of(j.record, j.is_late)))
            | "Minutes"
            >> beam.WindowInto(
                window.FixedWindows(WINDOW_MS // 1000),
                trigger=trigger.AfterWatermark(late=trigger.AfterCount(1)),
                accumulation_mode=trigger.AccumulationMode.ACCUMULATING,
                allowed_lateness=Duration(seconds=lateness_s),
            )
            | "PerMinute" >> beam.CombinePerKey(_sum_counts)
            | "Row" >> beam.ParDo(_MetricRowFn(self.clock))
        )


@dataclass(frozen=True)
class GraphSettings:
    opts: EventTimeOptions
    clock: Clock

    @property
    def metrics_lateness_ms(self) -> int:
        """How long a minute's window takes late records: the horizon plus the out-of-orderness and a
        day, so the runner's watermark, which can run ahead of the data's own (an idle Pub/Sub source
        moves it on), never closes a minute that the data horizon still admits records to."""
        return self.opts.allowed_lateness_ms + self.opts.out_of_orderness_ms + DAY_MS

    @property
    def dedup_ttl_ms(self) -> int:
        """Dedup state outlives every window a record can still be counted in: a redelivery that
        comes after its state expired is dropped by the metrics windows, and its row by the
        warehouse's insert-if-absent."""
        return self.metrics_lateness_ms + WINDOW_MS


def build_graph(inbound: beam.PCollection[Inbound], settings: GraphSettings, seed: WatermarkSeed | None = None) -> beam.PCollection[tuple[str, Any]]:
    """The whole pipeline between a source and the warehouse, independent of both: messages in,
    (table, write) pairs out — rows for raw.* and ops.dead_letters (kept once per key), core changes
    and truncates for core.* (greatest position wins), per-minute rows for ops.realtime_metrics
    (latest pane wins) and watermark rows for ops.watermarks (greatest wins)."""
    clock, opts = settings.clock, settings.opts
    parsed = inbound | "Parse" >> ParseMessages(clock)
    fresh = parsed["records"] | "Dedup" >> Deduplicate(settings.dedup_ttl_ms)
    judged = fresh | "EventTime" >> AssignEventTime(opts, clock, seed)
    rows = judged["rows"]
    dead = (
        (parsed[DEAD_LETTERS_TAG], judged[TOO_LATE_TAG])
        | "DeadLetters" >> beam.Flatten()
        | "ToDeadLetterTable" >> beam.Map(lambda d: (contracts.DEAD_LETTERS, d))
    )
    writes = [
        rows | "RawRows" >> beam.ParDo(_RawRowFn(clock)),
        rows | "Cdc" >> CdcChanges(),
        dead,
        rows | "Metrics" >> MinuteMetrics(settings.metrics_lateness_ms, clock),
        judged[WATERMARKS_TAG] | "ToWatermarkTable" >> beam.Map(lambda r: (contracts.WATERMARKS, r)),
    ]
    return [w | f"Global{i}" >> beam.WindowInto(window.GlobalWindows()) for i, w in enumerate(writes)] | "Writes" >> beam.Flatten()

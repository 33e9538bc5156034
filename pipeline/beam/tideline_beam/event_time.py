"""Event time as the TypeScript engine defines it (pipeline/transforms/event-time.ts).

Each stream has a watermark: the greatest event time loaded so far (capped at now + the allowed
clock drift) minus the allowed out-of-orderness. A record behind the watermark its arrival batch
started with is late by the difference (`is_late`, `lateness_ms`); one more than the allowed
lateness behind goes to the dead letters instead (except CDC, which is ordered by source position).

The watermark is data, not the runner's: a backfill is judged as its records arrived, which a
runner's watermark cannot do (in batch it makes nothing late), and every runner gives the same flags.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from . import contracts
from .dead_letter import pipeline_dead_letter
from .jsvalues import iso_from_ms, parse_iso_ms, utc_date

DAY_MS = 86_400_000


@dataclass(frozen=True)
class EventTimeOptions:
    out_of_orderness_ms: int
    allowed_lateness_ms: int

    @staticmethod
    def defaults() -> EventTimeOptions:
        return EventTimeOptions(
            out_of_orderness_ms=contracts.limit("DEFAULT_OUT_OF_ORDERNESS_MS"),
            allowed_lateness_ms=contracts.limit("DEFAULT_ALLOWED_LATENESS_DAYS") * DAY_MS,
        )


@dataclass(frozen=True)
class Watermark:
    """A stream's watermark state; both None before the first record."""

    watermark_ms: int | None = None
    max_event_ms: int | None = None

    def advanced(self, batch_max_ms: int | None, out_of_orderness_ms: int) -> Watermark:
        """The state after a batch whose greatest capped event time is batch_max_ms."""
        if batch_max_ms is None:
            return self
        new_max = batch_max_ms if self.max_event_ms is None else max(self.max_event_ms, batch_max_ms)
        candidate = new_max - out_of_orderness_ms
        w = candidate if self.watermark_ms is None else max(self.watermark_ms, candidate)
        return Watermark(w, new_max)


def event_ms(record: dict[str, Any]) -> int:
    ms = parse_iso_ms(str(record["event_ts"]))
    if ms is None:  # the contract's pattern admits only ISO-8601 date-times
        raise ValueError(f"event_ts {record['event_ts']!r} is not an ISO-8601 date-time")
    return ms


def event_date(record: dict[str, Any]) -> str:
    ts = str(record["event_ts"])
    if len(ts) >= 20 and ts.endswith("Z") and ts[10] == "T":
        return ts[:10]
    return utc_date(event_ms(record))


def capped_ms(ts_ms: int, now_ms: int) -> int:
    """A clock far in the future must not push everything else behind the watermark."""
    return min(ts_ms, now_ms + contracts.limit("MAX_FUTURE_EVENT_MS"))


def batch_max(records: Iterable[dict[str, Any]], now_ms: int) -> int | None:
    """Greatest capped event time of a batch. Records too late for the horizon are behind the
    watermark, hence behind the greatest event time already seen, so counting them changes nothing."""
    m: int | None = None
    for r in records:
        c = capped_ms(event_ms(r), now_ms)
        if m is None or c > m:
            m = c
    return m


def _duration(ms: int) -> str:
    h = ms / 3_600_000
    if h >= 48:
        return f"{h / 24:.1f} days"
    if h >= 1:
        return f"{h:.1f} hours"
    return f"{round(ms / 1000)} s"


@dataclass(frozen=True)
class Judged:
    """A record with its event-time columns, or the dead letter it became."""

    stream: str
    record: dict[str, Any]
    event_ms: int
    event_date: str
    is_late: bool
    lateness_ms: int
    too_late: dict[str, Any] | None = None


def judge(stream: str, record: dict[str, Any], watermark_ms: int | None, opts: EventTimeOptions, now: str, payload: str) -> Judged:
    """One record against the watermark its batch started with."""
    ts = event_ms(record)
    lateness = watermark_ms - ts if watermark_ms is not None and ts < watermark_ms else 0
    date = event_date(record)
    if stream != "cdc" and lateness > opts.allowed_lateness_ms:
        assert watermark_ms is not None
        letter = pipeline_dead_letter(
            stream=stream,
            event_id=str(record["event_id"]),
            kind="too-late",
            reason=(
                f"event_ts {record['event_ts']} is {_duration(lateness)} behind the {stream} watermark "
                f"{iso_from_ms(watermark_ms)}, beyond the allowed lateness of {_duration(opts.allowed_lateness_ms)}; "
                "load it with a backfill (npx tideline backfill) if it must be kept"
            ),
            payload=payload,
            now=now,
        )
        return Judged(stream, record, ts, date, True, lateness, letter)
    return Judged(stream, record, ts, date, lateness > 0, lateness)


def judge_batch(
    stream: str,
    records: Sequence[tuple[dict[str, Any], str]],
    state: Watermark,
    opts: EventTimeOptions,
    now: str,
) -> tuple[list[Judged], Watermark]:
    """A batch of (record, message text) judged against `state`; returns the state after it."""
    now_ms = parse_iso_ms(now)
    assert now_ms is not None
    judged = [judge(stream, r, state.watermark_ms, opts, now, text) for r, text in records]
    loaded = [j.record for j in judged if j.too_late is None]
    return judged, state.advanced(batch_max(loaded, now_ms), opts.out_of_orderness_ms)


def watermark_row(stream: str, w: Watermark, updated_at: str) -> dict[str, Any]:
    """The ops.watermarks row of a stream's watermark (as both TypeScript sinks store it)."""
    assert w.watermark_ms is not None
    assert w.max_event_ms is not None
    return {
        "stream": stream,
        "watermark_ts": iso_from_ms(w.watermark_ms),
        "max_event_ts": iso_from_ms(w.max_event_ms),
        "out_of_orderness_ms": w.max_event_ms - w.watermark_ms,
        "updated_at": updated_at,
    }


def prefix_watermarks(summaries: Iterable[tuple[str, str, int | None]], out_of_orderness_ms: int) -> dict[tuple[str, str], int | None]:
    """For batches (scope, arrival order, greatest capped event time), the watermark each batch
    starts with: the fold of its predecessors in arrival order within its scope."""
    by_scope: dict[str, list[tuple[str, int | None]]] = {}
    for scope, order, m in summaries:
        by_scope.setdefault(scope, []).append((order, m))
    out: dict[tuple[str, str], int | None] = {}
    for scope, batches in by_scope.items():
        state = Watermark()
        for order, m in sorted(batches, key=lambda b: b[0]):
            out[(scope, order)] = state.watermark_ms
            state = state.advanced(m, out_of_orderness_ms)
    return out

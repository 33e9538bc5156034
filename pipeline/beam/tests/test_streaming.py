"""The graph on a streaming runner with TestStream: watermark advance, out-of-order and late
records, late firings that correct a minute, dedup across bundles and at the state TTL, a restart."""

from __future__ import annotations

from apache_beam.testing.test_stream import TestStream
from apache_beam.transforms.window import TimestampedValue
from apache_beam.utils.timestamp import Timestamp

from tideline_beam.jsvalues import parse_iso_ms
from tideline_beam.transforms import Inbound

from .conftest import by, run_stream, settings
from .records import cdc_record, event_record, inbound

MIN = 60_000


def at(iso: str) -> Timestamp:
    ms = parse_iso_ms(iso)
    assert ms is not None
    return Timestamp(micros=ms * 1000)


def tv(x: Inbound) -> TimestampedValue:
    """As ReadFromPubSub hands a message over: timestamped by its event_ts attribute."""
    ts = x.message.attribute("event_ts")
    assert ts is not None
    return TimestampedValue(x, at(ts))


def ev(i: int, ts: str) -> Inbound:
    return inbound("events", event_record(i, ts))


def test_out_of_order_and_late_records_are_flagged_against_the_stream_watermark(warehouse):
    # 11:20 moves the watermark to 11:15 (5 min out-of-orderness); 11:17 is out of order but not
    # behind it; 11:05 is 10 minutes behind it; a record 4 days behind goes to the dead letters.
    stream = (
        TestStream()
        .add_elements([tv(ev(1, "2026-11-25T11:20:00.000Z"))])
        .add_elements([tv(ev(2, "2026-11-25T11:17:00.000Z"))])
        .add_elements([tv(ev(3, "2026-11-25T11:05:00.000Z"))])
        .add_elements([tv(ev(4, "2026-11-21T11:00:00.000Z"))])
        .advance_watermark_to_infinity()
    )
    run_stream(stream, warehouse)
    rows = {r["message_id"]: r for r in warehouse.rows("raw.events")}
    assert {k: (r["is_late"], r["lateness_ms"]) for k, r in rows.items()} == {
        "msg-1": (False, 0),
        "msg-2": (False, 0),
        "msg-3": (True, 10 * MIN),
    }
    [dead] = warehouse.rows("ops.dead_letters")
    assert dead["stage"] == "pipeline"
    assert dead["event_id"] == event_record(4, "x")["event_id"]
    assert dead["reason"].startswith("event_ts 2026-11-21T11:00:00.000Z is 4.0 days behind the events watermark 2026-11-25T11:15:00.000Z")
    assert by(warehouse.rows("ops.watermarks"), "stream", "watermark_ts", "max_event_ts") == [
        ("events", "2026-11-25T11:15:00.000Z", "2026-11-25T11:20:00.000Z")
    ]


def test_late_firings_correct_a_minute_after_the_watermark_passed_it(warehouse):
    stream = (
        TestStream()
        .add_elements([tv(ev(10, "2026-11-25T11:00:10.000Z")), tv(ev(13, "2026-11-25T11:00:20.000Z"))])
        .add_elements([tv(ev(11, "2026-11-25T11:30:00.000Z"))])
        .advance_watermark_to(at("2026-11-25T11:31:00.000Z"))  # the 11:00 minute fires on time
        .add_elements([tv(ev(23, "2026-11-25T11:00:40.000Z"))])  # late: fires 11:00 again
        .advance_watermark_to(at("2026-11-25T11:40:00.000Z"))
        .add_elements([tv(ev(12, "2026-11-25T11:00:50.000Z"))])  # late again
        .advance_watermark_to_infinity()
    )
    run_stream(stream, warehouse)
    minutes = {(r["stream"], r["minute"]): r for r in warehouse.rows("ops.realtime_metrics")}
    m = minutes[("events", "2026-11-25T11:00:00.000Z")]
    # msg-13 and msg-23 are orders (i % 5 == 3): revenue 10 + 13 % 7 + 0.25 and 10 + 23 % 7 + 0.25.
    assert (m["events"], m["orders"], m["revenue"], m["late_events"]) == (4, 2, "28.500000", 2)
    assert minutes[("events", "2026-11-25T11:30:00.000Z")]["events"] == 1


def test_redeliveries_across_bundles_are_loaded_once(warehouse):
    first = [tv(ev(i, f"2026-11-25T11:{i:02d}:00.000Z")) for i in range(10)]
    again = [tv(ev(i, f"2026-11-25T11:{i:02d}:00.000Z")) for i in (2, 5, 9)]
    stream = TestStream().add_elements(first).advance_watermark_to(at("2026-11-25T11:30:00.000Z")).add_elements(again).advance_watermark_to_infinity()
    run_stream(stream, warehouse)
    assert len(warehouse.rows("raw.events")) == 10
    assert sum(r["events"] for r in warehouse.rows("ops.realtime_metrics")) == 10


def test_dedup_state_lives_exactly_until_the_ttl(warehouse):
    # Small horizon: dedup state of a record lives until the watermark passes its event time plus
    # the minute's window can take late records (GraphSettings.dedup_ttl_ms).
    s = settings(out_of_orderness_ms=0, allowed_lateness_ms=10 * MIN)
    ttl_ms = s.dedup_ttl_ms
    t0 = parse_iso_ms("2026-11-25T00:00:00.000Z")
    assert t0 is not None
    ts = "2026-11-25T00:00:00.000Z"
    just_before = Timestamp(micros=(t0 + ttl_ms - 1) * 1000)
    after = Timestamp(micros=(t0 + ttl_ms + 1) * 1000)
    a, b = inbound("events", event_record(1, ts)), inbound("events", event_record(2, ts))
    stream = (
        TestStream()
        .add_elements([tv(a), tv(b)])
        .advance_watermark_to(just_before)
        .add_elements([tv(a)])  # inside the TTL: a duplicate
        .advance_watermark_to(after)
        .add_elements([tv(b)])  # past the TTL: state is gone, the record reaches the horizon check
        .advance_watermark_to_infinity()
    )
    run_stream(stream, warehouse, s)
    assert len(warehouse.rows("raw.events")) == 2
    # The copy of b that outlived its dedup state passed dedup, but its minute's window had closed
    # (so it is not counted twice) and the warehouse keeps its row once.
    assert sum(r["events"] for r in warehouse.rows("ops.realtime_metrics")) == 2


def test_a_restarted_job_continues_from_the_persisted_watermark(warehouse):
    run_stream(TestStream().add_elements([tv(ev(1, "2026-11-25T11:20:00.000Z"))]).advance_watermark_to_infinity(), warehouse)
    # A new job: empty state, same warehouse. Its first record is judged against ops.watermarks,
    # and a redelivery of the first job's record is stored once.
    run_stream(
        TestStream().add_elements([tv(ev(2, "2026-11-25T11:05:00.000Z")), tv(ev(1, "2026-11-25T11:20:00.000Z"))]).advance_watermark_to_infinity(),
        warehouse,
    )
    rows = {r["message_id"]: (r["is_late"], r["lateness_ms"]) for r in warehouse.rows("raw.events")}
    assert rows == {"msg-1": (False, 0), "msg-2": (True, 10 * MIN)}


def test_cdc_out_of_order_with_stale_and_repeated_changes(warehouse):
    o = "orders"
    create = cdc_record(o, "c", 1, "o1", after={"id": "o1", "status": "pending", "total_amount": "12.50"})
    paid = cdc_record(o, "u", 3, "o1", before={"id": "o1", "status": "pending"}, after={"id": "o1", "status": "paid", "total_amount": "12.50"})
    stale = cdc_record(o, "u", 2, "o1", before={"id": "o1"}, after={"id": "o1", "status": "stale"})
    gone = cdc_record(o, "d", 5, "o2", before={"id": "o2", "status": "paid", "total_amount": 7})
    older_create = cdc_record(o, "c", 4, "o2", after={"id": "o2", "status": "pending"})
    keyed = cdc_record(o, "u", 6, "o4", before={"id": "o3", "status": "new"}, after={"id": "o4", "status": "new"})
    changes = [paid, stale, create, gone, older_create, paid, keyed]
    stream = TestStream()
    for c in changes:  # one bundle per change
        stream = stream.add_elements([tv(inbound("cdc", c))])
    run_stream(stream.advance_watermark_to_infinity(), warehouse)
    rows = {r["id"]: (r["status"], r["total_amount"], r["_position"][-1:], r["_deleted"]) for r in warehouse.rows("core.orders")}
    assert rows == {
        "o1": ("paid", "12.50", "3", False),
        "o2": ("paid", "7", "5", True),  # the delete wins over the older create that came after it
        "o3": ("new", None, "6", True),  # a primary-key change deletes the old key
        "o4": ("new", None, "6", False),
    }
    assert len(warehouse.rows("raw.cdc_changes")) == 6  # every change kept once in the log

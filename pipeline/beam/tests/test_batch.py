"""The graph on bounded input (a backfill of archive objects, uploads): arrival order from the
object names, dedup to the first arrival, uploads judged on their own watermark, dead letters for
every kind of bad input."""

from __future__ import annotations

import json

from tideline_beam import contracts
from tideline_beam.parse import Message
from tideline_beam.transforms import Inbound

from .conftest import by, run_batch
from .records import event_record, inbound, webhook_record

MIN = 60_000


def obj(hour: int, n: int) -> str:
    return f"raw/events/dt=2026-11-25/hour={hour:02d}/{n:04d}.ndjson.gz"


def test_objects_are_judged_in_archive_order_whatever_order_they_are_read_in(warehouse):
    # Object 2 arrives after object 1 (its name sorts after): its 11:00 record is 15 minutes
    # behind the watermark object 1 left (11:20 - 5 min); the input order of the elements is reversed.
    first = [inbound("events", event_record(1, "2026-11-25T11:20:00.000Z"), obj(11, 1), 1)]
    second = [
        inbound("events", event_record(2, "2026-11-25T11:00:00.000Z"), obj(11, 2), 1),
        inbound("events", event_record(3, "2026-11-25T11:30:00.000Z"), obj(11, 2), 2),
    ]
    run_batch(list(reversed(first + second)), warehouse)
    assert by(warehouse.rows("raw.events"), "message_id", "is_late", "lateness_ms") == [
        ("msg-1", False, 0),
        ("msg-2", True, 15 * MIN),  # judged against the watermark its object started with,
        ("msg-3", False, 0),  # not against 11:30 from its own object
    ]


def test_a_record_archived_twice_keeps_its_first_arrival(warehouse):
    late = event_record(2, "2026-11-25T11:00:00.000Z")
    items = [
        inbound("events", event_record(1, "2026-11-25T11:20:00.000Z"), obj(11, 1), 1),
        inbound("events", late, obj(11, 1), 2),  # on time in its first object
        inbound("events", late, obj(12, 1), 1),  # the same record again, an hour later: late there
    ]
    run_batch(items, warehouse)
    assert by(warehouse.rows("raw.events"), "message_id", "is_late") == [("msg-1", False), ("msg-2", False)]
    assert sum(r["events"] for r in warehouse.rows("ops.realtime_metrics")) == 2


def test_an_upload_is_judged_on_a_watermark_of_its_own(warehouse):
    live = [inbound("events", event_record(1, "2026-11-25T11:20:00.000Z"), obj(11, 1), 1)]
    upload = "landing/events/dt=2026-11-25/req-1.ndjson"
    old = [
        Inbound(
            Message("events", json.dumps(event_record(i, f"2026-10-01T10:0{i}:00.000Z"))), scope=f"events@{upload}", order=upload, seq=i, own_watermark=True
        )
        for i in range(2, 5)
    ]
    run_batch(live + old, warehouse)
    assert all(not r["is_late"] for r in warehouse.rows("raw.events"))
    assert len(warehouse.rows("raw.events")) == 4
    assert warehouse.rows("ops.dead_letters") == []


def test_each_kind_of_bad_input_becomes_a_dead_letter_with_stage_and_reason(warehouse):
    big = json.dumps(event_record(9, "2026-11-25T11:00:00.000Z", properties={"blob": "x" * contracts.limit("MAX_PIPELINE_RECORD_BYTES")}))
    wrong_type = event_record(5, "2026-11-25T11:00:00.000Z", type="purchase")
    missing = {k: v for k, v in event_record(6, "2026-11-25T11:00:00.000Z").items() if k != "event_ts"}
    edge_dead = {
        "dead_letter_id": "d1",
        "stage": "edge",
        "reason": "bad signature",
        "stream": "webhooks",
        "event_id": None,
        "attempts": 1,
        "failed_at": "2026-11-25T11:00:00.000Z",
        "payload": "{}",
    }
    items = [
        inbound("events", "{not json", "b", 1, message_id="m-json"),
        inbound("events", wrong_type, "b", 2),
        inbound("events", missing, "b", 3),
        inbound("events", "[1, 2]", "b", 4, message_id="m-array"),
        inbound("orders", event_record(7, "2026-11-25T11:00:00.000Z"), "b", 5, message_id="m-stream"),
        Inbound(Message("events", big, (("event_id", event_record(9, "x")["event_id"]),), "m-big"), scope="events", order="b", seq=6),
        inbound("webhooks", {"event_id": "w1", "provider": "shopify"}, "b", 7),
        inbound("dead-letters", edge_dead, "b", 8),
        inbound("webhooks", webhook_record(1, "2026-11-25T11:00:00.000Z"), "b", 9),
    ]
    run_batch(items, warehouse)
    dead = warehouse.rows("ops.dead_letters")
    expected = [
        ("pipeline", "events", "message m-json on events is not JSON (Expecting property name enclosed in double quotes"),
        ("pipeline", "events", "events record does not match the contract (contracts/records.ts): type: must be equal to one of the allowed values"),
        ("pipeline", "events", "events record does not match the contract (contracts/records.ts): event_ts: is required"),
        ("pipeline", "events", "events record does not match the contract (contracts/records.ts): (record): must be a JSON object"),
        ("pipeline", "orders", "message m-stream names the unknown stream 'orders'; the pipeline loads events, webhooks, cdc, dead-letters"),
        ("pipeline", "events", f"message m-big on events is {len(big)} bytes, over the {contracts.limit('MAX_PIPELINE_RECORD_BYTES')}-byte limit"),
        ("pipeline", "webhooks", "webhooks record does not match the contract (contracts/records.ts): source: is required; webhook_id: is required"),
        ("edge", "webhooks", "bad signature"),
    ]
    assert len(dead) == len(expected)
    for stage, stream, prefix in expected:
        assert [d for d in dead if (d["stage"], d["stream"]) == (stage, stream) and d["reason"].startswith(prefix)], prefix
    dead = {d["dead_letter_id"]: d for d in dead}
    oversize = next(d for d in dead.values() if d["reason"].startswith("message m-big"))
    assert len(oversize["payload"].encode()) == contracts.limit("MAX_DEAD_LETTER_PAYLOAD_BYTES")
    assert oversize["event_id"] == event_record(9, "x")["event_id"]  # from the message's attribute
    # The good record of the same batch is loaded; nothing was lost or crashed the run.
    assert len(warehouse.rows("raw.webhooks")) == 1


def test_a_rerun_changes_nothing(warehouse):
    items = [inbound("events", event_record(i, f"2026-11-25T11:{i:02d}:00.000Z"), obj(11, i // 4), i) for i in range(12)]
    items.append(inbound("events", "nope", obj(11, 9), 1))
    run_batch(items, warehouse)
    snapshot = {t: by(warehouse.rows(t), *contracts.table_key(t)) for t in ("raw.events", "ops.dead_letters", "ops.realtime_metrics")}
    metrics = by(warehouse.rows("ops.realtime_metrics"), "minute", "events", "late_events")
    run_batch(items, warehouse)
    assert {t: by(warehouse.rows(t), *contracts.table_key(t)) for t in snapshot} == snapshot
    assert by(warehouse.rows("ops.realtime_metrics"), "minute", "events", "late_events") == metrics

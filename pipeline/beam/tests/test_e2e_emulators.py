"""End to end on Beam's local runners against the real stand-ins (emulators.py): the pipeline as
`python -m tideline_beam` runs it, streaming from the Pub/Sub emulator on the DirectRunner and
backfilling the archive from fake-gcs-server on the FnApiRunner, writing through the production
BigQuery sink (Storage Write API + statements) into the BigQuery emulator.

  - a shuffled workload with 30% redeliveries and events up to 3 days late lands exactly once, with
    the late flags the engine's watermark gives (and one event past the allowed lateness is a dead
    letter);
  - the CDC golden vector, published out of order, gives its expected core.orders;
  - a backfill over the archive of the same arrivals gives the same raw.events rows as streaming."""

from __future__ import annotations

import gzip
import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tideline_beam import contracts
from tideline_beam.jsvalues import iso_from_ms, parse_iso_ms

from .emulators import PROJECT, start_bigquery, start_gcs, start_pubsub
from .records import event_record
from .test_golden import VECTORS, canonical_rows

RAW_BUCKET = f"{PROJECT}-raw"
MIN_MS, DAY_MS = 60_000, 86_400_000
OUT_OF_ORDERNESS_MS = 300_000
BEAM = Path(__file__).resolve().parents[1]


def iso(ms: int) -> str:
    return iso_from_ms(ms)


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Iterator[dict[str, str]]:
    tmp = tmp_path_factory.mktemp("e2e")
    started = []
    try:
        pubsub = start_pubsub(tmp)
        started.append(pubsub)
        gcs = start_gcs(tmp, [RAW_BUCKET])
        started.append(gcs)
        bq, rest, grpc = start_bigquery(tmp)
        started.append(bq)
        yield {**pubsub.env, **gcs.env, "rest": rest, "grpc": grpc, "tmp": str(tmp)}
    finally:
        for e in reversed(started):
            e.stop()


def warehouse_args(stack: dict[str, str], prefix: str) -> list[str]:
    return ["--bigquery_endpoint", stack["rest"], "--bigquery_storage_endpoint", stack["grpc"], "--dataset_prefix", prefix]


def env_of(stack: dict[str, str]) -> dict[str, str]:
    return {**os.environ, "PUBSUB_EMULATOR_HOST": stack["PUBSUB_EMULATOR_HOST"], "STORAGE_EMULATOR_HOST": stack["STORAGE_EMULATOR_HOST"]}


def bigquery(stack: dict[str, str]) -> Any:
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import bigquery as bq

    return bq.Client(project=PROJECT, credentials=AnonymousCredentials(), client_options={"api_endpoint": stack["rest"]})


def rows(client: Any, table: str, prefix: str, where: str = "TRUE") -> list[dict[str, Any]]:
    dataset, name = table.split(".")
    return [dict(r.items()) for r in client.query(f"SELECT * FROM `{PROJECT}.{prefix}{dataset}.{name}` WHERE {where}").result()]


def wait_for(what: str, check: Callable[[], bool], timeout_s: float, proc: subprocess.Popen[bytes] | None = None, log: Path | None = None) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            if check():
                return
        except Exception as e:
            if time.monotonic() > deadline:
                raise AssertionError(f"{what}: {e}") from e
        if proc is not None and proc.poll() is not None:
            pytest.fail(f"the pipeline stopped (exit {proc.returncode}) before {what}:\n{log.read_text(errors='replace')[-3000:] if log else ''}")
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}:\n{log.read_text(errors='replace')[-3000:] if log else ''}")
        time.sleep(1)


def workload(base_ms: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, tuple[bool, int]], str]:
    """Two arrival phases of events. Phase 1: 12 events within 4 minutes (inside the out-of-orderness:
    none late whatever the order). Phase 2, after phase 1 has landed: 4 events 1 hour to 2.9 days
    behind (late by watermark minus event time) and one 3.5 days behind (past the allowed lateness:
    a dead letter). Small: each pull of the local runner is a bundle, and each bundle's writes are
    a few statements in the emulator. Returns both phases, the expected (is_late, lateness_ms) per event_id and the
    dead-lettered event's id."""
    phase1 = [event_record(i, iso(base_ms + (i * 19_000) % (4 * MIN_MS))) for i in range(12)]
    watermark = max(parse_iso_ms(r["event_ts"]) or 0 for r in phase1) - OUT_OF_ORDERNESS_MS
    behind = [60 * MIN_MS, DAY_MS + 5 * MIN_MS, 2 * DAY_MS + 7 * MIN_MS, 2.9 * DAY_MS]
    phase2 = [event_record(100 + i, iso(int(watermark - b))) for i, b in enumerate(behind)]
    too_late = event_record(200, iso(int(watermark - 3.5 * DAY_MS)))
    expected = {r["event_id"]: (False, 0) for r in phase1} | {r["event_id"]: (True, int(b)) for r, b in zip(phase2, behind, strict=True)}
    return phase1, [*phase2, too_late], expected, too_late["event_id"]


def with_redeliveries(records: list[dict[str, Any]], rnd: random.Random) -> list[dict[str, Any]]:
    """Every record once plus 30% of them again, shuffled."""
    out = [*records, *rnd.sample(records, round(len(records) * 0.3))]
    rnd.shuffle(out)
    return out


def publish(stack: dict[str, str], stream: str, records: list[dict[str, Any]]) -> None:
    from google.cloud import pubsub_v1

    os.environ["PUBSUB_EMULATOR_HOST"] = stack["PUBSUB_EMULATOR_HOST"]
    publisher = pubsub_v1.PublisherClient()
    topic = publisher.topic_path(PROJECT, stream)
    futures = [
        publisher.publish(
            topic,
            json.dumps(r, separators=(",", ":")).encode(),
            stream=stream,
            source="test",
            event_id=str(r["event_id"]),
            event_ts=str(r["event_ts"]),
        )
        for r in records
    ]
    for f in futures:
        f.result(timeout=30)


def create_subscriptions(stack: dict[str, str], streams: list[str]) -> None:
    from google.cloud import pubsub_v1

    os.environ["PUBSUB_EMULATOR_HOST"] = stack["PUBSUB_EMULATOR_HOST"]
    publisher, subscriber = pubsub_v1.PublisherClient(), pubsub_v1.SubscriberClient()
    for s in streams:
        topic = publisher.topic_path(PROJECT, s)
        publisher.create_topic(name=topic)
        subscriber.create_subscription(name=subscriber.subscription_path(PROJECT, f"pipeline-{s}"), topic=topic, ack_deadline_seconds=60)


def archive(stack: dict[str, str], day: str, hour: int, name: str, records: list[dict[str, Any]]) -> None:
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage

    client = storage.Client(project=PROJECT, credentials=AnonymousCredentials(), client_options={"api_endpoint": stack["STORAGE_EMULATOR_HOST"]})
    data = gzip.compress(("\n".join(json.dumps(r, separators=(",", ":")) for r in records) + "\n").encode())
    client.bucket(RAW_BUCKET).blob(f"raw/events/dt={day}/hour={hour:02d}/{name}.ndjson.gz").upload_from_string(data, content_type="application/x-ndjson")


def raw_events(client: Any, prefix: str, since: str) -> list[dict[str, Any]]:
    found = rows(client, "raw.events", prefix, f"event_date >= DATE '{since}'")
    return canonical_rows("raw.events", found)


def test_streaming_then_a_backfill_of_the_same_arrivals(stack):
    rnd = random.Random(11)
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    base_ms = int((now - timedelta(minutes=10)).timestamp() * 1000)
    phase1, phase2, expected, dead_id = workload(base_ms)
    cdc_vector = json.loads((VECTORS / "cdc-out-of-order.json").read_text(encoding="utf-8"))
    cdc = [m["record"] for batch in cdc_vector["batches"] for m in batch if m["stream"] == "cdc"]
    create_subscriptions(stack, ["events", "cdc"])
    client = bigquery(stack)
    since = iso(int(expected and min(parse_iso_ms(r["event_ts"]) or 0 for r in phase2)))[:10]

    log = Path(stack["tmp"]) / "streaming.log"
    argv = [sys.executable, "-m", "tideline_beam", "--project", PROJECT, "--source", "pubsub", "--streams", "events,cdc", "--runner", "DirectRunner"]
    argv += [*warehouse_args(stack, "stream_"), "--flush_interval_s", "1", "--max_rows_per_write", "500"]
    with log.open("wb") as out:
        proc = subprocess.Popen(argv, cwd=BEAM, env=env_of(stack), stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        publish(stack, "events", with_redeliveries(phase1, rnd))
        publish(stack, "cdc", with_redeliveries(cdc, rnd))
        wait_for("phase 1 in raw.events", lambda: len(rows(client, "raw.events", "stream_", f"event_date >= DATE '{since}'")) >= len(phase1), 240, proc, log)
        publish(stack, "events", with_redeliveries(phase2, rnd))

        def landed() -> bool:
            dead = rows(client, "ops.dead_letters", "stream_")
            return len(rows(client, "raw.events", "stream_", f"event_date >= DATE '{since}'")) >= len(expected) and any(dead_id in str(d) for d in dead)

        wait_for("phase 2 in raw.events and ops.dead_letters", landed, 120, proc, log)
        expected_orders = cdc_vector["expected"]["core.orders"]
        wait_for("core.orders", lambda: canonical_rows("core.orders", rows(client, "core.orders", "stream_")) == expected_orders, 60, proc, log)
        time.sleep(3)  # redeliveries still in flight would add rows now
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(30)

    streamed = raw_events(client, "stream_", since)
    assert len(streamed) == len({r["event_id"] for r in streamed}) == len(expected)
    assert {r["event_id"]: (r["is_late"], r["lateness_ms"]) for r in streamed} == expected
    [dead] = [d for d in rows(client, "ops.dead_letters", "stream_") if d["event_id"] == dead_id]
    assert "allowed lateness" in dead["reason"]
    assert canonical_rows("core.orders", rows(client, "core.orders", "stream_")) == cdc_vector["expected"]["core.orders"]
    touched = rows(client, "ops.partitions_touched", "stream_")
    assert sum(t["rows_loaded"] for t in touched if t["table_name"] == "raw.events") == len(expected)
    assert sum(t["late_rows"] for t in touched if t["table_name"] == "raw.events") == sum(late for late, _ in expected.values())

    # The edge archives each arrival batch as one object: phase 1, then phase 2, each with its redeliveries.
    day, hour = now.date().isoformat(), now.hour
    archive(stack, day, hour, "a", with_redeliveries(phase1, rnd))
    archive(stack, day, hour, "b", with_redeliveries(phase2, rnd))
    argv = [sys.executable, "-m", "tideline_beam", "--project", PROJECT, "--source", "archive", "--from_date", day, "--to_date", day]
    argv += ["--archive_root", f"gs://{RAW_BUCKET}", "--runner", "FnApiRunner", *warehouse_args(stack, "backfill_")]
    done = subprocess.run(argv, cwd=BEAM, env=env_of(stack), capture_output=True, text=True, timeout=180, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    backfilled = raw_events(client, "backfill_", since)
    assert backfilled == streamed
    assert contracts.table_key("raw.events") == ["event_id"]

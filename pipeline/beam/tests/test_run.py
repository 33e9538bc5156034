"""run(argv) from options: a backfill of a real (local) archive of gzip objects, option errors, and
the statements the BigQuery warehouse sends."""

from __future__ import annotations

import gzip
import json

import pytest

from tideline_beam.cdc import Truncate
from tideline_beam.pipeline import UsageError, run
from tideline_beam.sinks.bigquery import BigQuerySql, staging_fields
from tideline_beam.sinks.staging import RowEncoder
from tideline_beam.sources import subscriptions

from .conftest import by
from .records import event_record


def write_object(root, stream, day, hour, name, records):
    d = root / "raw" / stream / f"dt={day}" / f"hour={hour:02d}"
    d.mkdir(parents=True, exist_ok=True)
    lines = [r if isinstance(r, str) else json.dumps(r) for r in records]
    (d / f"{name}.ndjson.gz").write_bytes(gzip.compress(("\n".join(lines) + "\n").encode()))


def test_a_backfill_of_the_archive_from_options(tmp_path, warehouse):
    write_object(tmp_path, "events", "2026-11-25", 11, "a", [event_record(1, "2026-11-25T11:20:00.000Z"), event_record(2, "2026-11-25T11:21:00.000Z")])
    write_object(tmp_path, "events", "2026-11-25", 12, "b", [event_record(3, "2026-11-25T11:00:00.000Z"), "{broken"])
    write_object(tmp_path, "events", "2026-11-27", 0, "c", [event_record(4, "2026-11-27T00:00:00.000Z")])  # outside the range
    argv = ["--runner", "FnApiRunner", "--source", "archive", "--from_date", "2026-11-25", "--to_date", "2026-11-26", "--archive_root", str(tmp_path)]
    run([*argv, "--project", "tideline-local", "--now", "2026-11-25T13:00:00.000Z"], warehouse=warehouse)
    assert by(warehouse.rows("raw.events"), "message_id", "is_late", "lateness_ms") == [("msg-1", False, 0), ("msg-2", False, 0), ("msg-3", True, 960_000)]
    [dead] = warehouse.rows("ops.dead_letters")
    assert dead["reason"].startswith("message raw/events/dt=2026-11-25/hour=12/b.ndjson.gz#2 on events is not JSON")
    assert all("_late" not in r for r in warehouse.rows("raw.events"))
    touched = by(warehouse.rows("ops.partitions_touched"), "table_name", "event_date", "rows_loaded", "late_rows")
    assert touched == [("raw.events", "2026-11-25", 3, 1)]
    run([*argv, "--project", "tideline-local", "--now", "2026-11-25T14:00:00.000Z"], warehouse=warehouse)
    assert by(warehouse.rows("ops.partitions_touched"), "table_name", "event_date", "rows_loaded", "late_rows") == touched


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--source", "archive", "--from_date", "2026-11-25"], "needs --from_date and --to_date"),
        (["--source", "archive", "--from_date", "2026-11-26", "--to_date", "2026-11-25"], "is after --to_date"),
        (["--source", "landing"], "needs --landing_pattern"),
        (["--source", "archive", "--from_date", "2026-11-25", "--to_date", "2026-11-25"], "--project is required"),
    ],
)
def test_options_that_make_no_pipeline_say_what_to_pass(argv, message):
    with pytest.raises(UsageError, match=message):
        run(["--runner", "FnApiRunner", *argv])


def test_the_subscriptions_are_those_of_infra_resources():
    assert subscriptions("p", ["events", "cdc", "dead-letters"]) == {
        "events": "projects/p/subscriptions/pipeline-events",
        "cdc": "projects/p/subscriptions/pipeline-cdc",
        "dead-letters": "projects/p/subscriptions/pipeline-dead-letters",
    }


def test_bigquery_statements_are_idempotent_and_partition_filtered():
    sql = BigQuerySql("acme", "prod_")
    now = "2026-11-25T12:00:00.000Z"
    raw = sql.insert_new("raw.events", "__stg_1", [{"event_date": "2026-11-25"}, {"event_date": "2026-11-23"}], now)
    absent = (
        "NOT EXISTS (SELECT 1 FROM `acme.prod_raw.events` T WHERE T.event_id = S.event_id AND T.event_date BETWEEN DATE '2026-11-22' AND DATE '2026-11-26')"
    )
    assert raw.startswith("BEGIN TRANSACTION;\nMERGE `acme.prod_ops.partitions_touched` T USING (SELECT 'raw.events' AS table_name, event_date, ")
    assert f"COUNTIF(COALESCE(S._late, FALSE)) AS late_rows\n  FROM `acme.prod_raw.events__stg_1` S WHERE {absent} GROUP BY event_date" in raw
    assert "WHEN MATCHED THEN UPDATE SET rows_loaded = T.rows_loaded + S.rows_loaded, late_rows = T.late_rows + S.late_rows" in raw
    assert "\nINSERT INTO `acme.prod_raw.events` (event_id, message_id, " in raw
    assert raw.endswith(f"FROM `acme.prod_raw.events__stg_1` S\nWHERE {absent};\nCOMMIT TRANSACTION;")
    dead = sql.insert_new("ops.dead_letters", "__stg_4", [{}], now)
    assert dead.startswith("INSERT INTO `acme.prod_ops.dead_letters` (")
    assert "TRANSACTION" not in dead
    core = sql.apply_changes("core.orders", "__stg_2", [Truncate("orders", "0009", "2026-11-25T00:00:00.000Z")], "2026-11-25T12:00:00.000Z")
    assert core[0] == (
        "UPDATE `acme.prod_core.orders` SET _deleted = TRUE, _position = '0009', _source_ts = TIMESTAMP '2026-11-25T00:00:00.000Z', "
        "_updated_at = TIMESTAMP '2026-11-25T12:00:00.000Z' WHERE _position < '0009';"
    )
    assert (
        "WHEN MATCHED AND T._position < S._position THEN UPDATE SET customer_id = IF(S._deleted, COALESCE(S.customer_id, T.customer_id), S.customer_id)"
        in core[1]
    )
    assert "WHEN MATCHED AND S.events >= T.events THEN UPDATE SET" in sql.replace_minutes("__stg_3")
    assert "INSERT ROW" not in core[1] + sql.replace_minutes("__stg_3") + sql.advance_watermarks("__stg_5")
    assert sql.advance_watermarks("__stg_5").endswith(
        "WHEN NOT MATCHED THEN INSERT (stream, watermark_ts, max_event_ts, out_of_orderness_ms, updated_at) "
        "VALUES (S.stream, S.watermark_ts, S.max_event_ts, S.out_of_orderness_ms, S.updated_at);"
    )


def test_staging_rows_encode_as_the_storage_write_api_reads_them():
    enc = RowEncoder(staging_fields("raw.events"))
    assert [f.name for f in enc.descriptor.field][-1] == "_late"
    row = {"event_id": "e1", "event_ts": "2026-11-25T11:20:00.123Z", "event_date": "2026-11-25", "properties": {"total": 1.5}, "is_late": True}
    m = enc._message.FromString(enc.encode({**row, "lateness_ms": None}))
    assert (m.event_id, m.event_ts, m.event_date, m.is_late) == ("e1", 1_795_605_600_123_000, 20_782, True)
    assert json.loads(m.properties) == {"total": 1.5}
    assert not m.HasField("lateness_ms")
    with pytest.raises(ValueError, match=r"column event_ts .* has no offset"):
        enc.encode({"event_ts": "2026-11-25T11:20:00"})

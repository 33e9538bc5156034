"""The production warehouse: BigQuery through its client libraries (google-cloud-bigquery for
tables and statements, google-cloud-bigquery-storage for rows), which take endpoints, so the same
code reaches the BigQuery emulator locally.

Each batch of a table is written into a staging table through the Storage Write API (staging.py:
no load-job quota, the rows are exactly the contract's columns) and applied with one statement or
one transaction, so a batch lands whole or not at all, and a retried batch changes nothing:
  - raw.*: one transaction that counts the rows not stored yet into ops.partitions_touched (per
    event date, late rows apart) and inserts them (INSERT … WHERE NOT EXISTS on the key, bounded to
    the batch's event dates ± DEDUP_DATE_SLACK_DAYS: the tables' partition filter);
  - ops.dead_letters: INSERT … WHERE NOT EXISTS on the key (an INSERT is not a mutating DML
    statement, so writers of the table do not queue behind each other);
  - core.*: truncates (UPDATE … WHERE _position < p) then MERGE … WHEN MATCHED AND T._position <
    S._position: the greatest position wins whatever the order (cdc.py says why that equals applying
    in source order).
  - ops.realtime_metrics: MERGE replacing a minute unless the stored one counts more records.
  - ops.watermarks: MERGE with GREATEST.
MERGE inserts name their columns (`INSERT (cols) VALUES (S.cols)`) rather than `INSERT ROW`: the
same statement to BigQuery, and the form the emulator runs.
Tables are created from contracts/generated/bigquery when missing (partitioning, clustering,
require_partition_filter as generated).
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from .. import contracts
from ..cdc import CoreChange, Truncate, source_columns
from ..event_time import Watermark
from ..jsvalues import parse_iso_ms
from ..transforms import LATE_FLAG
from .staging import RowEncoder, write_client, write_pending
from .writes import Warehouse

STAGING_TTL = timedelta(days=1)
"""Staging tables are deleted after their statement; one a crashed worker left behind expires."""


def _lit(s: str) -> str:
    return "'" + s.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _ts(iso: str) -> str:
    return f"TIMESTAMP {_lit(iso)}"


def dedup_window(dates: Sequence[str]) -> tuple[str, str]:
    slack = timedelta(days=contracts.limit("DEDUP_DATE_SLACK_DAYS"))
    lo, hi = min(dates), max(dates)
    return ((date.fromisoformat(lo) - slack).isoformat(), (date.fromisoformat(hi) + slack).isoformat())


def staging_fields(table: str) -> list[dict[str, str]]:
    """The table's columns; a raw table's staging rows also carry their lateness (LATE_FLAG), which
    ops.partitions_touched counts and raw.webhooks and raw.cdc_changes do not store."""
    fields = contracts.table_fields(table)
    if table in contracts.RAW_TABLES.values():
        fields = [*fields, {"name": LATE_FLAG, "type": "BOOL", "mode": "NULLABLE"}]
    return fields


class BigQuerySql:
    """The statements of each write, apart from the client so that they can be checked as text."""

    def __init__(self, project: str, dataset_prefix: str = "") -> None:
        self.project, self.prefix = project, dataset_prefix

    def ref(self, table: str, suffix: str = "") -> str:
        dataset, name = table.split(".")
        return f"`{self.project}.{self.prefix}{dataset}.{name}{suffix}`"

    def columns(self, table: str) -> list[str]:
        return [f["name"] for f in contracts.table_fields(table)]

    def _merge_insert(self, table: str) -> str:
        cols = self.columns(table)
        return f"WHEN NOT MATCHED THEN INSERT ({', '.join(cols)}) VALUES ({', '.join(f'S.{c}' for c in cols)});"

    def _absent(self, table: str, rows: Sequence[dict[str, Any]]) -> str:
        """The condition that a staged row S is not stored in `table` yet."""
        on = " AND ".join(f"T.{k} = S.{k}" for k in contracts.table_key(table))
        if table in contracts.RAW_TABLES.values():
            lo, hi = dedup_window([str(r["event_date"]) for r in rows])
            on += f" AND T.event_date BETWEEN DATE {_lit(lo)} AND DATE {_lit(hi)}"
        return f"NOT EXISTS (SELECT 1 FROM {self.ref(table)} T WHERE {on})"

    def insert_new(self, table: str, staging: str, rows: Sequence[dict[str, Any]], now: str) -> str:
        cols = ", ".join(self.columns(table))
        absent = self._absent(table, rows)
        insert = f"INSERT INTO {self.ref(table)} ({cols})\nSELECT {cols} FROM {self.ref(table, staging)} S\nWHERE {absent};"
        if table not in contracts.RAW_TABLES.values():
            return insert
        # One transaction: the rows counted are exactly the rows inserted, and a retry adds neither.
        pt = contracts.PARTITIONS_TOUCHED
        counts = (
            f"SELECT {_lit(table)} AS table_name, event_date, COUNT(*) AS rows_loaded, COUNTIF(COALESCE(S.{LATE_FLAG}, FALSE)) AS late_rows\n"
            f"  FROM {self.ref(table, staging)} S WHERE {absent} GROUP BY event_date"
        )
        late_at = f"IF(S.late_rows > 0, {_ts(now)}, NULL)"
        touched = (
            f"MERGE {self.ref(pt)} T USING ({counts}) S ON T.table_name = S.table_name AND T.event_date = S.event_date\n"
            f"WHEN MATCHED THEN UPDATE SET rows_loaded = T.rows_loaded + S.rows_loaded, late_rows = T.late_rows + S.late_rows, "
            f"last_loaded_at = {_ts(now)}, last_late_at = COALESCE({late_at}, T.last_late_at)\n"
            "WHEN NOT MATCHED THEN INSERT (table_name, event_date, rows_loaded, late_rows, first_loaded_at, last_loaded_at, last_late_at) "
            f"VALUES (S.table_name, S.event_date, S.rows_loaded, S.late_rows, {_ts(now)}, {_ts(now)}, {late_at});"
        )
        return f"BEGIN TRANSACTION;\n{touched}\n{insert}\nCOMMIT TRANSACTION;"

    def apply_changes(self, table: str, staging: str | None, truncates: Sequence[Truncate], updated_at: str) -> list[str]:
        out = [
            f"UPDATE {self.ref(table)} SET _deleted = TRUE, _position = {_lit(t.position)}, _source_ts = {_ts(t.source_ts)}, "
            f"_updated_at = {_ts(updated_at)} WHERE _position < {_lit(t.position)};"
            for t in truncates
        ]
        if staging is not None:
            name = table.removeprefix("core.")
            # A delete keeps the last known values where it carries none (the row stays, flagged).
            sets = [f"{c} = IF(S._deleted, COALESCE(S.{c}, T.{c}), S.{c})" for c in (f["name"] for f in source_columns(name)) if c != "id"]
            meta = [f"{c} = S.{c}" for c in ("_position", "_source_ts", "_deleted", "_updated_at")]
            out.append(
                f"MERGE {self.ref(table)} T USING {self.ref(table, staging)} S ON T.id = S.id\n"
                f"WHEN MATCHED AND T._position < S._position THEN UPDATE SET {', '.join(sets + meta)}\n{self._merge_insert(table)}"
            )
        return out

    def replace_minutes(self, staging: str) -> str:
        t = contracts.REALTIME_METRICS
        sets = ", ".join(f"{c} = S.{c}" for c in ("events", "orders", "revenue", "late_events", "updated_at"))
        return (
            f"MERGE {self.ref(t)} T USING {self.ref(t, staging)} S ON T.stream = S.stream AND T.minute = S.minute\n"
            f"WHEN MATCHED AND S.events >= T.events THEN UPDATE SET {sets}\n{self._merge_insert(t)}"
        )

    def advance_watermarks(self, staging: str) -> str:
        t = contracts.WATERMARKS
        return (
            f"MERGE {self.ref(t)} T USING {self.ref(t, staging)} S ON T.stream = S.stream\n"
            "WHEN MATCHED THEN UPDATE SET watermark_ts = GREATEST(T.watermark_ts, S.watermark_ts), max_event_ts = GREATEST(T.max_event_ts, S.max_event_ts), "
            f"out_of_orderness_ms = S.out_of_orderness_ms, updated_at = S.updated_at\n{self._merge_insert(t)}"
        )


class BigQueryWarehouse(Warehouse):
    """`endpoint`/`storage_endpoint`: the REST and the Storage Write API (gRPC, plaintext) addresses of
    an emulator; both None for Google's."""

    def __init__(
        self,
        project: str,
        endpoint: str | None = None,
        dataset_prefix: str = "",
        location: str | None = None,
        storage_endpoint: str | None = None,
    ) -> None:
        if endpoint and not storage_endpoint:
            raise ValueError("--bigquery_endpoint needs --bigquery_storage_endpoint too (the emulator's gRPC address, e.g. 127.0.0.1:9060)")
        self.project, self.endpoint, self.location, self.storage_endpoint = project, endpoint, location, storage_endpoint
        self.sql = BigQuerySql(project, dataset_prefix)
        self._client: Any = None
        self._writer: Any = None
        self._encoders: dict[str, RowEncoder] = {}

    def open(self) -> None:
        from google.cloud import bigquery

        if self.endpoint:
            from google.auth.credentials import AnonymousCredentials

            self._client = bigquery.Client(project=self.project, credentials=AnonymousCredentials(), client_options={"api_endpoint": self.endpoint})
        else:
            self._client = bigquery.Client(project=self.project)
        self._writer = write_client(self.storage_endpoint)
        self.ensure_tables()

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
        self._writer = None

    def _table_id(self, table: str, suffix: str = "") -> str:
        return self.sql.ref(table, suffix).strip("`")

    def ensure_tables(self) -> None:
        from google.api_core.exceptions import Conflict
        from google.cloud import bigquery

        tables = [*contracts.RAW_TABLES.values(), *(contracts.core_table(t) for t in contracts.CORE_TABLES)]
        tables += [contracts.DEAD_LETTERS, contracts.REALTIME_METRICS, contracts.WATERMARKS, contracts.PARTITIONS_TOUCHED]
        for dataset in sorted({t.split(".")[0] for t in tables}):
            ds = bigquery.Dataset(f"{self.project}.{self.sql.prefix}{dataset}")
            if self.location:
                ds.location = self.location
            self._client.create_dataset(ds, exists_ok=True)
        for t in tables:
            resource = {k: v for k, v in contracts.table_resource(t).items() if k != "tableReference"}
            table = bigquery.Table.from_api_repr({**resource, "tableReference": self._reference(t)})
            with contextlib.suppress(Conflict):  # another worker created it meanwhile
                self._client.create_table(table, exists_ok=True)

    def _reference(self, table: str, suffix: str = "") -> dict[str, str]:
        dataset, name = table.split(".")
        return {"projectId": self.project, "datasetId": f"{self.sql.prefix}{dataset}", "tableId": f"{name}{suffix}"}

    def _stage(self, table: str, rows: Sequence[dict[str, Any]]) -> str:
        from google.cloud import bigquery

        suffix = f"__stg_{uuid.uuid4().hex}"
        fields = staging_fields(table)
        staging = bigquery.Table(self._table_id(table, suffix), schema=[bigquery.SchemaField.from_api_repr(f) for f in fields])
        staging.expires = datetime.now(UTC) + STAGING_TTL
        self._client.create_table(staging)
        try:
            if table not in self._encoders:
                self._encoders[table] = RowEncoder(fields)
            ref = self._reference(table, suffix)
            path = f"projects/{ref['projectId']}/datasets/{ref['datasetId']}/tables/{ref['tableId']}"
            write_pending(self._writer, path, self._encoders[table], rows)
        except BaseException:
            self._client.delete_table(self._table_id(table, suffix), not_found_ok=True)
            raise
        return suffix

    def _run(self, table: str, staging: str | None, statements: Sequence[str]) -> None:
        try:
            for s in statements:
                self._client.query(s, location=self.location).result()
        finally:
            if staging is not None:
                self._client.delete_table(self._table_id(table, staging), not_found_ok=True)

    def insert_new(self, table: str, rows: list[dict[str, Any]], now: str) -> None:
        if rows:
            staging = self._stage(table, rows)
            self._run(table, staging, [self.sql.insert_new(table, staging, rows, now)])

    def apply_changes(self, table: str, changes: list[CoreChange], truncates: list[Truncate], updated_at: str) -> None:
        staging = self._stage(table, [c.row(updated_at) for c in changes]) if changes else None
        self._run(table, staging, self.sql.apply_changes(table, staging, truncates, updated_at))

    def replace_minutes(self, rows: list[dict[str, Any]]) -> None:
        if rows:
            staging = self._stage(contracts.REALTIME_METRICS, rows)
            self._run(contracts.REALTIME_METRICS, staging, [self.sql.replace_minutes(staging)])

    def advance_watermarks(self, rows: list[dict[str, Any]]) -> None:
        if rows:
            staging = self._stage(contracts.WATERMARKS, rows)
            self._run(contracts.WATERMARKS, staging, [self.sql.advance_watermarks(staging)])

    def read_watermark(self, stream: str) -> Watermark:
        if self._client is None:
            self.open()
        sql = f"SELECT watermark_ts, max_event_ts FROM {self.sql.ref(contracts.WATERMARKS)} WHERE stream = @stream"
        from google.cloud import bigquery

        config = bigquery.QueryJobConfig(query_parameters=[bigquery.ScalarQueryParameter("stream", "STRING", stream)])
        rows = list(self._client.query(sql, job_config=config, location=self.location).result())
        if not rows:
            return Watermark()
        w, m = rows[0]
        return Watermark(parse_iso_ms(w.isoformat()), parse_iso_ms(m.isoformat()))

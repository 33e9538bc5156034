"""The production warehouse: BigQuery through its client library (google-cloud-bigquery), which
takes an endpoint, so the same code reaches the BigQuery emulator locally.

Each batch of a table is loaded into a staging table (a load job: no per-row streaming cost, and
the rows are exactly the contract's columns) and applied with one DML statement, so a batch lands
whole or not at all, and a retried batch changes nothing:
  - raw.* and ops.dead_letters: INSERT … WHERE NOT EXISTS on the key; the raw tables' lookup is
    bounded to the batch's event dates ± DEDUP_DATE_SLACK_DAYS (their partition filter). An INSERT
    is not a mutating DML statement, so writers of one table do not queue behind each other.
  - core.*: truncates (UPDATE … WHERE _position < p) then MERGE … WHEN MATCHED AND T._position <
    S._position: the greatest position wins whatever the order (cdc.py says why that equals applying
    in source order).
  - ops.realtime_metrics: MERGE replacing a minute unless the stored one counts more records.
  - ops.watermarks: MERGE with GREATEST.
Tables are created from contracts/generated/bigquery when missing (partitioning, clustering,
require_partition_filter as generated).
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

from .. import contracts
from ..cdc import CoreChange, Truncate, source_columns
from ..event_time import Watermark
from ..jsvalues import parse_iso_ms
from .writes import Warehouse


def _lit(s: str) -> str:
    return "'" + s.replace("\\", "\\\\").replace("'", "\\'") + "'"


def dedup_window(dates: Sequence[str]) -> tuple[str, str]:
    slack = timedelta(days=contracts.limit("DEDUP_DATE_SLACK_DAYS"))
    lo, hi = min(dates), max(dates)
    return ((date.fromisoformat(lo) - slack).isoformat(), (date.fromisoformat(hi) + slack).isoformat())


class BigQuerySql:
    """The statements of each write, apart from the client so that they can be checked as text."""

    def __init__(self, project: str, dataset_prefix: str = "") -> None:
        self.project, self.prefix = project, dataset_prefix

    def ref(self, table: str, suffix: str = "") -> str:
        dataset, name = table.split(".")
        return f"`{self.project}.{self.prefix}{dataset}.{name}{suffix}`"

    def columns(self, table: str) -> list[str]:
        return [f["name"] for f in contracts.table_fields(table)]

    def insert_new(self, table: str, staging: str, rows: Sequence[dict[str, Any]]) -> str:
        cols = ", ".join(self.columns(table))
        on = " AND ".join(f"T.{k} = S.{k}" for k in contracts.table_key(table))
        if table in contracts.RAW_TABLES.values():
            lo, hi = dedup_window([str(r["event_date"]) for r in rows])
            on += f" AND T.event_date BETWEEN DATE {_lit(lo)} AND DATE {_lit(hi)}"
        target = self.ref(table)
        return f"INSERT INTO {target} ({cols})\nSELECT {cols} FROM {self.ref(table, staging)} S\nWHERE NOT EXISTS (SELECT 1 FROM {target} T WHERE {on});"

    def apply_changes(self, table: str, staging: str | None, truncates: Sequence[Truncate], updated_at: str) -> list[str]:
        out = [
            f"UPDATE {self.ref(table)} SET _deleted = TRUE, _position = {_lit(t.position)}, _source_ts = TIMESTAMP {_lit(t.source_ts)}, "
            f"_updated_at = TIMESTAMP {_lit(updated_at)} WHERE _position < {_lit(t.position)};"
            for t in truncates
        ]
        if staging is not None:
            name = table.removeprefix("core.")
            # A delete keeps the last known values where it carries none (the row stays, flagged).
            sets = [f"{c} = IF(S._deleted, COALESCE(S.{c}, T.{c}), S.{c})" for c in (f["name"] for f in source_columns(name)) if c != "id"]
            meta = [f"{c} = S.{c}" for c in ("_position", "_source_ts", "_deleted", "_updated_at")]
            out.append(
                f"MERGE {self.ref(table)} T USING {self.ref(table, staging)} S ON T.id = S.id\n"
                f"WHEN MATCHED AND T._position < S._position THEN UPDATE SET {', '.join(sets + meta)}\nWHEN NOT MATCHED THEN INSERT ROW;"
            )
        return out

    def replace_minutes(self, staging: str) -> str:
        t = contracts.REALTIME_METRICS
        sets = ", ".join(f"{c} = S.{c}" for c in ("events", "orders", "revenue", "late_events", "updated_at"))
        return (
            f"MERGE {self.ref(t)} T USING {self.ref(t, staging)} S ON T.stream = S.stream AND T.minute = S.minute\n"
            f"WHEN MATCHED AND S.events >= T.events THEN UPDATE SET {sets}\nWHEN NOT MATCHED THEN INSERT ROW;"
        )

    def advance_watermarks(self, staging: str) -> str:
        t = contracts.WATERMARKS
        return (
            f"MERGE {self.ref(t)} T USING {self.ref(t, staging)} S ON T.stream = S.stream\n"
            "WHEN MATCHED THEN UPDATE SET watermark_ts = GREATEST(T.watermark_ts, S.watermark_ts), max_event_ts = GREATEST(T.max_event_ts, S.max_event_ts), "
            "out_of_orderness_ms = S.out_of_orderness_ms, updated_at = S.updated_at\nWHEN NOT MATCHED THEN INSERT ROW;"
        )


class BigQueryWarehouse(Warehouse):
    def __init__(self, project: str, endpoint: str | None = None, dataset_prefix: str = "", location: str | None = None) -> None:
        self.project, self.endpoint, self.location = project, endpoint, location
        self.sql = BigQuerySql(project, dataset_prefix)
        self._client: Any = None

    def open(self) -> None:
        from google.cloud import bigquery

        if self.endpoint:
            from google.auth.credentials import AnonymousCredentials

            self._client = bigquery.Client(project=self.project, credentials=AnonymousCredentials(), client_options={"api_endpoint": self.endpoint})
        else:
            self._client = bigquery.Client(project=self.project)
        self.ensure_tables()

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

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
        schema = [bigquery.SchemaField.from_api_repr(f) for f in contracts.table_fields(table)]
        config = bigquery.LoadJobConfig(
            schema=schema,
            source_format=bigquery.SourceFormat.NEWLINE_DELIMITED_JSON,
            write_disposition=bigquery.WriteDisposition.WRITE_TRUNCATE,
            ignore_unknown_values=True,
        )
        self._client.load_table_from_json(list(rows), self._table_id(table, suffix), job_config=config).result()
        return suffix

    def _run(self, table: str, staging: str | None, statements: Sequence[str]) -> None:
        try:
            for s in statements:
                self._client.query(s, location=self.location).result()
        finally:
            if staging is not None:
                self._client.delete_table(self._table_id(table, staging), not_found_ok=True)

    def insert_new(self, table: str, rows: list[dict[str, Any]]) -> None:
        if rows:
            staging = self._stage(table, rows)
            self._run(table, staging, [self.sql.insert_new(table, staging, rows)])

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

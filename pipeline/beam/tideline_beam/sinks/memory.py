"""An in-memory warehouse for tests and the golden vectors: the write semantics of writes.py on
Python dicts. Runners in this process pickle the sink into their DoFns, so the tables live in a
registry by name and every copy of a MemoryWarehouse reaches the same tables."""

from __future__ import annotations

import threading
from typing import Any, ClassVar

from .. import contracts
from ..cdc import CoreChange, Truncate, source_columns
from ..event_time import Watermark
from ..jsvalues import parse_iso_ms
from ..transforms import LATE_FLAG
from .writes import Warehouse


class MemoryWarehouse(Warehouse):
    _tables: ClassVar[dict[str, dict[str, dict[tuple[Any, ...], dict[str, Any]]]]] = {}
    _lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, name: str) -> None:
        self.name = name
        with self._lock:
            self._tables.setdefault(name, {})

    def _table(self, table: str) -> dict[tuple[Any, ...], dict[str, Any]]:
        return self._tables[self.name].setdefault(table, {})

    def rows(self, table: str) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(r) for r in self._table(table).values()]

    def drop(self) -> None:
        with self._lock:
            self._tables.pop(self.name, None)

    def _key(self, table: str, row: dict[str, Any]) -> tuple[Any, ...]:
        return tuple(row[c] for c in contracts.table_key(table))

    def insert_new(self, table: str, rows: list[dict[str, Any]], now: str) -> None:
        with self._lock:
            t = self._table(table)
            stored = []
            for r in rows:
                k = self._key(table, r)
                if k not in t:
                    t[k] = {c: v for c, v in r.items() if c != LATE_FLAG}
                    stored.append(r)
            if table in contracts.RAW_TABLES.values():
                self._touch(table, stored, now)

    def _touch(self, table: str, stored: list[dict[str, Any]], now: str) -> None:
        touched = self._table(contracts.PARTITIONS_TOUCHED)
        for r in stored:
            k = (table, str(r["event_date"]))
            fresh = {"table_name": table, "event_date": k[1], "rows_loaded": 0, "late_rows": 0, "first_loaded_at": now, "last_late_at": None}
            p = touched.setdefault(k, fresh)
            p["rows_loaded"] += 1
            p["last_loaded_at"] = now
            if r.get(LATE_FLAG):
                p["late_rows"] += 1
                p["last_late_at"] = now

    def apply_changes(self, table: str, changes: list[CoreChange], truncates: list[Truncate], updated_at: str) -> None:
        name = table.removeprefix("core.")
        columns = [c["name"] for c in source_columns(name) if c["name"] != "id"]
        with self._lock:
            t = self._table(table)
            for tr in truncates:
                for r in t.values():
                    if r["_position"] < tr.position:
                        r.update(_deleted=True, _position=tr.position, _source_ts=tr.source_ts, _updated_at=updated_at)
            for ch in changes:
                new = ch.row(updated_at)
                cur = t.get((ch.id,))
                if cur is None:
                    t[(ch.id,)] = new
                elif cur["_position"] < ch.position:
                    if ch.deleted:  # a delete keeps the last known values where it carries none
                        for c in columns:
                            if new[c] is None:
                                new[c] = cur[c]
                    t[(ch.id,)] = new

    def replace_minutes(self, rows: list[dict[str, Any]]) -> None:
        with self._lock:
            t = self._table(contracts.REALTIME_METRICS)
            for r in rows:
                k = (r["stream"], r["minute"])
                if k not in t or r["events"] >= t[k]["events"]:
                    t[k] = dict(r)

    def advance_watermarks(self, rows: list[dict[str, Any]]) -> None:
        with self._lock:
            t = self._table(contracts.WATERMARKS)
            for r in rows:
                cur = t.get((r["stream"],))
                if cur is None:
                    t[(r["stream"],)] = dict(r)
                else:
                    cur.update(
                        watermark_ts=max(cur["watermark_ts"], r["watermark_ts"]),
                        max_event_ts=max(cur["max_event_ts"], r["max_event_ts"]),
                        out_of_orderness_ms=r["out_of_orderness_ms"],
                        updated_at=r["updated_at"],
                    )

    def read_watermark(self, stream: str) -> Watermark:
        with self._lock:
            r = self._table(contracts.WATERMARKS).get((stream,))
        if r is None:
            return Watermark()
        return Watermark(parse_iso_ms(r["watermark_ts"]), parse_iso_ms(r["max_event_ts"]))

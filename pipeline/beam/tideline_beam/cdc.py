"""CDC apply (pipeline/transforms/cdc.ts): change events → the current state of core.customers,
products, orders and order_items.

Per primary key the row with the greatest source position wins; a delete or tombstone is such a row
too, flagged `_deleted` (so an older change that arrives later cannot bring the row back), and a
primary-key change is a delete of the old key plus a create of the new one. "Keep the greater
position" is associative, commutative and idempotent, so applying the changes of any grouping, in
any order, with any redeliveries, gives the state that applying them once in source order gives:
the pipeline reduces each write batch with `reduce_changes` and the warehouse guards every upsert
with `stored._position < new._position`. Truncates flag the table's older rows.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from . import contracts
from .jsvalues import iso_from_ms, js_number, parse_iso_ms

_INT = re.compile(r"^-?\d+$")
_DECIMAL = re.compile(r"^-?\d+(\.\d+)?$")

# Debezium encodes temporal columns by type (days, ms, µs, ns or ISO text); a bare number is told
# apart by magnitude: each unit gives present-day values in its own band.
_DAYS_MAX = 1e6
_SECONDS_MAX = 1e11
_MILLIS_MAX = 1e14
_MICROS_MAX = 1e17


def source_columns(table: str) -> list[dict[str, str]]:
    """Source columns of a core table (without the pipeline's `_` columns), from the contract."""
    return [f for f in contracts.table_fields(contracts.core_table(table)) if not f["name"].startswith("_")]


def to_timestamp(v: Any) -> str | None:
    if v is None or v == "" or isinstance(v, bool):
        return None
    n: float | None = None
    if isinstance(v, int | float):
        n = float(v)
    elif isinstance(v, str) and _INT.match(v.strip()):
        n = float(int(v.strip()))
    if n is not None:
        a = abs(n)
        ms = n * 86_400_000 if a < _DAYS_MAX else n * 1000 if a < _SECONDS_MAX else n if a < _MILLIS_MAX else n / 1000 if a < _MICROS_MAX else n / 1e6
        try:
            return iso_from_ms(int(ms))
        except OverflowError:
            return None
    if not isinstance(v, str):
        return None
    ms2 = parse_iso_ms(v)
    return None if ms2 is None else iso_from_ms(ms2)


def to_decimal(v: Any) -> str | None:
    """Amounts as JSON numbers or decimal strings, kept as decimal text so nothing is rounded."""
    if isinstance(v, bool):
        return None
    if isinstance(v, int | float):
        s = js_number(v)
        if _DECIMAL.match(s):
            return s
        return f"{float(v):.9f}" if abs(float(v)) != float("inf") else None
    if isinstance(v, str):
        s = v.strip()
        return s if _DECIMAL.match(s) else None
    return None


def to_int(v: Any) -> int | None:
    if isinstance(v, bool):
        return None
    if isinstance(v, int):
        return v
    if isinstance(v, float) and abs(v) != float("inf") and v == v:
        return int(v)
    if isinstance(v, str) and _INT.match(v.strip()):
        return int(v.strip())
    return None


def to_text(v: Any) -> str | None:
    if v is None:
        return None
    if isinstance(v, str):
        return v
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return js_number(v)
    return json.dumps(v, separators=(",", ":"), ensure_ascii=False)


def map_columns(table: str, src: dict[str, Any] | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for c in source_columns(table):
        v = (src or {}).get(c["name"])
        t = c["type"]
        out[c["name"]] = to_timestamp(v) if t == "TIMESTAMP" else to_decimal(v) if t == "NUMERIC" else to_int(v) if t == "INT64" else to_text(v)
    return out


def core_table_for(source_table: str | None) -> str | None:
    t = (source_table or "").lower()
    return t if t in contracts.CORE_TABLES else None


def _row_object(v: Any) -> dict[str, Any] | None:
    return v if isinstance(v, dict) else None


def _id_of(row: dict[str, Any] | None, key: Any) -> str | None:
    from_row = (row or {}).get("id")
    if from_row is not None:
        return to_text(from_row)
    k = _row_object(key)
    if k is not None and k.get("id") is not None:
        return to_text(k["id"])
    return None


@dataclass(frozen=True)
class CoreChange:
    """One key's new version: the row to upsert when its position is greater than the stored one."""

    table: str
    id: str
    position: str
    source_ts: str
    deleted: bool
    values: tuple[tuple[str, Any], ...]

    def row(self, updated_at: str) -> dict[str, Any]:
        return {
            **dict(self.values),
            "id": self.id,
            "_position": self.position,
            "_source_ts": self.source_ts,
            "_deleted": self.deleted,
            "_updated_at": updated_at,
        }


@dataclass(frozen=True)
class Truncate:
    table: str
    position: str
    source_ts: str


def changes_of(c: dict[str, Any]) -> list[CoreChange | Truncate]:
    """The per-key changes one change event stands for (two for a primary-key change)."""
    table = core_table_for(c.get("source_table"))
    if table is None:
        return []
    position, source_ts = str(c["position"]), str(c["event_ts"])
    op = c["op"]
    if op == "t":
        return [Truncate(table, position, source_ts)]
    before, after = _row_object(c.get("before")), _row_object(c.get("after"))

    def change(id_: str, deleted: bool, src: dict[str, Any] | None) -> CoreChange:
        return CoreChange(table, id_, position, source_ts, deleted, tuple(map_columns(table, src).items()))

    if op in ("d", "tombstone"):
        id_ = _id_of(before, c.get("key"))
        return [] if id_ is None else [change(id_, True, before if before is not None else {"id": id_})]
    new_id = _id_of(after, c.get("key"))
    if new_id is None:
        return []
    out: list[CoreChange | Truncate] = []
    old_id = _id_of(before, None) if before is not None else None
    if op == "u" and old_id is not None and old_id != new_id:
        out.append(change(old_id, True, before))
    out.append(change(new_id, False, after))
    return out


def reduce_changes(items: Iterable[CoreChange | Truncate]) -> tuple[list[CoreChange], list[Truncate]]:
    """Per key the change with the greatest position; per table the latest truncate, which flags the
    batch's older changes of that table as it flags the stored rows (positions compare as text: the
    edge zero-pads them)."""
    truncates: dict[str, Truncate] = {}
    latest: dict[tuple[str, str], CoreChange] = {}
    for x in items:
        if isinstance(x, Truncate):
            cur_t = truncates.get(x.table)
            if cur_t is None or x.position > cur_t.position:
                truncates[x.table] = x
            continue
        k = (x.table, x.id)
        cur = latest.get(k)
        if cur is None or x.position > cur.position:
            latest[k] = x
    out: list[CoreChange] = []
    for ch in latest.values():
        t = truncates.get(ch.table)
        if t is not None and ch.position < t.position:
            ch = CoreChange(ch.table, ch.id, t.position, t.source_ts, True, ch.values)
        out.append(ch)
    return out, list(truncates.values())

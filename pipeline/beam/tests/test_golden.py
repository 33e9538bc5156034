"""The golden vectors (pipeline/golden) through the Beam graph: each arrival batch an archive
object in arrival order, into the in-memory warehouse; the same expected rows as the single-node
engine's (pipeline/golden/golden.test.ts), in the canonical form of pipeline/golden/README.md."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tideline_beam import contracts
from tideline_beam.jsvalues import iso_from_ms, parse_iso_ms
from tideline_beam.parse import Message
from tideline_beam.transforms import Inbound

from .conftest import run_batch, settings

VECTORS = Path(__file__).resolve().parents[2] / "golden" / "vectors"
EXCLUDED_COLUMNS = {"loaded_at", "_updated_at", "updated_at"}


def message_of(m: dict[str, Any]) -> Message:
    if "oversize" in m:
        o = m["oversize"]
        head = '{"event_id":' + json.dumps(o["event_id"]) + ',"pad":"'
        data = head + "x" * (o["bytes"] - len(head) - 2) + '"}'
        attrs: tuple[tuple[str, str], ...] = (("event_id", o["event_id"]),)
    elif "record" in m:
        r = m["record"]
        data = json.dumps(r, separators=(",", ":"), ensure_ascii=False)
        attrs = (("stream", m["stream"]), ("source", "test"), ("event_id", str(r.get("event_id", ""))), ("event_ts", str(r.get("event_ts", ""))))
    else:
        data, attrs = m["data"], ()
    return Message(m["stream"], data, attrs, m.get("message_id"))


def canonical_value(kind: str, v: Any) -> Any:
    if v is None:
        return None
    if kind == "TIMESTAMP":
        ms = parse_iso_ms(str(v))
        assert ms is not None, v
        return iso_from_ms(ms)
    if kind == "DATE":
        return str(v)[:10]
    if kind == "NUMERIC":
        # BigQuery's client gives a Decimal, whose str may be exponent notation (0E-9): decimal text.
        s = format(v, "f") if isinstance(v, Decimal) else str(v)
        return s.rstrip("0").rstrip(".") if "." in s else s
    if kind == "JSON":
        return json.loads(v) if isinstance(v, str) else v
    if kind == "INT64":
        return int(v)
    if kind == "BOOL":
        return bool(v)
    return str(v)


def canonical_rows(table: str, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    fields = [f for f in contracts.table_fields(table) if f["name"] not in EXCLUDED_COLUMNS]
    out = []
    for r in rows:
        c = {f["name"]: canonical_value(f["type"], r.get(f["name"])) for f in fields}
        if table == contracts.DEAD_LETTERS and isinstance(c["reason"], str):
            c["reason"] = re.sub(r" is not JSON \(.*?\); ", " is not JSON (…); ", c["reason"], count=1)
        out.append(c)
    key = contracts.table_key(table)
    return sorted(out, key=lambda r: json.dumps([r[k] for k in key]))


def inbound_of(v: dict[str, Any]) -> list[Inbound]:
    """Each arrival batch as one archive object would arrive, in arrival order."""
    return [Inbound(message_of(m), scope=m["stream"], order=f"batch-{b:04d}", seq=i) for b, batch in enumerate(v["batches"]) for i, m in enumerate(batch)]


@pytest.mark.parametrize("path", sorted(VECTORS.glob("*.json")), ids=lambda p: p.stem)
def test_golden_vector(path, warehouse):
    v = json.loads(path.read_text(encoding="utf-8"))
    run_batch(inbound_of(v), warehouse, settings(now=v["now"]))
    for table, expected in v["expected"].items():
        assert canonical_rows(table, warehouse.rows(table)) == expected, table

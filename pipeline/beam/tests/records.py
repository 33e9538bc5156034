"""Valid records as the edge produces them (pipeline/testing/records.ts, same ids and values)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from tideline_beam.jsvalues import iso_from_ms, parse_iso_ms
from tideline_beam.parse import Message
from tideline_beam.transforms import Inbound


def _hash(s: str) -> str:
    return hashlib.sha256(s.encode()).hexdigest()[:32]


def event_record(i: int, event_ts: str, **over: Any) -> dict[str, Any]:
    order = i % 5 == 3
    r: dict[str, Any] = {
        "event_id": _hash(f"web|msg-{i}"),
        "message_id": f"msg-{i}",
        "source": "web",
        "type": "track",
        "event": "Order Completed" if order else "Product Viewed",
        "user_id": f"user_{i % 500}" if i % 3 == 0 else None,
        "anonymous_id": f"anon-{i % 1000}",
        "event_ts": event_ts,
        "received_at": event_ts,
        "properties": {"order_id": f"ord_{i}", "revenue": 10 + (i % 7) + 0.25, "currency": "EUR"} if order else {"sku": f"SKU-{i % 900}", "price": 19.99},
        "traits": {},
        "context": {"library": {"name": "analytics.js", "version": "1.70.0"}},
        "integrations": {},
        "consent_stripped": False,
        "consent": {"Analytics": True},
        "geo_source": "header",
        "is_bot": False,
        "request_id": f"req-{i // 10}",
    }
    r.update(over)
    return r


def webhook_record(i: int, event_ts: str, **over: Any) -> dict[str, Any]:
    r: dict[str, Any] = {
        "event_id": _hash(f"shopify|wh-{i}"),
        "provider": "shopify",
        "source": "shopify",
        "webhook_id": f"wh-{i}",
        "topic": "orders/create",
        "account": "shop.example.com",
        "event_ts": event_ts,
        "received_at": event_ts,
        "payload": {"id": i, "total_price": "12.50"},
        "request_id": f"req-wh-{i}",
    }
    r.update(over)
    return r


def cdc_record(
    table: str, op: str, pos: int, id_: str | int, before: dict[str, Any] | None = None, after: dict[str, Any] | None = None, ts_ms: int | None = None
) -> dict[str, Any]:
    ts = ts_ms if ts_ms is not None else (parse_iso_ms("2026-11-20T10:00:00Z") or 0) + pos * 1000
    position = str(pos).rjust(20, "0")
    key_string = json.dumps({"id": id_}, separators=(",", ":"))
    return {
        "event_id": _hash(f"postgresql|{table}|{key_string}|{position}|{op}"),
        "source_connector": "postgresql",
        "source_name": "shopdb",
        "source_db": "shop",
        "source_schema": "public",
        "source_table": table,
        "op": op,
        "position": position,
        "position_parts": {"lsn": pos},
        "ts_ms": ts,
        "key": {"id": id_},
        "key_string": key_string,
        "ordering_key": f"shop.public.{table}:{key_string}",
        "before": before,
        "after": after,
        "tx_id": None,
        "snapshot": op == "r",
        "event_ts": iso_from_ms(ts),
        "received_at": iso_from_ms(ts),
        "request_id": f"req-cdc-{pos}",
    }


def message(stream: str, record: dict[str, Any] | str, message_id: str | None = None) -> Message:
    data = record if isinstance(record, str) else json.dumps(record)
    attrs: tuple[tuple[str, str], ...] = ()
    if isinstance(record, dict):
        attrs = (("stream", stream), ("source", "test"), ("event_id", str(record.get("event_id", ""))), ("event_ts", str(record.get("event_ts", ""))))
    return Message(stream, data, attrs, message_id)


def inbound(stream: str, record: dict[str, Any] | str, batch: str = "", seq: int = 0, message_id: str | None = None) -> Inbound:
    return Inbound(message(stream, record, message_id), scope=stream, order=batch, seq=seq)

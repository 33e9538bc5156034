"""Per-minute event-time metrics per stream (pipeline/transforms/metrics.ts): records, `Order
Completed` orders and revenue (properties.total, else properties.revenue: the order total, as the warehouse's order fact counts it), summed exactly in
integer micro-units, and how many of the records arrived late."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .jsvalues import round_half_up

ORDER_EVENT = "Order Completed"
MICROS = 1_000_000
_NUMBER_TEXT = re.compile(r"^-?\d+(\.\d+)?$")


def amount_micros(v: Any) -> int:
    if isinstance(v, bool):
        return 0
    if isinstance(v, int | float):
        n = float(v)
    elif isinstance(v, str) and _NUMBER_TEXT.match(v.strip()):
        n = float(v.strip())
    else:
        return 0
    if n != n or n in (float("inf"), float("-inf")):
        return 0
    return round_half_up(n * MICROS)


def micros_to_decimal(micros: int) -> str:
    sign = "-" if micros < 0 else ""
    a = abs(micros)
    return f"{sign}{a // MICROS}.{a % MICROS:06d}"


@dataclass(frozen=True)
class MinuteCounts:
    events: int = 0
    orders: int = 0
    micros: int = 0
    late_events: int = 0

    def __add__(self, other: MinuteCounts) -> MinuteCounts:
        return MinuteCounts(self.events + other.events, self.orders + other.orders, self.micros + other.micros, self.late_events + other.late_events)


def counts_of(record: dict[str, Any], is_late: bool) -> MinuteCounts:
    """What one loaded record adds to its minute."""
    order = record.get("type") == "track" and record.get("event") == ORDER_EVENT
    micros = 0
    if order:
        p = record.get("properties") or {}
        micros = amount_micros(p.get("total") if p.get("total") is not None else p.get("revenue"))
    return MinuteCounts(1, 1 if order else 0, micros, 1 if is_late else 0)


def metric_row(stream: str, minute: str, c: MinuteCounts, updated_at: str) -> dict[str, Any]:
    return {
        "stream": stream,
        "minute": minute,
        "events": c.events,
        "orders": c.orders,
        "revenue": micros_to_decimal(c.micros),
        "late_events": c.late_events,
        "updated_at": updated_at,
    }

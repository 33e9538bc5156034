"""Values written exactly as the TypeScript engine writes them, so both engines give the same rows:
numbers as JavaScript's Number#toString, instants as Date#toISOString (milliseconds, UTC), and
ISO-8601 text read as Date.parse reads it (text without an offset is UTC, as on the engine's hosts).
Hand-written: no library formats numbers the JavaScript way."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def js_number(value: float | int) -> str:
    """ECMAScript Number::toString(10) of a JSON number (integers are doubles there too)."""
    x = float(value)
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    if x == 0:
        return "0"
    if x < 0:
        return "-" + js_number(-x)
    # repr gives the shortest digits that round-trip, as ECMAScript requires.
    mantissa, _, exp = repr(x).partition("e")
    whole, _, frac = mantissa.partition(".")
    digits = (whole + frac).lstrip("0")
    point = len(whole) + (int(exp) if exp else 0)
    if whole.strip("0") == "":
        point -= len(frac) - len(frac.lstrip("0"))
    digits = digits.rstrip("0") or "0"
    k, n = len(digits), point
    if k <= n <= 21:
        return digits + "0" * (n - k)
    if 0 < n <= 21:
        return digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return "0." + "0" * (-n) + digits
    sign = "+" if n - 1 >= 0 else "-"
    head = digits if k == 1 else digits[0] + "." + digits[1:]
    return f"{head}e{sign}{abs(n - 1)}"


def iso_from_ms(ms: int) -> str:
    """Date#toISOString of epoch milliseconds."""
    t = _EPOCH + timedelta(milliseconds=ms)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def parse_iso_ms(text: str) -> int | None:
    """Epoch milliseconds of ISO-8601 text (Date.parse), or None when it is not a date-time."""
    s = text.strip()
    if not s or not s[0].isdigit():
        return None
    try:
        t = datetime.fromisoformat(s)
    except ValueError:
        return None
    if t.tzinfo is None:
        t = t.replace(tzinfo=UTC)
    delta = t - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000


def utc_date(ms: int) -> str:
    """UTC date (YYYY-MM-DD) of epoch milliseconds."""
    return (_EPOCH + timedelta(milliseconds=ms)).strftime("%Y-%m-%d")


def round_half_up(x: float) -> int:
    """Math.round: halves go up (towards +∞), unlike Python's round."""
    return math.floor(x + 0.5)

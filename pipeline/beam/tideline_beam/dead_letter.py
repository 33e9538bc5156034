"""Dead-letter rows the pipeline writes: one per rejected message, with an id stable across
redeliveries (the same derivation as pipeline/transforms/dead-letter.ts)."""

from __future__ import annotations

import hashlib
from typing import Any

from . import contracts


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def pipeline_dead_letter(
    *,
    stream: str,
    event_id: str | None,
    kind: str,
    reason: str,
    payload: str,
    now: str,
    attempts: int = 1,
) -> dict[str, Any]:
    identity = event_id if event_id is not None else _sha256(payload)
    return {
        "dead_letter_id": _sha256(f"pipeline|{stream}|{kind}|{identity}")[:32],
        "stage": "pipeline",
        "reason": reason,
        "stream": stream,
        "event_id": event_id,
        "attempts": attempts,
        "failed_at": now,
        "payload": payload,
    }


def utf8_prefix(text: str, max_bytes: int) -> str:
    """The longest prefix of `text` of at most max_bytes UTF-8 bytes, cut at a character boundary."""
    b = text.encode("utf-8")
    if len(b) <= max_bytes:
        return text
    end = max_bytes
    while end > 0 and (b[end] & 0xC0) == 0x80:
        end -= 1
    return b[:end].decode("utf-8")


def oversize_payload(text: str) -> str:
    return utf8_prefix(text, contracts.limit("MAX_DEAD_LETTER_PAYLOAD_BYTES"))

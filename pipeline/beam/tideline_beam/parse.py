"""Parse and validate one message into a record of its stream, or a dead letter with the reason
(pipeline/transforms/parse.ts). Validation runs the JSON Schema generated from the Zod contracts;
like the contract's parser, omitted members with a default get it and unknown members are dropped.
Reasons name the failing fields in the words the TypeScript engine's validator (Ajv) uses."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from . import contracts
from .dead_letter import oversize_payload, pipeline_dead_letter

MAX_ISSUES_IN_REASON = 5


@dataclass(frozen=True)
class Message:
    """A message as any source hands it over (Pub/Sub, an archive line, a test), before parsing."""

    stream: str
    data: str
    attributes: tuple[tuple[str, str], ...] = ()
    message_id: str | None = None
    delivery_attempt: int = 1

    def attribute(self, name: str) -> str | None:
        for k, v in self.attributes:
            if k == name:
                return v
        return None


@dataclass(frozen=True)
class Parsed:
    stream: str
    record: dict[str, Any]


@dataclass(frozen=True)
class Rejected:
    dead_letter: dict[str, Any]


@cache
def _validator(stream: str) -> Draft202012Validator:
    return Draft202012Validator(contracts.record_schema(stream))


def _normalized(stream: str, body: dict[str, Any]) -> dict[str, Any]:
    """Defaults filled in, unknown members dropped (Ajv's useDefaults + removeAdditional)."""
    props: dict[str, Any] = contracts.record_schema(stream)["properties"]
    out: dict[str, Any] = {}
    for name, spec in props.items():
        if name in body:
            out[name] = body[name]
        elif "default" in spec:
            out[name] = spec["default"]
    return out


_AJV_TYPE = {"string": "string", "object": "object", "integer": "integer", "boolean": "boolean", "null": "null", "number": "number", "array": "array"}
_REQUIRED = re.compile(r"^'(.+)' is a required property$")


def _ajv_message(e: ValidationError) -> str:
    v = e.validator
    if v == "type":
        t = e.validator_value
        return f"must be {','.join(t) if isinstance(t, list) else _AJV_TYPE.get(str(t), str(t))}"
    if v == "enum":
        return "must be equal to one of the allowed values"
    if v == "const":
        return "must be equal to constant"
    if v == "pattern":
        return "has an invalid format (timestamps are ISO-8601 date-times)"
    if v == "minLength":
        return f"must NOT have fewer than {e.validator_value} characters"
    if v == "maxLength":
        return f"must NOT have more than {e.validator_value} characters"
    if v == "anyOf":
        # Ajv reports each branch's failure before the anyOf itself; the reason keeps the first.
        first = sorted(e.context or [], key=lambda c: c.relative_schema_path[0] if c.relative_schema_path else 0)
        return _ajv_message(first[0]) if first else "must match a schema in anyOf"
    return e.message


def _issues(stream: str, errors: list[ValidationError]) -> list[tuple[str, str]]:
    """(field, message) in Ajv's order: missing members first (in the schema's order), then the
    members' own failures in the order of the schema's properties."""
    order = {name: i for i, name in enumerate(contracts.record_schema(stream)["properties"])}
    required: list[tuple[int, str, str]] = []
    others: list[tuple[int, str, str]] = []
    for e in errors:
        if e.validator == "required" and not e.absolute_path:
            m = _REQUIRED.match(e.message)
            name = m.group(1) if m else "(record)"
            required.append((order.get(name, len(order)), name, "is required"))
        else:
            path = ".".join(str(p) for p in e.absolute_path) or "(record)"
            top = str(e.absolute_path[0]) if e.absolute_path else ""
            others.append((order.get(top, len(order)), path, _ajv_message(e)))
    return [(p, m) for _, p, m in sorted(required, key=lambda x: x[0])] + [(p, m) for _, p, m in sorted(others, key=lambda x: x[0])]


def describe_issues(stream: str, errors: list[ValidationError]) -> str:
    seen: set[str] = set()
    parts: list[str] = []
    for path, message in _issues(stream, errors):
        if path in seen:
            continue
        seen.add(path)
        parts.append(f"{path}: {message}")
    more = f" (+{len(parts) - MAX_ISSUES_IN_REASON} more)" if len(parts) > MAX_ISSUES_IN_REASON else ""
    return "; ".join(parts[:MAX_ISSUES_IN_REASON]) + more


def _rejected(msg: Message, now: str, kind: str, reason: str, event_id: str | None, payload: str | None = None) -> Rejected:
    return Rejected(
        pipeline_dead_letter(
            stream=msg.stream,
            event_id=event_id,
            kind=kind,
            reason=reason,
            payload=msg.data if payload is None else payload,
            attempts=msg.delivery_attempt,
            now=now,
        )
    )


def parse_message(msg: Message, now: str) -> Parsed | Rejected:
    attr_id = msg.attribute("event_id")
    name = msg.message_id or "(no id)"
    if msg.stream not in contracts.INPUT_STREAMS:
        return _rejected(
            msg,
            now,
            "stream",
            f"message {name} names the unknown stream {msg.stream!r}; the pipeline loads "
            f"{', '.join(contracts.INPUT_STREAMS)}: publish it to the topic of its stream",
            attr_id,
        )
    size = len(msg.data.encode("utf-8"))
    max_bytes = contracts.limit("MAX_PIPELINE_RECORD_BYTES")
    if size > max_bytes:
        return _rejected(
            msg,
            now,
            "oversize",
            f"message {name} on {msg.stream} is {size} bytes, over the {max_bytes}-byte limit of a record "
            f"(MAX_PIPELINE_RECORD_BYTES); the payload kept here is its first "
            f"{contracts.limit('MAX_DEAD_LETTER_PAYLOAD_BYTES')} bytes: split the record at its source",
            attr_id,
            oversize_payload(msg.data),
        )
    try:
        body = json.loads(msg.data)
    except ValueError as e:
        return _rejected(
            msg,
            now,
            "json",
            f"message {name} on {msg.stream} is not JSON ({e}); the publisher must send one JSON record per message",
            attr_id,
        )
    prefix = f"{msg.stream} record does not match the contract (contracts/records.ts): "
    if not isinstance(body, dict):
        return _rejected(msg, now, "schema", prefix + "(record): must be a JSON object", attr_id)
    # Defaults first and unknown members dropped, as Ajv's useDefaults and removeAdditional do
    # before `required` and `additionalProperties` are checked.
    record = _normalized(msg.stream, body)
    errors = list(_validator(msg.stream).iter_errors(record))
    if errors:
        body_id = body.get("event_id")
        return _rejected(msg, now, "schema", prefix + describe_issues(msg.stream, errors), body_id if isinstance(body_id, str) else attr_id)
    return Parsed(msg.stream, record)

"""schemathesis hooks: a serializer for application/x-ndjson bodies (bulk uploads, CDC).

The edge's document describes such a body as a string (the file's text); schemathesis has no
serializer for the media type, so it could not send those operations at all.
"""

import json
from typing import Any

import schemathesis


@schemathesis.serializer("application/x-ndjson")
def ndjson(ctx: Any, value: Any) -> bytes:
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    if isinstance(value, str):
        return value.encode("utf-8")
    return json.dumps(value).encode("utf-8")

"""Rows into a BigQuery staging table through the Storage Write API: one PENDING stream per batch,
appended in requests under the API's 10 MB limit, finalized and committed at once, so the staging
table holds the whole batch or nothing.

Why not a load job: load jobs count against a daily quota per project, a job takes seconds to
schedule, and the BigQuery emulator this project tests with does not run them; the Storage Write API
has no job quota and is the path Google recommends for ingestion. Why not streaming inserts
(insertAll): rows pass through a streaming buffer, cost more per GB, and a table created moments
before may still refuse them.

The rows travel as protocol buffers whose message type is built here from the contract's BigQuery
schema (the API takes any proto2 message whose field names match the columns): TIMESTAMP as
microseconds, DATE as days since 1970-01-01, NUMERIC and JSON as text. Hand-written because the
client library has no schema-to-proto conversion of its own."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

MAX_REQUEST_BYTES = 9 * 1024 * 1024
"""Bytes of rows per AppendRows request, below the API's 10 MB limit with room for the schema."""

_T = descriptor_pb2.FieldDescriptorProto
_PROTO_TYPES = {
    "STRING": _T.TYPE_STRING,
    "INT64": _T.TYPE_INT64,
    "INTEGER": _T.TYPE_INT64,
    "BOOL": _T.TYPE_BOOL,
    "BOOLEAN": _T.TYPE_BOOL,
    "FLOAT64": _T.TYPE_DOUBLE,
    "FLOAT": _T.TYPE_DOUBLE,
    "TIMESTAMP": _T.TYPE_INT64,
    "DATE": _T.TYPE_INT32,
    "NUMERIC": _T.TYPE_STRING,
    "BIGNUMERIC": _T.TYPE_STRING,
    "JSON": _T.TYPE_STRING,
}
_EPOCH_DAY = date(1970, 1, 1).toordinal()


def _micros(v: Any) -> int:
    d = v if isinstance(v, datetime) else datetime.fromisoformat(str(v).replace(" ", "T", 1))
    if d.tzinfo is None:
        raise ValueError(f"timestamp {v!r} has no offset")
    return int(d.timestamp()) * 1_000_000 + d.microsecond


def _days(v: Any) -> int:
    d = v if isinstance(v, date) else date.fromisoformat(str(v)[:10])
    return d.toordinal() - _EPOCH_DAY


def _numeric(v: Any) -> str:
    if isinstance(v, bool):
        raise ValueError(f"NUMERIC value {v!r} is a boolean")
    if isinstance(v, float):
        return format(Decimal(repr(v)), "f")
    return format(Decimal(str(v)), "f")


_CONVERT = {
    "TIMESTAMP": _micros,
    "DATE": _days,
    "NUMERIC": _numeric,
    "BIGNUMERIC": _numeric,
    "JSON": lambda v: json.dumps(v, separators=(",", ":"), ensure_ascii=False),
    "INT64": int,
    "INTEGER": int,
    "FLOAT64": float,
    "FLOAT": float,
    "BOOL": bool,
    "BOOLEAN": bool,
    "STRING": str,
}


class RowEncoder:
    """Dicts → serialized proto rows of a table's schema (fields missing from a dict, or None, stay
    unset: NULL)."""

    def __init__(self, fields: Sequence[dict[str, Any]]) -> None:
        self.fields = [(f["name"], str(f["type"]).upper()) for f in fields]
        self.descriptor = descriptor_pb2.DescriptorProto(name="Row")
        for number, (name, kind) in enumerate(self.fields, start=1):
            if kind not in _PROTO_TYPES:
                raise ValueError(f"column {name}: BigQuery type {kind} has no Storage Write API encoding here")
            self.descriptor.field.add(name=name, number=number, type=_PROTO_TYPES[kind], label=_T.LABEL_OPTIONAL)
        file = descriptor_pb2.FileDescriptorProto(name="tideline_row.proto", syntax="proto2")
        file.message_type.add().CopyFrom(self.descriptor)
        pool = descriptor_pool.DescriptorPool()
        pool.Add(file)
        self._message = message_factory.GetMessageClass(pool.FindMessageTypeByName("Row"))

    def encode(self, row: dict[str, Any]) -> bytes:
        m = self._message()
        for name, kind in self.fields:
            v = row.get(name)
            if v is None:
                continue
            try:
                setattr(m, name, _CONVERT[kind](v))
            except (TypeError, ValueError) as e:
                raise ValueError(f"column {name} ({kind}): cannot encode {v!r}: {e}") from e
        return bytes(m.SerializeToString())

    def chunks(self, rows: Sequence[dict[str, Any]]) -> Iterator[list[bytes]]:
        """Serialized rows in groups of at most MAX_REQUEST_BYTES."""
        chunk: list[bytes] = []
        size = 0
        for r in rows:
            b = self.encode(r)
            if chunk and size + len(b) > MAX_REQUEST_BYTES:
                yield chunk
                chunk, size = [], 0
            chunk.append(b)
            size += len(b) + 8
        if chunk:
            yield chunk


def write_client(endpoint: str | None) -> Any:
    """The Storage Write API client: Google's endpoint, or a plaintext gRPC address (the emulator)."""
    from google.cloud import bigquery_storage_v1

    if not endpoint:
        return bigquery_storage_v1.BigQueryWriteClient()
    import grpc
    from google.auth.credentials import AnonymousCredentials
    from google.cloud.bigquery_storage_v1.services.big_query_write.transports import BigQueryWriteGrpcTransport

    channel = grpc.insecure_channel(endpoint.removeprefix("http://"))
    return bigquery_storage_v1.BigQueryWriteClient(transport=BigQueryWriteGrpcTransport(channel=channel, credentials=AnonymousCredentials()))


class StorageWriteError(RuntimeError):
    """The Storage Write API refused rows; the message names the table and the API's reason."""


def write_pending(client: Any, table_path: str, encoder: RowEncoder, rows: Sequence[dict[str, Any]]) -> None:
    """All `rows` into `table_path` (projects/…/datasets/…/tables/…) as one committed unit."""
    from google.cloud.bigquery_storage_v1 import types

    stream = client.create_write_stream(parent=table_path, write_stream=types.WriteStream(type_=types.WriteStream.Type.PENDING))
    requests: list[Any] = []
    offset = 0
    for chunk in encoder.chunks(rows):
        data = types.AppendRowsRequest.ProtoData(rows=types.ProtoRows(serialized_rows=chunk))
        if not requests:
            data.writer_schema = types.ProtoSchema(proto_descriptor=encoder.descriptor)
        # Offsets make a retried append of the same rows fail instead of adding them twice.
        requests.append(types.AppendRowsRequest(write_stream=stream.name if not requests else "", offset=offset, proto_rows=data))
        offset += len(chunk)
    for response in client.append_rows(iter(requests)):
        if response.error.code or response.row_errors:
            detail = "; ".join(f"row {e.index}: {e.message}" for e in response.row_errors) or response.error.message
            raise StorageWriteError(f"the Storage Write API refused rows for {table_path}: {detail}")
    client.finalize_write_stream(name=stream.name)
    commit = client.batch_commit_write_streams(types.BatchCommitWriteStreamsRequest(parent=table_path, write_streams=[stream.name]))
    if commit.stream_errors:
        raise StorageWriteError(f"committing rows to {table_path} failed: {'; '.join(e.error_message for e in commit.stream_errors)}")

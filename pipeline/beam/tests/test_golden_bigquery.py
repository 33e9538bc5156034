"""The golden vectors (pipeline/golden) through the Beam graph into the BigQuery emulator with the
production sink (sinks/bigquery.py: Storage Write API staging + statements), on the FnApiRunner as a
backfill runs: the same expected rows as the in-memory run of test_golden.py and the single-node
engine's. Each vector writes to datasets of its own (a dataset prefix) in one emulator."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

import pytest

from tideline_beam import contracts
from tideline_beam.sinks.bigquery import BigQueryWarehouse

from .conftest import run_batch, settings
from .emulators import PROJECT, start_bigquery
from .test_golden import VECTORS, canonical_rows, inbound_of


@pytest.fixture(scope="module")
def emulator(tmp_path_factory) -> Iterator[tuple[str, str]]:
    bq, rest, grpc = start_bigquery(tmp_path_factory.mktemp("golden-bq"))
    try:
        yield rest, grpc
    finally:
        bq.stop()


def stored_rows(client: Any, table: str, prefix: str) -> list[dict[str, Any]]:
    dataset, name = table.split(".")
    partitioning = contracts.table_resource(table).get("timePartitioning") or {}
    # raw.events requires a partition filter (as generated); one that admits every partition.
    where = f"{partitioning['field']} >= DATE '1970-01-01'" if contracts.table_resource(table).get("requirePartitionFilter") else "TRUE"
    out = []
    for r in client.query(f"SELECT * FROM `{PROJECT}.{prefix}{dataset}.{name}` WHERE {where}").result():
        # The client gives TIMESTAMP as datetime; the canonical form parses the ISO text.
        out.append({k: v.isoformat() if isinstance(v, datetime | date) else v for k, v in r.items()})
    return out


@pytest.mark.parametrize("path", sorted(VECTORS.glob("*.json")), ids=lambda p: p.stem)
def test_golden_vector_in_bigquery(path, emulator):
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import bigquery

    rest, grpc = emulator
    prefix = path.stem.replace("-", "_") + "_"
    v = json.loads(path.read_text(encoding="utf-8"))
    run_batch(inbound_of(v), BigQueryWarehouse(PROJECT, rest, prefix, None, grpc), settings(now=v["now"]))
    client = bigquery.Client(project=PROJECT, credentials=AnonymousCredentials(), client_options={"api_endpoint": rest})
    try:
        for table, expected in v["expected"].items():
            assert canonical_rows(table, stored_rows(client, table, prefix)) == expected, table
    finally:
        client.close()

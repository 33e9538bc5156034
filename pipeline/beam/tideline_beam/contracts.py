"""The contracts as `npm run generate` writes them (contracts/generated): JSON Schemas of the
records, BigQuery table resources, the limits and table keys. Nothing here is written twice: the
pipeline reads the generated files, found beside the repository's `contracts/` or at
TIDELINE_CONTRACTS_DIR (the Flex Template image copies them there)."""

from __future__ import annotations

import json
import os
from functools import cache
from pathlib import Path
from typing import Any

STREAMS = ("events", "webhooks", "cdc")
"""Streams whose records land in raw tables; `dead-letters` carries DeadLetterRecords."""
INPUT_STREAMS = (*STREAMS, "dead-letters")

RAW_TABLES = {"events": "raw.events", "webhooks": "raw.webhooks", "cdc": "raw.cdc_changes"}
CORE_TABLES = ("customers", "products", "orders", "order_items")
DEAD_LETTERS = "ops.dead_letters"
REALTIME_METRICS = "ops.realtime_metrics"
WATERMARKS = "ops.watermarks"
PARTITIONS_TOUCHED = "ops.partitions_touched"

_SCHEMA_FILES = {
    "events": "EventRecord",
    "webhooks": "WebhookRecord",
    "cdc": "CdcRecord",
    "dead-letters": "DeadLetterRecord",
}


def generated_dir() -> Path:
    configured = os.environ.get("TIDELINE_CONTRACTS_DIR")
    if configured:
        return Path(configured)
    # pipeline/beam/tideline_beam/contracts.py → <repo>/contracts/generated
    return Path(__file__).resolve().parents[3] / "contracts" / "generated"


def _read(relative: str) -> Any:
    path = generated_dir() / relative
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as e:
        raise FileNotFoundError(
            f"{path} is missing: run `npm run generate` in the repository, or set TIDELINE_CONTRACTS_DIR to a copy of contracts/generated"
        ) from e


@cache
def record_schema(stream: str) -> dict[str, Any]:
    """The JSON Schema of a stream's record (contracts/generated/jsonschema)."""
    return dict(_read(f"jsonschema/{_SCHEMA_FILES[stream]}.json"))


@cache
def table_resource(table: str) -> dict[str, Any]:
    """The BigQuery table resource (schema, partitioning, clustering) of `dataset.table`."""
    return dict(_read(f"bigquery/{table}.json"))


def table_fields(table: str) -> list[dict[str, str]]:
    return list(table_resource(table)["schema"]["fields"])


@cache
def _settings() -> dict[str, Any]:
    return dict(_read("pipeline.json"))


def limit(name: str) -> int:
    """A numeric limit of contracts/limits.ts, e.g. limit("MAX_FUTURE_EVENT_MS")."""
    return int(_settings()["limits"][name])


def table_key(table: str) -> list[str]:
    return list(_settings()["keys"][table])


def core_table(name: str) -> str:
    return f"core.{name}"

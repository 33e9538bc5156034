"""Warehouses the pipeline writes to: BigQuery (production, and the BigQuery emulator locally) and
an in-memory one for tests. Both apply the same write semantics (writes.py)."""

"""Runs the pipeline graph in this process on runners that need no download: Beam's FnApiRunner
for bounded input (a backfill) and the BundleBasedDirectRunner for TestStream (streaming)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from typing import Any

import apache_beam as beam
import pytest
from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions
from apache_beam.testing.test_stream import TestStream

from tideline_beam.event_time import EventTimeOptions
from tideline_beam.sinks.memory import MemoryWarehouse
from tideline_beam.sinks.writes import Warehouse, WriteToWarehouse
from tideline_beam.transforms import Clock, GraphSettings, Inbound, build_graph

NOW = "2026-11-25T12:00:00.000Z"
_names = itertools.count()


@pytest.fixture
def warehouse() -> Iterator[MemoryWarehouse]:
    w = MemoryWarehouse(f"test-{next(_names)}")
    yield w
    w.drop()


def settings(now: str = NOW, **opts: int) -> GraphSettings:
    base = EventTimeOptions.defaults()
    return GraphSettings(
        EventTimeOptions(opts.get("out_of_orderness_ms", base.out_of_orderness_ms), opts.get("allowed_lateness_ms", base.allowed_lateness_ms)),
        Clock(now),
    )


def run_batch(items: Sequence[Inbound], warehouse: Warehouse, s: GraphSettings | None = None) -> None:
    s = s or settings()
    with beam.Pipeline(runner="FnApiRunner") as p:
        build_graph(p | beam.Create(list(items)), s, warehouse.read_watermark) | WriteToWarehouse(warehouse, s.clock)


def run_stream(stream: TestStream, warehouse: MemoryWarehouse, s: GraphSettings | None = None, seed: bool = True) -> None:
    s = s or settings()
    options = PipelineOptions()
    options.view_as(StandardOptions).streaming = True
    with beam.Pipeline(runner="BundleBasedDirectRunner", options=options) as p:
        inbound = p | stream
        build_graph(inbound, s, warehouse.read_watermark if seed else None) | WriteToWarehouse(warehouse, s.clock, flush_interval_s=0)


def by(rows: list[dict[str, Any]], *cols: str) -> list[tuple[Any, ...]]:
    return sorted(tuple(r[c] for c in cols) for r in rows)

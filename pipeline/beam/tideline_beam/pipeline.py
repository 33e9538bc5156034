"""`run(argv)`: the pipeline from its options. The source and the warehouse are chosen by options;
the graph between them (transforms.build_graph) is the same for every runner, batch or streaming.

  python -m tideline_beam --source pubsub --streaming --project P --runner DataflowRunner …
  python -m tideline_beam --source archive --from_date 2026-11-20 --to_date 2026-11-24 \\
      --runner FnApiRunner --bigquery_endpoint http://127.0.0.1:9050 --bigquery_storage_endpoint 127.0.0.1:9060

(Batch runs locally on the FnApiRunner: Prism dropped timer-fired output in batch runs.)
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence

import apache_beam as beam
from apache_beam.options.pipeline_options import GoogleCloudOptions, PipelineOptions, SetupOptions, StandardOptions
from apache_beam.runners.runner import PipelineResult

from .event_time import DAY_MS, EventTimeOptions
from .jsvalues import iso_from_ms
from .options import TidelineOptions
from .sinks.bigquery import BigQueryWarehouse
from .sinks.memory import MemoryWarehouse
from .sinks.writes import Warehouse, WriteToWarehouse
from .sources import ReadArchive, ReadSubscriptions, ReadUploads, bucket, dates_between
from .transforms import Clock, GraphSettings, build_graph


class UsageError(ValueError):
    """Options that cannot make a pipeline; the message says what to pass instead."""


def _project(options: PipelineOptions) -> str:
    project = options.view_as(GoogleCloudOptions).project
    if not project:
        raise UsageError("--project is required (locally: --project tideline-local)")
    return str(project)


def settings_from(o: TidelineOptions, streaming: bool) -> GraphSettings:
    base = EventTimeOptions.defaults()
    opts = EventTimeOptions(
        out_of_orderness_ms=o.out_of_orderness_ms if o.out_of_orderness_ms is not None else base.out_of_orderness_ms,
        allowed_lateness_ms=round(o.allowed_lateness_days * DAY_MS) if o.allowed_lateness_days is not None else base.allowed_lateness_ms,
    )
    # A batch run judges every record at one processing time (the run's start), as a backfill does.
    fixed = o.now or (None if streaming else iso_from_ms(int(time.time() * 1000)))
    return GraphSettings(opts, Clock(fixed))


def warehouse_from(options: PipelineOptions) -> Warehouse:
    o = options.view_as(TidelineOptions)
    if o.warehouse == "memory":
        return MemoryWarehouse("pipeline")
    if o.bigquery_endpoint and not o.bigquery_storage_endpoint:
        raise UsageError("--bigquery_endpoint needs --bigquery_storage_endpoint too: the emulator's gRPC address, e.g. 127.0.0.1:9060")
    return BigQueryWarehouse(o.bigquery_project or _project(options), o.bigquery_endpoint, o.dataset_prefix, o.bigquery_location, o.bigquery_storage_endpoint)


def build(p: beam.Pipeline, options: PipelineOptions, warehouse: Warehouse | None = None) -> None:
    """Source → graph → warehouse, as the options say."""
    o = options.view_as(TidelineOptions)
    if o.source == "pubsub":
        # Subscriptions have no end; a Flex Template passes no --streaming flag of its own.
        options.view_as(StandardOptions).streaming = True
    streaming = bool(options.view_as(StandardOptions).streaming)
    streams = [s.strip() for s in o.streams.split(",") if s.strip()]
    if o.source == "pubsub":
        inbound = p | "ReadPubSub" >> ReadSubscriptions(o.pubsub_project or _project(options), streams)
    elif o.source == "archive":
        if not (o.from_date and o.to_date):
            raise UsageError("--source archive needs --from_date and --to_date (YYYY-MM-DD, UTC)")
        try:
            dates = dates_between(o.from_date, o.to_date)
        except ValueError as e:
            raise UsageError(str(e)) from e
        root = o.archive_root or f"gs://{bucket('raw', _project(options))}"
        inbound = p | "ReadArchive" >> ReadArchive(root, dates, streams)
    else:
        if not o.landing_pattern:
            raise UsageError("--source landing needs --landing_pattern, e.g. gs://<project>-landing/landing/events/**")
        inbound = p | "ReadUploads" >> ReadUploads(o.landing_pattern)
    s = settings_from(o, streaming)
    w = warehouse or warehouse_from(options)
    writes = build_graph(inbound, s, w.read_watermark if streaming else None)
    runner = str(options.view_as(StandardOptions).runner or "DirectRunner")
    per_bundle = streaming and runner.endswith("DirectRunner")
    _ = writes | "WriteToWarehouse" >> WriteToWarehouse(w, s.clock, o.max_rows_per_write, o.flush_interval_s, per_bundle)


def run(argv: Sequence[str] | None = None, warehouse: Warehouse | None = None) -> PipelineResult:
    options = PipelineOptions(list(argv) if argv is not None else None)
    # The DoFns reach module-level names (contracts, helpers) on remote workers.
    options.view_as(SetupOptions).save_main_session = False
    if options.view_as(TidelineOptions).source == "pubsub":
        # Before the Pipeline is made: runners copy the options they check (Pub/Sub needs streaming).
        options.view_as(StandardOptions).streaming = True
    p = beam.Pipeline(options=options)
    build(p, options, warehouse)
    result = p.run()
    standard = options.view_as(StandardOptions)
    # A local runner runs a streaming job in this process, until it is stopped; Dataflow runs it as
    # a service, and its launch must return.
    local = "Dataflow" not in str(standard.runner or "DirectRunner")
    if options.view_as(TidelineOptions).wait and (not standard.streaming or local):
        result.wait_until_finish()
    return result


def main() -> None:
    try:
        run(sys.argv[1:])
    except UsageError as e:
        print(f"tideline-beam: {e}", file=sys.stderr)
        sys.exit(2)

"""The pipeline's options (also the Flex Template's parameters, metadata.json): Beam's own
(--runner, --streaming, --project, --region, --prism_location, …) plus these."""

from __future__ import annotations

from apache_beam.options.pipeline_options import PipelineOptions

SOURCES = ("pubsub", "archive", "landing")
WAREHOUSES = ("bigquery", "memory")


class TidelineOptions(PipelineOptions):
    @classmethod
    def _add_argparse_args(cls, parser) -> None:  # noqa: ANN001 - Beam's argparse wrapper
        parser.add_argument(
            "--source",
            choices=SOURCES,
            default="pubsub",
            help="pubsub: stream from the pipeline's subscriptions (with --streaming); archive: replay the raw archive for "
            "--from_date..--to_date; landing: load the uploads matching --landing_pattern.",
        )
        parser.add_argument("--from_date", default=None, help="archive: first UTC date to replay (YYYY-MM-DD).")
        parser.add_argument("--to_date", default=None, help="archive: last UTC date to replay (YYYY-MM-DD), inclusive.")
        parser.add_argument("--streams", default="events,webhooks,cdc,dead-letters", help="Streams to read, comma-separated.")
        parser.add_argument(
            "--archive_root",
            default=None,
            help="Where the raw archive is: gs://<bucket> (default: the raw bucket of infra/resources.json for --project) or a local directory.",
        )
        parser.add_argument("--landing_pattern", default=None, help="landing: file pattern of the uploads, e.g. gs://<project>-landing/landing/events/**.")
        parser.add_argument("--pubsub_project", default=None, help="Project of the subscriptions (default --project; locally the Pub/Sub emulator's project).")
        parser.add_argument(
            "--allowed_lateness_days", type=float, default=None, help="Records further behind the watermark go to ops.dead_letters (default 3)."
        )
        parser.add_argument("--out_of_orderness_ms", type=int, default=None, help="The watermark trails the greatest event time by this much (default 300000).")
        parser.add_argument("--warehouse", choices=WAREHOUSES, default="bigquery", help="bigquery (production and the BigQuery emulator) or memory (tests).")
        parser.add_argument("--bigquery_project", default=None, help="Project of the raw/core/ops datasets (default --project).")
        parser.add_argument(
            "--bigquery_endpoint", default=None, help="BigQuery REST endpoint, e.g. http://127.0.0.1:9050 for the emulator (default: Google's)."
        )
        parser.add_argument(
            "--bigquery_storage_endpoint",
            default=None,
            help="Storage Write API address of an emulator, plaintext gRPC, e.g. 127.0.0.1:9060 (default: Google's).",
        )
        parser.add_argument("--dataset_prefix", default="", help="Prefix of the raw/core/ops dataset names, e.g. prod_.")
        parser.add_argument("--bigquery_location", default=None, help="Location of the datasets the pipeline creates when missing, e.g. EU.")
        parser.add_argument(
            "--flush_interval_s", type=float, default=5.0, help="Streaming: longest wait before buffered rows are written (bounds BigQuery jobs)."
        )
        parser.add_argument("--max_rows_per_write", type=int, default=10_000, help="Rows per table written in one BigQuery staged write and statement.")
        parser.add_argument(
            "--wait", type=lambda v: v.lower() != "false", default=True, help="Batch: wait for the job to finish (false for a Flex Template launch)."
        )
        parser.add_argument("--now", default=None, help="Fixed processing time (ISO-8601) for reproducible runs; default the wall clock.")

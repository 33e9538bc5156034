/**
 * Warehouse tables the pipeline owns besides the raw/core/ops tables of tables.ts: the persisted
 * per-stream watermarks, the partitions each load touched (what incremental models rebuild), and
 * the real-time per-minute metrics that late records correct.
 */
import { z } from "zod";
import type { TableSpec } from "./tables.js";
import { date, decimal, int, str, timestamp } from "./columns.js";

export const opsWatermarks = {
  dataset: "ops",
  name: "watermarks",
  description: "Per-stream event-time watermark of the streaming pipeline: max event time seen minus the allowed out-of-orderness.",
  schema: z.object({
    stream: str("Stream: events, webhooks or cdc."),
    watermark_ts: timestamp("Records with an event time before this instant are late."),
    max_event_ts: timestamp("Greatest event time loaded so far."),
    out_of_orderness_ms: int("Out-of-orderness allowed when the watermark was computed (ms)."),
    updated_at: timestamp("When the pipeline last moved the watermark (UTC)."),
  }),
  key: ["stream"],
} satisfies TableSpec;

export const opsPartitionsTouched = {
  dataset: "ops",
  name: "partitions_touched",
  description: "Event-date partitions each table received rows for, with late-row counts: the work list of incremental model rebuilds.",
  schema: z.object({
    table_name: str("Warehouse table, e.g. raw.events."),
    event_date: date("UTC event date (the partition) that received rows."),
    rows_loaded: int("Rows loaded into the partition so far."),
    late_rows: int("Of those, rows that arrived behind the watermark."),
    first_loaded_at: timestamp("When the pipeline first wrote into the partition (UTC)."),
    last_loaded_at: timestamp("When the pipeline last wrote into the partition (UTC); rebuild partitions newer than the last model run."),
    last_late_at: timestamp("When a late row last landed in the partition (UTC); null when none did.").nullable(),
  }),
  key: ["table_name", "event_date"],
  partitionBy: "event_date",
  clusterBy: ["table_name"],
} satisfies TableSpec;

export const opsRealtimeMetrics = {
  dataset: "ops",
  name: "realtime_metrics",
  description: "Per-minute event-time metrics per stream (events, orders, revenue); late records add to the minute they belong to.",
  schema: z.object({
    stream: str("Stream: events, webhooks or cdc."),
    minute: timestamp("Start of the event-time minute (UTC)."),
    events: int("Records with an event time in this minute."),
    orders: int("Order Completed track events in this minute."),
    revenue: decimal("Sum of properties.total (else properties.revenue) of those orders: the order total, as the warehouse's order facts count it."),
    late_events: int("Of the records, how many arrived behind the watermark."),
    updated_at: timestamp("When the pipeline last changed this minute (UTC)."),
  }),
  key: ["stream", "minute"],
  partitionBy: "minute",
  clusterBy: ["stream"],
} satisfies TableSpec;

export const PIPELINE_TABLES: TableSpec[] = [opsWatermarks, opsPartitionsTouched, opsRealtimeMetrics];

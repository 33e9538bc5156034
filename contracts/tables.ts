/**
 * Warehouse tables owned by the ingestion path (raw, core, ops). Same names in BigQuery datasets
 * and DuckDB schemas. Marts and features are Dataform models in warehouse/ and not listed here.
 */
import { z } from "zod";
import { CdcRecord, DeadLetterRecord, EventRecord, WebhookRecord } from "./records.js";
import { bool, date, decimal, int, str, timestamp } from "./columns.js";
import { PIPELINE_TABLES } from "./pipeline-tables.js";

export interface TableSpec {
  dataset: "raw" | "core" | "ops";
  name: string;
  description: string;
  schema: z.ZodObject;
  /** Unique key the loaders MERGE/dedupe on. */
  key: string[];
  /**
   * Append-only raw tables: the loader keeps `key` unique itself (a key lookup plus an anti-join over
   * the batch's event dates ± DEDUP_DATE_SLACK_DAYS, as BigQuery's MERGE does), so the DuckDB DDL
   * declares no PRIMARY KEY: maintaining its index made a local load about 40% slower.
   */
  keyCheckedByLoader?: true;
  /** BigQuery: DATE column (or timestamp column, partitioned by its date) the table is partitioned by. */
  partitionBy?: string;
  clusterBy?: string[];
  requirePartitionFilter?: boolean;
}

const loaded = {
  loaded_at: timestamp("When the pipeline wrote the row (UTC)."),
};

export const rawEvents = {
  dataset: "raw",
  name: "events",
  description: "One row per accepted SDK event (Segment spec), deduplicated on event_id, partitioned by event date.",
  schema: EventRecord.extend({
    event_date: date("UTC date of event_ts: the partition."),
    is_late: bool("True when the event arrived behind the stream's watermark."),
    lateness_ms: int("How far behind the watermark it arrived (0 when on time)."),
    ...loaded,
  }),
  key: ["event_id"],
  keyCheckedByLoader: true,
  partitionBy: "event_date",
  clusterBy: ["source", "type", "event"],
  requirePartitionFilter: true,
} satisfies TableSpec;

export const rawWebhooks = {
  dataset: "raw",
  name: "webhooks",
  description: "One row per unique webhook delivery (one per HubSpot event), deduplicated on provider and delivery id.",
  schema: WebhookRecord.extend({
    event_date: date("UTC date of event_ts: the partition."),
    ...loaded,
  }),
  key: ["event_id"],
  keyCheckedByLoader: true,
  partitionBy: "event_date",
  clusterBy: ["provider", "topic"],
} satisfies TableSpec;

export const rawCdcChanges = {
  dataset: "raw",
  name: "cdc_changes",
  description: "Full change log: one row per Debezium change event, deduplicated on event_id.",
  schema: CdcRecord.extend({
    event_date: date("UTC date of the change (ts_ms): the partition."),
    ...loaded,
  }),
  key: ["event_id"],
  keyCheckedByLoader: true,
  partitionBy: "event_date",
  clusterBy: ["source_table", "key_string"],
} satisfies TableSpec;

/** Columns every CDC-built current-state table carries besides the source columns. */
const cdcState = {
  _position: str("Source position of the change that produced this row version."),
  _source_ts: timestamp("When that change happened in the source."),
  _deleted: bool("True when the row was deleted in the source (kept as a flag)."),
  _updated_at: timestamp("When the pipeline applied the change (UTC)."),
};

export const coreCustomers = {
  dataset: "core",
  name: "customers",
  description: "Current state of customers, built from CDC in source order.",
  schema: z.object({
    id: str("Customer id (source primary key, as text)."),
    email: str("Email (pseudonymize upstream if required).").nullable(),
    first_name: str("First name.").nullable(),
    last_name: str("Last name.").nullable(),
    country: str("Country code.").nullable(),
    created_at: timestamp("When the customer was created in the source.").nullable(),
    updated_at: timestamp("When the customer was last updated in the source.").nullable(),
    ...cdcState,
  }),
  key: ["id"],
  clusterBy: ["id"],
} satisfies TableSpec;

export const coreProducts = {
  dataset: "core",
  name: "products",
  description: "Current state of products, built from CDC in source order.",
  schema: z.object({
    id: str("Product id (source primary key, as text)."),
    sku: str("Stock keeping unit.").nullable(),
    name: str("Product name.").nullable(),
    category: str("Category.").nullable(),
    price: decimal("List price.").nullable(),
    currency: str("ISO currency code.").nullable(),
    updated_at: timestamp("When the product was last updated in the source.").nullable(),
    ...cdcState,
  }),
  key: ["id"],
  clusterBy: ["id"],
} satisfies TableSpec;

export const coreOrders = {
  dataset: "core",
  name: "orders",
  description: "Current state of orders, built from CDC in source order.",
  schema: z.object({
    id: str("Order id (source primary key, as text)."),
    customer_id: str("Customer id.").nullable(),
    status: str("Order status (pending, paid, shipped, cancelled, refunded, …).").nullable(),
    total_amount: decimal("Order total.").nullable(),
    currency: str("ISO currency code.").nullable(),
    created_at: timestamp("When the order was placed.").nullable(),
    updated_at: timestamp("When the order was last updated in the source.").nullable(),
    ...cdcState,
  }),
  key: ["id"],
  clusterBy: ["customer_id", "id"],
} satisfies TableSpec;

export const coreOrderItems = {
  dataset: "core",
  name: "order_items",
  description: "Current state of order lines, built from CDC in source order.",
  schema: z.object({
    id: str("Order item id (source primary key, as text)."),
    order_id: str("Order id.").nullable(),
    product_id: str("Product id.").nullable(),
    quantity: int("Quantity.").nullable(),
    unit_price: decimal("Unit price.").nullable(),
    ...cdcState,
  }),
  key: ["id"],
  clusterBy: ["order_id", "id"],
} satisfies TableSpec;

export const opsDeadLetters = {
  dataset: "ops",
  name: "dead_letters",
  description: "Everything rejected after the edge accepted it, with the stage and reason; nothing is dropped silently.",
  schema: DeadLetterRecord,
  key: ["dead_letter_id"],
  partitionBy: "failed_at",
  clusterBy: ["stage", "stream"],
} satisfies TableSpec;

export const TABLES: TableSpec[] = [
  rawEvents,
  rawWebhooks,
  rawCdcChanges,
  coreCustomers,
  coreProducts,
  coreOrders,
  coreOrderItems,
  opsDeadLetters,
  ...PIPELINE_TABLES,
];

export const tableId = (t: Pick<TableSpec, "dataset" | "name">) => `${t.dataset}.${t.name}`;

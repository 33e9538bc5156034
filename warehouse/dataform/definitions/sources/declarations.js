// Tables the models read but do not build: what the pipeline fills (contracts/tables.ts,
// contracts/pipeline-tables.ts) and the reference data the runner loads (warehouse/models/seeds.ts).
const sources = [
  ["raw", "events", "One row per accepted SDK event (Segment spec), deduplicated on event_id, partitioned by event_date (BigQuery requires a partition filter)."],
  ["raw", "webhooks", "One row per unique webhook delivery (Shopify, HubSpot, generic), partitioned by event_date."],
  ["raw", "cdc_changes", "Full CDC change log, one row per Debezium change event, partitioned by the change's date."],
  ["core", "customers", "Current state of customers from CDC; deleted rows flagged _deleted."],
  ["core", "products", "Current state of products from CDC; deleted rows flagged _deleted."],
  ["core", "orders", "Current state of orders from CDC; deleted rows flagged _deleted."],
  ["core", "order_items", "Current state of order lines from CDC; deleted rows flagged _deleted."],
  ["ops", "partitions_touched", "Event-date partitions each raw table received rows for (the pipeline's work list for incremental rebuilds)."],
  ["ops", "realtime_metrics", "Per-minute event-time metrics the pipeline keeps (events, Order Completed orders and revenue); reconciled with the marts."],
  ["reference", "exchange_rates", "Dated exchange rates, loaded by the model runner from the exchange-rates file before every run: rate = units of currency per one unit of the file's base currency."],
];
for (const [schema, name, description] of sources) declare({ schema, name, description });

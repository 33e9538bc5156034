// Tables the pipeline fills (contracts/tables.ts, contracts/pipeline-tables.ts); the models read them.
const sources = [
  ["raw", "events", "One row per accepted SDK event (Segment spec), deduplicated on event_id, partitioned by event_date."],
  ["raw", "webhooks", "One row per unique webhook delivery (Shopify, HubSpot, generic), partitioned by event_date."],
  ["raw", "cdc_changes", "Full CDC change log, one row per Debezium change event."],
  ["core", "customers", "Current state of customers from CDC; deleted rows flagged _deleted."],
  ["core", "products", "Current state of products from CDC; deleted rows flagged _deleted."],
  ["core", "orders", "Current state of orders from CDC; deleted rows flagged _deleted."],
  ["core", "order_items", "Current state of order lines from CDC; deleted rows flagged _deleted."],
  ["ops", "partitions_touched", "Event-date partitions each raw table received rows for (the pipeline's work list for incremental rebuilds)."],
  ["ops", "model_rebuild_dates", "Partition dates the model runner rebuilds in this incremental run (written by the runner)."],
];
for (const [schema, name, description] of sources) declare({ schema, name, description });

-- Generated from contracts/ by `npm run generate`. Do not edit.
CREATE SCHEMA IF NOT EXISTS raw;
CREATE SCHEMA IF NOT EXISTS core;
CREATE SCHEMA IF NOT EXISTS ops;
CREATE TABLE IF NOT EXISTS raw.events (
  event_id VARCHAR NOT NULL,
  message_id VARCHAR NOT NULL,
  source VARCHAR NOT NULL,
  type VARCHAR NOT NULL,
  event VARCHAR,
  name VARCHAR,
  user_id VARCHAR,
  anonymous_id VARCHAR,
  group_id VARCHAR,
  previous_id VARCHAR,
  event_ts TIMESTAMPTZ NOT NULL,
  received_at TIMESTAMPTZ NOT NULL,
  sent_at TIMESTAMPTZ,
  original_ts TIMESTAMPTZ,
  clock_skew_ms BIGINT,
  properties JSON NOT NULL,
  traits JSON NOT NULL,
  context JSON NOT NULL,
  integrations JSON NOT NULL,
  consent_analytics BOOLEAN,
  consent_stripped BOOLEAN NOT NULL,
  consent JSON NOT NULL,
  ip VARCHAR,
  geo_country VARCHAR,
  geo_region VARCHAR,
  geo_city VARCHAR,
  geo_timezone VARCHAR,
  geo_source VARCHAR NOT NULL,
  ua_browser VARCHAR,
  ua_browser_version VARCHAR,
  ua_os VARCHAR,
  ua_os_version VARCHAR,
  ua_device_type VARCHAR,
  ua_device_vendor VARCHAR,
  ua_device_model VARCHAR,
  is_bot BOOLEAN NOT NULL,
  is_server_side BOOLEAN NOT NULL,
  page_url VARCHAR,
  page_path VARCHAR,
  page_host VARCHAR,
  referrer_url VARCHAR,
  referrer_host VARCHAR,
  referrer_medium VARCHAR,
  referrer_source VARCHAR,
  campaign_source VARCHAR,
  campaign_medium VARCHAR,
  campaign_name VARCHAR,
  campaign_term VARCHAR,
  campaign_content VARCHAR,
  campaign_click_id VARCHAR,
  library_name VARCHAR,
  library_version VARCHAR,
  request_id VARCHAR NOT NULL,
  event_date DATE NOT NULL,
  is_late BOOLEAN NOT NULL,
  lateness_ms BIGINT NOT NULL,
  loaded_at TIMESTAMPTZ NOT NULL
);
COMMENT ON TABLE raw.events IS 'One row per accepted SDK event (Segment spec), deduplicated on event_id, partitioned by event date.';
COMMENT ON COLUMN raw.events.event_id IS 'Deterministic id: hash of source and messageId (or of the event body when messageId is absent); the dedup key.';
COMMENT ON COLUMN raw.events.message_id IS 'The SDK''s messageId, or the generated one when the client sent none.';
COMMENT ON COLUMN raw.events.source IS 'Source name the write key belongs to (e.g. web).';
COMMENT ON COLUMN raw.events.type IS 'Segment call type: track, page, screen, identify, group or alias.';
COMMENT ON COLUMN raw.events.event IS 'Track event name (e.g. Product Viewed); null for other types.';
COMMENT ON COLUMN raw.events.name IS 'Page or screen name; null for other types.';
COMMENT ON COLUMN raw.events.user_id IS 'Known user id (null when absent or stripped for lack of consent; keyed-hashed when it looks like an email address).';
COMMENT ON COLUMN raw.events.anonymous_id IS 'Anonymous device/browser id (null when absent or stripped for lack of consent).';
COMMENT ON COLUMN raw.events.group_id IS 'Group/account id of group calls.';
COMMENT ON COLUMN raw.events.previous_id IS 'Previous id of alias calls.';
COMMENT ON COLUMN raw.events.event_ts IS 'Event time: client timestamp corrected for client clock skew using sentAt (UTC).';
COMMENT ON COLUMN raw.events.received_at IS 'When the edge received the request (UTC).';
COMMENT ON COLUMN raw.events.sent_at IS 'When the client says it sent the request.';
COMMENT ON COLUMN raw.events.original_ts IS 'The client''s own event timestamp before skew correction.';
COMMENT ON COLUMN raw.events.clock_skew_ms IS 'received_at minus sentAt in ms: the client''s clock error (plus network time).';
COMMENT ON COLUMN raw.events.properties IS 'Event properties (configured PII fields pseudonymized).';
COMMENT ON COLUMN raw.events.traits IS 'Identify/group traits (configured PII fields pseudonymized).';
COMMENT ON COLUMN raw.events.context IS 'Segment context as sent, with PII fields pseudonymized, without the IP address and without the members promoted to columns (library, consent, page.url, page.path, page.referrer).';
COMMENT ON COLUMN raw.events.integrations IS 'Segment integrations object as sent.';
COMMENT ON COLUMN raw.events.consent_analytics IS 'Analytics consent from context.consent.categoryPreferences; null when the client sent none.';
COMMENT ON COLUMN raw.events.consent_stripped IS 'True when identifiers were removed because analytics consent was withheld.';
COMMENT ON COLUMN raw.events.consent IS 'All consent category preferences as sent.';
COMMENT ON COLUMN raw.events.ip IS 'Client IP truncated (/24 IPv4, /48 IPv6) or keyed-hashed, per IP_MODE; never the raw address.';
COMMENT ON COLUMN raw.events.geo_country IS 'ISO country code from the edge (request.cf) or the local fallback.';
COMMENT ON COLUMN raw.events.geo_region IS 'Region/state from the edge.';
COMMENT ON COLUMN raw.events.geo_city IS 'City from the edge.';
COMMENT ON COLUMN raw.events.geo_timezone IS 'IANA timezone from the edge.';
COMMENT ON COLUMN raw.events.geo_source IS 'Where geo came from: cf, header or none.';
COMMENT ON COLUMN raw.events.ua_browser IS 'Browser name parsed from the user agent.';
COMMENT ON COLUMN raw.events.ua_browser_version IS 'Browser major version.';
COMMENT ON COLUMN raw.events.ua_os IS 'Operating system name.';
COMMENT ON COLUMN raw.events.ua_os_version IS 'Operating system version.';
COMMENT ON COLUMN raw.events.ua_device_type IS 'desktop, mobile, tablet, smarttv, wearable, console or embedded.';
COMMENT ON COLUMN raw.events.ua_device_vendor IS 'Device vendor.';
COMMENT ON COLUMN raw.events.ua_device_model IS 'Device model.';
COMMENT ON COLUMN raw.events.is_bot IS 'True when the user agent is a known bot, crawler or headless browser.';
COMMENT ON COLUMN raw.events.is_server_side IS 'True when the event came from a server-side library (no browser user agent): never judged a bot by the request''s user agent, kept out of sessionization. False in records archived before the edge judged it.';
COMMENT ON COLUMN raw.events.page_url IS 'context.page.url without credentials, fragment and query parameters other than utm_* and ad click ids (click ids only with analytics consent).';
COMMENT ON COLUMN raw.events.page_path IS 'Path of the page URL.';
COMMENT ON COLUMN raw.events.page_host IS 'Host of the page URL.';
COMMENT ON COLUMN raw.events.referrer_url IS 'context.page.referrer, reduced like page_url to utm_* and ad click-id parameters.';
COMMENT ON COLUMN raw.events.referrer_host IS 'Host of the referrer.';
COMMENT ON COLUMN raw.events.referrer_medium IS 'Referrer class: direct, internal, search, social, email, paid, unknown.';
COMMENT ON COLUMN raw.events.referrer_source IS 'Referrer source name, e.g. google, facebook.';
COMMENT ON COLUMN raw.events.campaign_source IS 'utm_source (from context.campaign or the page URL).';
COMMENT ON COLUMN raw.events.campaign_medium IS 'utm_medium.';
COMMENT ON COLUMN raw.events.campaign_name IS 'utm_campaign.';
COMMENT ON COLUMN raw.events.campaign_term IS 'utm_term.';
COMMENT ON COLUMN raw.events.campaign_content IS 'utm_content.';
COMMENT ON COLUMN raw.events.campaign_click_id IS 'Ad click id: gclid, fbclid, msclkid, ttclid, …, as name:value (null when analytics consent is withheld).';
COMMENT ON COLUMN raw.events.library_name IS 'SDK library name from context.library.';
COMMENT ON COLUMN raw.events.library_version IS 'SDK library version.';
COMMENT ON COLUMN raw.events.request_id IS 'Edge request id (X-Request-Id) of the HTTP request that carried the event.';
COMMENT ON COLUMN raw.events.event_date IS 'UTC date of event_ts: the partition.';
COMMENT ON COLUMN raw.events.is_late IS 'True when the event arrived behind the stream''s watermark.';
COMMENT ON COLUMN raw.events.lateness_ms IS 'How far behind the watermark it arrived (0 when on time).';
COMMENT ON COLUMN raw.events.loaded_at IS 'When the pipeline wrote the row (UTC).';
CREATE TABLE IF NOT EXISTS raw.webhooks (
  event_id VARCHAR NOT NULL,
  provider VARCHAR NOT NULL,
  source VARCHAR NOT NULL,
  webhook_id VARCHAR NOT NULL,
  topic VARCHAR NOT NULL,
  account VARCHAR,
  event_ts TIMESTAMPTZ NOT NULL,
  received_at TIMESTAMPTZ NOT NULL,
  payload JSON NOT NULL,
  request_id VARCHAR NOT NULL,
  event_date DATE NOT NULL,
  loaded_at TIMESTAMPTZ NOT NULL
);
COMMENT ON TABLE raw.webhooks IS 'One row per unique webhook delivery (one per HubSpot event), deduplicated on provider and delivery id.';
COMMENT ON COLUMN raw.webhooks.event_id IS 'Deterministic id: hash of provider and delivery id; the dedup key.';
COMMENT ON COLUMN raw.webhooks.provider IS 'Webhook provider.';
COMMENT ON COLUMN raw.webhooks.source IS 'Source name: shopify, hubspot, or the {source} path segment of generic webhooks.';
COMMENT ON COLUMN raw.webhooks.webhook_id IS 'Provider delivery id (X-Shopify-Webhook-Id, HubSpot portalId:eventId, Idempotency-Key or body hash).';
COMMENT ON COLUMN raw.webhooks.topic IS 'Topic or subscription type, e.g. orders/create, contact.propertyChange.';
COMMENT ON COLUMN raw.webhooks.account IS 'Shop domain, HubSpot portal id, or null.';
COMMENT ON COLUMN raw.webhooks.event_ts IS 'When the provider says the change happened (HubSpot occurredAt, Shopify triggered_at), else received_at.';
COMMENT ON COLUMN raw.webhooks.received_at IS 'When the edge received the delivery (UTC).';
COMMENT ON COLUMN raw.webhooks.payload IS 'The delivery body as JSON (one HubSpot event per record).';
COMMENT ON COLUMN raw.webhooks.request_id IS 'Edge request id.';
COMMENT ON COLUMN raw.webhooks.event_date IS 'UTC date of event_ts: the partition.';
COMMENT ON COLUMN raw.webhooks.loaded_at IS 'When the pipeline wrote the row (UTC).';
CREATE TABLE IF NOT EXISTS raw.cdc_changes (
  event_id VARCHAR NOT NULL,
  source_connector VARCHAR NOT NULL,
  source_name VARCHAR NOT NULL,
  source_db VARCHAR,
  source_schema VARCHAR,
  source_table VARCHAR NOT NULL,
  op VARCHAR NOT NULL,
  position VARCHAR NOT NULL,
  position_parts JSON NOT NULL,
  ts_ms BIGINT NOT NULL,
  key JSON NOT NULL,
  key_string VARCHAR NOT NULL,
  ordering_key VARCHAR NOT NULL,
  before JSON,
  after JSON,
  tx_id VARCHAR,
  snapshot BOOLEAN NOT NULL,
  event_ts TIMESTAMPTZ NOT NULL,
  received_at TIMESTAMPTZ NOT NULL,
  request_id VARCHAR NOT NULL,
  event_date DATE NOT NULL,
  loaded_at TIMESTAMPTZ NOT NULL
);
COMMENT ON TABLE raw.cdc_changes IS 'Full change log: one row per Debezium change event, deduplicated on event_id.';
COMMENT ON COLUMN raw.cdc_changes.event_id IS 'Deterministic id: hash of connector, table, key and source position; the dedup key.';
COMMENT ON COLUMN raw.cdc_changes.source_connector IS 'Debezium connector type (postgresql, mysql, sqlserver, …) or unknown.';
COMMENT ON COLUMN raw.cdc_changes.source_name IS 'Debezium logical server name (topic prefix).';
COMMENT ON COLUMN raw.cdc_changes.source_db IS 'Source database.';
COMMENT ON COLUMN raw.cdc_changes.source_schema IS 'Source schema (null for MySQL).';
COMMENT ON COLUMN raw.cdc_changes.source_table IS 'Source table or collection (null only for truncates without a table).';
COMMENT ON COLUMN raw.cdc_changes.op IS 'c create, u update, d delete, r snapshot read, t truncate, tombstone.';
COMMENT ON COLUMN raw.cdc_changes.position IS 'Source position made sortable as text: a later change has a greater position for the same table.';
COMMENT ON COLUMN raw.cdc_changes.position_parts IS 'The raw position fields (lsn, txId, file, pos, row, change_lsn, scn, …).';
COMMENT ON COLUMN raw.cdc_changes.ts_ms IS 'When the change happened in the source database (ms since epoch).';
COMMENT ON COLUMN raw.cdc_changes.key IS 'Primary key as an object (from the record key, else the id column).';
COMMENT ON COLUMN raw.cdc_changes.key_string IS 'Canonical text of the primary key, used in the ordering key.';
COMMENT ON COLUMN raw.cdc_changes.ordering_key IS 'Pub/Sub ordering key: db.schema.table:key, so changes of one row stay ordered.';
COMMENT ON COLUMN raw.cdc_changes.before IS 'Row before the change (null for creates and snapshots).';
COMMENT ON COLUMN raw.cdc_changes.after IS 'Row after the change (null for deletes).';
COMMENT ON COLUMN raw.cdc_changes.tx_id IS 'Source transaction id.';
COMMENT ON COLUMN raw.cdc_changes.snapshot IS 'True for snapshot reads.';
COMMENT ON COLUMN raw.cdc_changes.event_ts IS 'Change time as a timestamp (ts_ms).';
COMMENT ON COLUMN raw.cdc_changes.received_at IS 'When the edge received the change (UTC).';
COMMENT ON COLUMN raw.cdc_changes.request_id IS 'Edge request id.';
COMMENT ON COLUMN raw.cdc_changes.event_date IS 'UTC date of the change (ts_ms): the partition.';
COMMENT ON COLUMN raw.cdc_changes.loaded_at IS 'When the pipeline wrote the row (UTC).';
CREATE TABLE IF NOT EXISTS core.customers (
  id VARCHAR NOT NULL,
  email VARCHAR,
  first_name VARCHAR,
  last_name VARCHAR,
  country VARCHAR,
  created_at TIMESTAMPTZ,
  updated_at TIMESTAMPTZ,
  _position VARCHAR NOT NULL,
  _source_ts TIMESTAMPTZ NOT NULL,
  _deleted BOOLEAN NOT NULL,
  _updated_at TIMESTAMPTZ NOT NULL,
  PRIMARY KEY (id)
);
COMMENT ON TABLE core.customers IS 'Current state of customers, built from CDC in source order.';
COMMENT ON COLUMN core.customers.id IS 'Customer id (source primary key, as text).';
COMMENT ON COLUMN core.customers.email IS 'Email (pseudonymize upstream if required).';
COMMENT ON COLUMN core.customers.first_name IS 'First name.';
COMMENT ON COLUMN core.customers.last_name IS 'Last name.';
COMMENT ON COLUMN core.customers.country IS 'Country code.';
COMMENT ON COLUMN core.customers.created_at IS 'When the customer was created in the source.';
COMMENT ON COLUMN core.customers.updated_at IS 'When the customer was last updated in the source.';
COMMENT ON COLUMN core.customers._position IS 'Source position of the change that produced this row version.';
COMMENT ON COLUMN core.customers._source_ts IS 'When that change happened in the source.';
COMMENT ON COLUMN core.customers._deleted IS 'True when the row was deleted in the source (kept as a flag).';
COMMENT ON COLUMN core.customers._updated_at IS 'When the pipeline applied the change (UTC).';
CREATE TABLE IF NOT EXISTS core.products (
  id VARCHAR NOT NULL,
  sku VARCHAR,
  name VARCHAR,
  category VARCHAR,
  price DECIMAL(38,9),
  currency VARCHAR,
  updated_at TIMESTAMPTZ,
  _position VARCHAR NOT NULL,
  _source_ts TIMESTAMPTZ NOT NULL,
  _deleted BOOLEAN NOT NULL,
  _updated_at TIMESTAMPTZ NOT NULL,
  PRIMARY KEY (id)
);
COMMENT ON TABLE core.products IS 'Current state of products, built from CDC in source order.';
COMMENT ON COLUMN core.products.id IS 'Product id (source primary key, as text).';
COMMENT ON COLUMN core.products.sku IS 'Stock keeping unit.';
COMMENT ON COLUMN core.products.name IS 'Product name.';
COMMENT ON COLUMN core.products.category IS 'Category.';
COMMENT ON COLUMN core.products.price IS 'List price.';
COMMENT ON COLUMN core.products.currency IS 'ISO currency code.';
COMMENT ON COLUMN core.products.updated_at IS 'When the product was last updated in the source.';
COMMENT ON COLUMN core.products._position IS 'Source position of the change that produced this row version.';
COMMENT ON COLUMN core.products._source_ts IS 'When that change happened in the source.';
COMMENT ON COLUMN core.products._deleted IS 'True when the row was deleted in the source (kept as a flag).';
COMMENT ON COLUMN core.products._updated_at IS 'When the pipeline applied the change (UTC).';
CREATE TABLE IF NOT EXISTS core.orders (
  id VARCHAR NOT NULL,
  customer_id VARCHAR,
  status VARCHAR,
  total_amount DECIMAL(38,9),
  currency VARCHAR,
  created_at TIMESTAMPTZ,
  updated_at TIMESTAMPTZ,
  _position VARCHAR NOT NULL,
  _source_ts TIMESTAMPTZ NOT NULL,
  _deleted BOOLEAN NOT NULL,
  _updated_at TIMESTAMPTZ NOT NULL,
  PRIMARY KEY (id)
);
COMMENT ON TABLE core.orders IS 'Current state of orders, built from CDC in source order.';
COMMENT ON COLUMN core.orders.id IS 'Order id (source primary key, as text).';
COMMENT ON COLUMN core.orders.customer_id IS 'Customer id.';
COMMENT ON COLUMN core.orders.status IS 'Order status (pending, paid, shipped, cancelled, refunded, …).';
COMMENT ON COLUMN core.orders.total_amount IS 'Order total.';
COMMENT ON COLUMN core.orders.currency IS 'ISO currency code.';
COMMENT ON COLUMN core.orders.created_at IS 'When the order was placed.';
COMMENT ON COLUMN core.orders.updated_at IS 'When the order was last updated in the source.';
COMMENT ON COLUMN core.orders._position IS 'Source position of the change that produced this row version.';
COMMENT ON COLUMN core.orders._source_ts IS 'When that change happened in the source.';
COMMENT ON COLUMN core.orders._deleted IS 'True when the row was deleted in the source (kept as a flag).';
COMMENT ON COLUMN core.orders._updated_at IS 'When the pipeline applied the change (UTC).';
CREATE TABLE IF NOT EXISTS core.order_items (
  id VARCHAR NOT NULL,
  order_id VARCHAR,
  product_id VARCHAR,
  quantity BIGINT,
  unit_price DECIMAL(38,9),
  _position VARCHAR NOT NULL,
  _source_ts TIMESTAMPTZ NOT NULL,
  _deleted BOOLEAN NOT NULL,
  _updated_at TIMESTAMPTZ NOT NULL,
  PRIMARY KEY (id)
);
COMMENT ON TABLE core.order_items IS 'Current state of order lines, built from CDC in source order.';
COMMENT ON COLUMN core.order_items.id IS 'Order item id (source primary key, as text).';
COMMENT ON COLUMN core.order_items.order_id IS 'Order id.';
COMMENT ON COLUMN core.order_items.product_id IS 'Product id.';
COMMENT ON COLUMN core.order_items.quantity IS 'Quantity.';
COMMENT ON COLUMN core.order_items.unit_price IS 'Unit price.';
COMMENT ON COLUMN core.order_items._position IS 'Source position of the change that produced this row version.';
COMMENT ON COLUMN core.order_items._source_ts IS 'When that change happened in the source.';
COMMENT ON COLUMN core.order_items._deleted IS 'True when the row was deleted in the source (kept as a flag).';
COMMENT ON COLUMN core.order_items._updated_at IS 'When the pipeline applied the change (UTC).';
CREATE TABLE IF NOT EXISTS ops.dead_letters (
  dead_letter_id VARCHAR NOT NULL,
  stage VARCHAR NOT NULL,
  reason VARCHAR NOT NULL,
  stream VARCHAR NOT NULL,
  event_id VARCHAR,
  attempts BIGINT NOT NULL,
  failed_at TIMESTAMPTZ NOT NULL,
  payload VARCHAR NOT NULL,
  PRIMARY KEY (dead_letter_id)
);
COMMENT ON TABLE ops.dead_letters IS 'Everything rejected after the edge accepted it, with the stage and reason; nothing is dropped silently.';
COMMENT ON COLUMN ops.dead_letters.dead_letter_id IS 'Unique id of this dead letter.';
COMMENT ON COLUMN ops.dead_letters.stage IS 'Where it failed: edge, queue, publish, archive, pipeline or warehouse.';
COMMENT ON COLUMN ops.dead_letters.reason IS 'Why it failed, in words an operator can act on.';
COMMENT ON COLUMN ops.dead_letters.stream IS 'Stream the payload belongs to (events, webhooks, cdc) or unknown.';
COMMENT ON COLUMN ops.dead_letters.event_id IS 'The record''s event_id when known.';
COMMENT ON COLUMN ops.dead_letters.attempts IS 'Delivery attempts made before giving up.';
COMMENT ON COLUMN ops.dead_letters.failed_at IS 'When it was dead-lettered (UTC).';
COMMENT ON COLUMN ops.dead_letters.payload IS 'The record or message exactly as it was, as JSON text.';
CREATE TABLE IF NOT EXISTS ops.watermarks (
  stream VARCHAR NOT NULL,
  watermark_ts TIMESTAMPTZ NOT NULL,
  max_event_ts TIMESTAMPTZ NOT NULL,
  out_of_orderness_ms BIGINT NOT NULL,
  updated_at TIMESTAMPTZ NOT NULL,
  PRIMARY KEY (stream)
);
COMMENT ON TABLE ops.watermarks IS 'Per-stream event-time watermark of the streaming pipeline: max event time seen minus the allowed out-of-orderness.';
COMMENT ON COLUMN ops.watermarks.stream IS 'Stream: events, webhooks or cdc.';
COMMENT ON COLUMN ops.watermarks.watermark_ts IS 'Records with an event time before this instant are late.';
COMMENT ON COLUMN ops.watermarks.max_event_ts IS 'Greatest event time loaded so far.';
COMMENT ON COLUMN ops.watermarks.out_of_orderness_ms IS 'Out-of-orderness allowed when the watermark was computed (ms).';
COMMENT ON COLUMN ops.watermarks.updated_at IS 'When the pipeline last moved the watermark (UTC).';
CREATE TABLE IF NOT EXISTS ops.partitions_touched (
  table_name VARCHAR NOT NULL,
  event_date DATE NOT NULL,
  rows_loaded BIGINT NOT NULL,
  late_rows BIGINT NOT NULL,
  first_loaded_at TIMESTAMPTZ NOT NULL,
  last_loaded_at TIMESTAMPTZ NOT NULL,
  last_late_at TIMESTAMPTZ,
  PRIMARY KEY (table_name, event_date)
);
COMMENT ON TABLE ops.partitions_touched IS 'Event-date partitions each table received rows for, with late-row counts: the work list of incremental model rebuilds.';
COMMENT ON COLUMN ops.partitions_touched.table_name IS 'Warehouse table, e.g. raw.events.';
COMMENT ON COLUMN ops.partitions_touched.event_date IS 'UTC event date (the partition) that received rows.';
COMMENT ON COLUMN ops.partitions_touched.rows_loaded IS 'Rows loaded into the partition so far.';
COMMENT ON COLUMN ops.partitions_touched.late_rows IS 'Of those, rows that arrived behind the watermark.';
COMMENT ON COLUMN ops.partitions_touched.first_loaded_at IS 'When the pipeline first wrote into the partition (UTC).';
COMMENT ON COLUMN ops.partitions_touched.last_loaded_at IS 'When the pipeline last wrote into the partition (UTC); rebuild partitions newer than the last model run.';
COMMENT ON COLUMN ops.partitions_touched.last_late_at IS 'When a late row last landed in the partition (UTC); null when none did.';
CREATE TABLE IF NOT EXISTS ops.realtime_metrics (
  stream VARCHAR NOT NULL,
  minute TIMESTAMPTZ NOT NULL,
  events BIGINT NOT NULL,
  orders BIGINT NOT NULL,
  revenue DECIMAL(38,9) NOT NULL,
  late_events BIGINT NOT NULL,
  updated_at TIMESTAMPTZ NOT NULL,
  PRIMARY KEY (stream, minute)
);
COMMENT ON TABLE ops.realtime_metrics IS 'Per-minute event-time metrics per stream (events, orders, revenue); late records add to the minute they belong to.';
COMMENT ON COLUMN ops.realtime_metrics.stream IS 'Stream: events, webhooks or cdc.';
COMMENT ON COLUMN ops.realtime_metrics.minute IS 'Start of the event-time minute (UTC).';
COMMENT ON COLUMN ops.realtime_metrics.events IS 'Records with an event time in this minute.';
COMMENT ON COLUMN ops.realtime_metrics.orders IS 'Order Completed track events in this minute.';
COMMENT ON COLUMN ops.realtime_metrics.revenue IS 'Sum of properties.total (else properties.revenue) of those orders: the order total, as the warehouse''s order facts count it.';
COMMENT ON COLUMN ops.realtime_metrics.late_events IS 'Of the records, how many arrived behind the watermark.';
COMMENT ON COLUMN ops.realtime_metrics.updated_at IS 'When the pipeline last changed this minute (UTC).';

// Generated from contracts/ by `npm run generate` (contracts/generators/dataform.ts); do not edit:
// `npm run test:contracts` fails when it is stale. The tables the pipeline fills, which the models
// read but do not build. The runner's reference data is declared in reference.js.
const sources = [
  {
    "schema": "core",
    "name": "customers",
    "description": "Current state of customers, built from CDC in source order.",
    "columns": {
      "id": "Customer id (source primary key, as text).",
      "email": "Email (pseudonymize upstream if required).",
      "first_name": "First name.",
      "last_name": "Last name.",
      "country": "Country code.",
      "created_at": "When the customer was created in the source.",
      "updated_at": "When the customer was last updated in the source.",
      "_position": "Source position of the change that produced this row version.",
      "_source_ts": "When that change happened in the source.",
      "_deleted": "True when the row was deleted in the source (kept as a flag).",
      "_updated_at": "When the pipeline applied the change (UTC)."
    }
  },
  {
    "schema": "core",
    "name": "order_items",
    "description": "Current state of order lines, built from CDC in source order.",
    "columns": {
      "id": "Order item id (source primary key, as text).",
      "order_id": "Order id.",
      "product_id": "Product id.",
      "quantity": "Quantity.",
      "unit_price": "Unit price.",
      "_position": "Source position of the change that produced this row version.",
      "_source_ts": "When that change happened in the source.",
      "_deleted": "True when the row was deleted in the source (kept as a flag).",
      "_updated_at": "When the pipeline applied the change (UTC)."
    }
  },
  {
    "schema": "core",
    "name": "orders",
    "description": "Current state of orders, built from CDC in source order.",
    "columns": {
      "id": "Order id (source primary key, as text).",
      "customer_id": "Customer id.",
      "status": "Order status (pending, paid, shipped, cancelled, refunded, …).",
      "total_amount": "Order total.",
      "currency": "ISO currency code.",
      "created_at": "When the order was placed.",
      "updated_at": "When the order was last updated in the source.",
      "_position": "Source position of the change that produced this row version.",
      "_source_ts": "When that change happened in the source.",
      "_deleted": "True when the row was deleted in the source (kept as a flag).",
      "_updated_at": "When the pipeline applied the change (UTC)."
    }
  },
  {
    "schema": "core",
    "name": "products",
    "description": "Current state of products, built from CDC in source order.",
    "columns": {
      "id": "Product id (source primary key, as text).",
      "sku": "Stock keeping unit.",
      "name": "Product name.",
      "category": "Category.",
      "price": "List price.",
      "currency": "ISO currency code.",
      "updated_at": "When the product was last updated in the source.",
      "_position": "Source position of the change that produced this row version.",
      "_source_ts": "When that change happened in the source.",
      "_deleted": "True when the row was deleted in the source (kept as a flag).",
      "_updated_at": "When the pipeline applied the change (UTC)."
    }
  },
  {
    "schema": "ops",
    "name": "dead_letters",
    "description": "Everything rejected after the edge accepted it, with the stage and reason; nothing is dropped silently.",
    "columns": {
      "dead_letter_id": "Unique id of this dead letter.",
      "stage": "Where it failed: edge, queue, publish, archive, pipeline or warehouse.",
      "reason": "Why it failed, in words an operator can act on.",
      "stream": "Stream the payload belongs to (events, webhooks, cdc) or unknown.",
      "event_id": "The record's event_id when known.",
      "attempts": "Delivery attempts made before giving up.",
      "failed_at": "When it was dead-lettered (UTC).",
      "payload": "The record or message exactly as it was, as JSON text."
    }
  },
  {
    "schema": "ops",
    "name": "partitions_touched",
    "description": "Event-date partitions each table received rows for, with late-row counts: the work list of incremental model rebuilds.",
    "columns": {
      "table_name": "Warehouse table, e.g. raw.events.",
      "event_date": "UTC event date (the partition) that received rows.",
      "rows_loaded": "Rows loaded into the partition so far.",
      "late_rows": "Of those, rows that arrived behind the watermark.",
      "first_loaded_at": "When the pipeline first wrote into the partition (UTC).",
      "last_loaded_at": "When the pipeline last wrote into the partition (UTC); rebuild partitions newer than the last model run.",
      "last_late_at": "When a late row last landed in the partition (UTC); null when none did."
    }
  },
  {
    "schema": "ops",
    "name": "realtime_metrics",
    "description": "Per-minute event-time metrics per stream (events, orders, revenue); late records add to the minute they belong to.",
    "columns": {
      "stream": "Stream: events, webhooks or cdc.",
      "minute": "Start of the event-time minute (UTC).",
      "events": "Records with an event time in this minute.",
      "orders": "Order Completed track events in this minute.",
      "revenue": "Sum of properties.total (else properties.revenue) of those orders: the order total, as the warehouse's order facts count it.",
      "late_events": "Of the records, how many arrived behind the watermark.",
      "updated_at": "When the pipeline last changed this minute (UTC)."
    }
  },
  {
    "schema": "ops",
    "name": "watermarks",
    "description": "Per-stream event-time watermark of the streaming pipeline: max event time seen minus the allowed out-of-orderness.",
    "columns": {
      "stream": "Stream: events, webhooks or cdc.",
      "watermark_ts": "Records with an event time before this instant are late.",
      "max_event_ts": "Greatest event time loaded so far.",
      "out_of_orderness_ms": "Out-of-orderness allowed when the watermark was computed (ms).",
      "updated_at": "When the pipeline last moved the watermark (UTC)."
    }
  },
  {
    "schema": "raw",
    "name": "cdc_changes",
    "description": "Full change log: one row per Debezium change event, deduplicated on event_id.",
    "columns": {
      "event_id": "Deterministic id: hash of connector, table, key and source position; the dedup key.",
      "source_connector": "Debezium connector type (postgresql, mysql, sqlserver, …) or unknown.",
      "source_name": "Debezium logical server name (topic prefix).",
      "source_db": "Source database.",
      "source_schema": "Source schema (null for MySQL).",
      "source_table": "Source table or collection (null only for truncates without a table).",
      "op": "c create, u update, d delete, r snapshot read, t truncate, tombstone.",
      "position": "Source position made sortable as text: a later change has a greater position for the same table.",
      "position_parts": "The raw position fields (lsn, txId, file, pos, row, change_lsn, scn, …).",
      "ts_ms": "When the change happened in the source database (ms since epoch).",
      "key": "Primary key as an object (from the record key, else the id column).",
      "key_string": "Canonical text of the primary key, used in the ordering key.",
      "ordering_key": "Pub/Sub ordering key: db.schema.table:key, so changes of one row stay ordered.",
      "before": "Row before the change (null for creates and snapshots).",
      "after": "Row after the change (null for deletes).",
      "tx_id": "Source transaction id.",
      "snapshot": "True for snapshot reads.",
      "event_ts": "Change time as a timestamp (ts_ms).",
      "received_at": "When the edge received the change (UTC).",
      "request_id": "Edge request id.",
      "event_date": "UTC date of the change (ts_ms): the partition.",
      "loaded_at": "When the pipeline wrote the row (UTC)."
    }
  },
  {
    "schema": "raw",
    "name": "events",
    "description": "One row per accepted SDK event (Segment spec), deduplicated on event_id, partitioned by event date.",
    "columns": {
      "event_id": "Deterministic id: hash of source and messageId (or of the event body when messageId is absent); the dedup key.",
      "message_id": "The SDK's messageId, or the generated one when the client sent none.",
      "source": "Source name the write key belongs to (e.g. web).",
      "type": "Segment call type: track, page, screen, identify, group or alias.",
      "event": "Track event name (e.g. Product Viewed); null for other types.",
      "name": "Page or screen name; null for other types.",
      "user_id": "Known user id (null when absent or stripped for lack of consent; keyed-hashed when it looks like an email address).",
      "anonymous_id": "Anonymous device/browser id (null when absent or stripped for lack of consent).",
      "group_id": "Group/account id of group calls.",
      "previous_id": "Previous id of alias calls.",
      "event_ts": "Event time: client timestamp corrected for client clock skew using sentAt (UTC).",
      "received_at": "When the edge received the request (UTC).",
      "sent_at": "When the client says it sent the request.",
      "original_ts": "The client's own event timestamp before skew correction.",
      "clock_skew_ms": "received_at minus sentAt in ms: the client's clock error (plus network time).",
      "properties": "Event properties (configured PII fields pseudonymized).",
      "traits": "Identify/group traits (configured PII fields pseudonymized).",
      "context": "Segment context as sent, with PII fields pseudonymized, without the IP address and without the members promoted to columns (library, consent, page.url, page.path, page.referrer).",
      "integrations": "Segment integrations object as sent.",
      "consent_analytics": "Analytics consent from context.consent.categoryPreferences; null when the client sent none.",
      "consent_stripped": "True when identifiers were removed because analytics consent was withheld.",
      "consent": "All consent category preferences as sent.",
      "ip": "Client IP truncated (/24 IPv4, /48 IPv6) or keyed-hashed, per IP_MODE; never the raw address.",
      "geo_country": "ISO country code from the edge (request.cf) or the local fallback.",
      "geo_region": "Region/state from the edge.",
      "geo_city": "City from the edge.",
      "geo_timezone": "IANA timezone from the edge.",
      "geo_source": "Where geo came from: cf, header or none.",
      "ua_browser": "Browser name parsed from the user agent.",
      "ua_browser_version": "Browser major version.",
      "ua_os": "Operating system name.",
      "ua_os_version": "Operating system version.",
      "ua_device_type": "desktop, mobile, tablet, smarttv, wearable, console or embedded.",
      "ua_device_vendor": "Device vendor.",
      "ua_device_model": "Device model.",
      "is_bot": "True when the user agent is a known bot, crawler or headless browser.",
      "is_server_side": "True when the event came from a server-side library (no browser user agent): never judged a bot by the request's user agent, kept out of sessionization. False in records archived before the edge judged it.",
      "page_url": "context.page.url without credentials, fragment and query parameters other than utm_* and ad click ids (click ids only with analytics consent).",
      "page_path": "Path of the page URL.",
      "page_host": "Host of the page URL.",
      "referrer_url": "context.page.referrer, reduced like page_url to utm_* and ad click-id parameters.",
      "referrer_host": "Host of the referrer.",
      "referrer_medium": "Referrer class: direct, internal, search, social, email, paid, unknown.",
      "referrer_source": "Referrer source name, e.g. google, facebook.",
      "campaign_source": "utm_source (from context.campaign or the page URL).",
      "campaign_medium": "utm_medium.",
      "campaign_name": "utm_campaign.",
      "campaign_term": "utm_term.",
      "campaign_content": "utm_content.",
      "campaign_click_id": "Ad click id: gclid, fbclid, msclkid, ttclid, …, as name:value (null when analytics consent is withheld).",
      "library_name": "SDK library name from context.library.",
      "library_version": "SDK library version.",
      "request_id": "Edge request id (X-Request-Id) of the HTTP request that carried the event.",
      "event_date": "UTC date of event_ts: the partition.",
      "is_late": "True when the event arrived behind the stream's watermark.",
      "lateness_ms": "How far behind the watermark it arrived (0 when on time).",
      "loaded_at": "When the pipeline wrote the row (UTC)."
    }
  },
  {
    "schema": "raw",
    "name": "webhooks",
    "description": "One row per unique webhook delivery (one per HubSpot event), deduplicated on provider and delivery id.",
    "columns": {
      "event_id": "Deterministic id: hash of provider and delivery id; the dedup key.",
      "provider": "Webhook provider.",
      "source": "Source name: shopify, hubspot, or the {source} path segment of generic webhooks.",
      "webhook_id": "Provider delivery id (X-Shopify-Webhook-Id, HubSpot portalId:eventId, Idempotency-Key or body hash).",
      "topic": "Topic or subscription type, e.g. orders/create, contact.propertyChange.",
      "account": "Shop domain, HubSpot portal id, or null.",
      "event_ts": "When the provider says the change happened (HubSpot occurredAt, Shopify triggered_at), else received_at.",
      "received_at": "When the edge received the delivery (UTC).",
      "payload": "The delivery body as JSON (one HubSpot event per record).",
      "request_id": "Edge request id.",
      "event_date": "UTC date of event_ts: the partition.",
      "loaded_at": "When the pipeline wrote the row (UTC)."
    }
  }
];
for (const s of sources) declare(s);

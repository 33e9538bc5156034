/**
 * Records: what the edge puts on the queue and publishes to Pub/Sub, one JSON object per message,
 * and what the pipeline loads into the raw tables (plus the columns the pipeline adds, in tables.ts).
 * They are flat so that analysts get columns, not nested paths, for everything the edge derives.
 * On the wire (queue, Pub/Sub, archive) an EventRecord omits its null-valued columns: a third of
 * them are null in a typical event, and dropping them makes every message ~18% smaller. Parsing
 * with the schema (`.default(null)`) restores them; BigQuery and DuckDB JSON loads read them as NULL.
 */
import { z } from "zod";
import { SEGMENT_TYPES } from "./segment.js";
import { CDC_OPS } from "./cdc.js";
import { bool, int, json, jsonObject, str, timestamp } from "./columns.js";

export const STREAMS = ["events", "webhooks", "cdc"] as const;
export type Stream = (typeof STREAMS)[number];

export const EventRecord = z.object({
  event_id: str("Deterministic id: hash of source and messageId (or of the event body when messageId is absent); the dedup key."),
  message_id: str("The SDK's messageId, or the generated one when the client sent none."),
  source: str("Source name the write key belongs to (e.g. web)."),
  type: z.enum(SEGMENT_TYPES).describe("Segment call type: track, page, screen, identify, group or alias."),
  event: str("Track event name (e.g. Product Viewed); null for other types.").nullable().default(null),
  name: str("Page or screen name; null for other types.").nullable().default(null),
  user_id: str("Known user id (null when absent or stripped for lack of consent).").nullable().default(null),
  anonymous_id: str("Anonymous device/browser id (null when absent or stripped for lack of consent).").nullable().default(null),
  group_id: str("Group/account id of group calls.").nullable().default(null),
  previous_id: str("Previous id of alias calls.").nullable().default(null),
  event_ts: timestamp("Event time: client timestamp corrected for client clock skew using sentAt (UTC)."),
  received_at: timestamp("When the edge received the request (UTC)."),
  sent_at: timestamp("When the client says it sent the request.").nullable().default(null),
  original_ts: timestamp("The client's own event timestamp before skew correction.").nullable().default(null),
  clock_skew_ms: int("received_at minus sentAt in ms: the client's clock error (plus network time).").nullable().default(null),
  properties: jsonObject("Event properties (configured PII fields pseudonymized)."),
  traits: jsonObject("Identify/group traits (configured PII fields pseudonymized)."),
  context: jsonObject("Segment context as sent, with PII fields pseudonymized, without the IP address and without the members promoted to columns (library, consent, page.url, page.path, page.referrer)."),
  integrations: jsonObject("Segment integrations object as sent."),
  consent_analytics: bool("Analytics consent from context.consent.categoryPreferences; null when the client sent none.").nullable().default(null),
  consent_stripped: bool("True when identifiers were removed because analytics consent was withheld."),
  consent: jsonObject("All consent category preferences as sent."),
  ip: str("Client IP truncated (/24 IPv4, /48 IPv6) or keyed-hashed, per IP_MODE; never the raw address.").nullable().default(null),
  geo_country: str("ISO country code from the edge (request.cf) or the local fallback.").nullable().default(null),
  geo_region: str("Region/state from the edge.").nullable().default(null),
  geo_city: str("City from the edge.").nullable().default(null),
  geo_timezone: str("IANA timezone from the edge.").nullable().default(null),
  geo_source: str("Where geo came from: cf, header or none."),
  ua_browser: str("Browser name parsed from the user agent.").nullable().default(null),
  ua_browser_version: str("Browser major version.").nullable().default(null),
  ua_os: str("Operating system name.").nullable().default(null),
  ua_os_version: str("Operating system version.").nullable().default(null),
  ua_device_type: str("desktop, mobile, tablet, smarttv, wearable, console or embedded.").nullable().default(null),
  ua_device_vendor: str("Device vendor.").nullable().default(null),
  ua_device_model: str("Device model.").nullable().default(null),
  is_bot: bool("True when the user agent is a known bot, crawler or headless browser."),
  is_server_side: bool("True when the event came from a server-side library (no browser user agent): never judged a bot by the request's user agent, kept out of sessionization."),
  page_url: str("context.page.url as sent (query string included; configure PII_FIELDS for PII in properties).").nullable().default(null),
  page_path: str("Path of the page URL.").nullable().default(null),
  page_host: str("Host of the page URL.").nullable().default(null),
  referrer_url: str("context.page.referrer.").nullable().default(null),
  referrer_host: str("Host of the referrer.").nullable().default(null),
  referrer_medium: str("Referrer class: direct, internal, search, social, email, paid, unknown.").nullable().default(null),
  referrer_source: str("Referrer source name, e.g. google, facebook.").nullable().default(null),
  campaign_source: str("utm_source (from context.campaign or the page URL).").nullable().default(null),
  campaign_medium: str("utm_medium.").nullable().default(null),
  campaign_name: str("utm_campaign.").nullable().default(null),
  campaign_term: str("utm_term.").nullable().default(null),
  campaign_content: str("utm_content.").nullable().default(null),
  campaign_click_id: str("Ad click id: gclid, fbclid, msclkid, ttclid, …, as name:value.").nullable().default(null),
  library_name: str("SDK library name from context.library.").nullable().default(null),
  library_version: str("SDK library version.").nullable().default(null),
  request_id: str("Edge request id (X-Request-Id) of the HTTP request that carried the event."),
});
export type EventRecord = z.infer<typeof EventRecord>;

export const WebhookRecord = z.object({
  event_id: str("Deterministic id: hash of provider and delivery id; the dedup key."),
  provider: z.enum(["shopify", "hubspot", "generic"]).describe("Webhook provider."),
  source: str("Source name: shopify, hubspot, or the {source} path segment of generic webhooks."),
  webhook_id: str("Provider delivery id (X-Shopify-Webhook-Id, HubSpot portalId:eventId, Idempotency-Key or body hash)."),
  topic: str("Topic or subscription type, e.g. orders/create, contact.propertyChange."),
  account: str("Shop domain, HubSpot portal id, or null.").nullable(),
  event_ts: timestamp("When the provider says the change happened (HubSpot occurredAt, Shopify triggered_at), else received_at."),
  received_at: timestamp("When the edge received the delivery (UTC)."),
  payload: json("The delivery body as JSON (one HubSpot event per record)."),
  request_id: str("Edge request id."),
});
export type WebhookRecord = z.infer<typeof WebhookRecord>;

export const CdcRecord = z.object({
  event_id: str("Deterministic id: hash of connector, table, key and source position; the dedup key."),
  source_connector: str("Debezium connector type (postgresql, mysql, sqlserver, …) or unknown."),
  source_name: str("Debezium logical server name (topic prefix)."),
  source_db: str("Source database.").nullable(),
  source_schema: str("Source schema (null for MySQL).").nullable(),
  source_table: str("Source table or collection (null only for truncates without a table)."),
  op: z.enum([...CDC_OPS, "tombstone"]).describe("c create, u update, d delete, r snapshot read, t truncate, tombstone."),
  position: str("Source position made sortable as text: a later change has a greater position for the same table."),
  position_parts: jsonObject("The raw position fields (lsn, txId, file, pos, row, change_lsn, scn, …)."),
  ts_ms: int("When the change happened in the source database (ms since epoch)."),
  key: json("Primary key as an object (from the record key, else the id column)."),
  key_string: str("Canonical text of the primary key, used in the ordering key."),
  ordering_key: str("Pub/Sub ordering key: db.schema.table:key, so changes of one row stay ordered."),
  before: json("Row before the change (null for creates and snapshots).").nullable(),
  after: json("Row after the change (null for deletes).").nullable(),
  tx_id: str("Source transaction id.").nullable(),
  snapshot: bool("True for snapshot reads."),
  event_ts: timestamp("Change time as a timestamp (ts_ms)."),
  received_at: timestamp("When the edge received the change (UTC)."),
  request_id: str("Edge request id."),
});
export type CdcRecord = z.infer<typeof CdcRecord>;

export const DEAD_LETTER_STAGES = ["edge", "queue", "publish", "archive", "pipeline", "warehouse"] as const;

export const DeadLetterRecord = z.object({
  dead_letter_id: str("Unique id of this dead letter."),
  stage: z.enum(DEAD_LETTER_STAGES).describe("Where it failed: edge, queue, publish, archive, pipeline or warehouse."),
  reason: str("Why it failed, in words an operator can act on."),
  stream: str("Stream the payload belongs to (events, webhooks, cdc) or unknown."),
  event_id: str("The record's event_id when known.").nullable(),
  attempts: int("Delivery attempts made before giving up."),
  failed_at: timestamp("When it was dead-lettered (UTC)."),
  payload: str("The record or message exactly as it was, as JSON text."),
});
export type DeadLetterRecord = z.infer<typeof DeadLetterRecord>;

export const RecordByStream = { events: EventRecord, webhooks: WebhookRecord, cdc: CdcRecord } as const;
export type AnyRecord = EventRecord | WebhookRecord | CdcRecord;

/**
 * A Cloudflare Queue message body: records of one stream packed up to QUEUE_MESSAGE_TARGET_BYTES.
 * `spill` replaces `records` for a single record too large for a queue message: the record sits in
 * the landing bucket and the consumer reads it from there (claim check).
 */
export const QueueEnvelope = z.object({
  v: z.literal(1),
  stream: z.enum(STREAMS),
  records: z.array(z.record(z.string(), z.unknown())),
  spill: z.object({ bucket: z.string(), object: z.string(), bytes: z.int() }).optional(),
});
export type QueueEnvelope = z.infer<typeof QueueEnvelope>;

/** Pub/Sub message attributes on every topic (API.md). */
export const MessageAttributes = z.object({
  stream: z.string(),
  source: z.string(),
  event_id: z.string(),
  event_ts: z.string(),
});

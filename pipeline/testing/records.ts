/** Valid records as the edge produces them, for tests and benchmarks of the pipeline. */
import { createHash } from "node:crypto";
import type { CdcRecord, EventRecord, WebhookRecord } from "../../contracts/records.js";
import type { InboundMessage } from "../transforms/types.js";

const hash = (s: string) => createHash("sha256").update(s).digest("hex").slice(0, 32);

export function eventRecord(i: number, eventTs: string, over: Partial<EventRecord> = {}): EventRecord {
  const order = i % 5 === 3;
  return {
    event_id: hash(`web|msg-${i}`),
    message_id: `msg-${i}`,
    source: "web",
    type: "track",
    event: order ? "Order Completed" : "Product Viewed",
    name: null,
    user_id: i % 3 === 0 ? `user_${i % 500}` : null,
    anonymous_id: `anon-${i % 1000}`,
    group_id: null,
    previous_id: null,
    event_ts: eventTs,
    received_at: eventTs,
    sent_at: eventTs,
    original_ts: eventTs,
    clock_skew_ms: 0,
    properties: order ? { order_id: `ord_${i}`, revenue: 10 + (i % 7) + 0.25, currency: "EUR" } : { sku: `SKU-${i % 900}`, price: 19.99 },
    traits: {},
    context: { library: { name: "analytics.js", version: "1.70.0" }, page: { path: "/p" } },
    integrations: {},
    consent_analytics: true,
    consent_stripped: false,
    consent: { Analytics: true },
    ip: "203.0.113.0",
    geo_country: "DE",
    geo_region: null,
    geo_city: null,
    geo_timezone: "Europe/Berlin",
    geo_source: "header",
    ua_browser: "Chrome",
    ua_browser_version: "120",
    ua_os: "Mac OS",
    ua_os_version: "10.15.7",
    ua_device_type: "desktop",
    ua_device_vendor: null,
    ua_device_model: null,
    is_bot: false,
    is_server_side: false,
    page_url: "https://shop.example.com/p",
    page_path: "/p",
    page_host: "shop.example.com",
    referrer_url: null,
    referrer_host: null,
    referrer_medium: "direct",
    referrer_source: null,
    campaign_source: null,
    campaign_medium: null,
    campaign_name: null,
    campaign_term: null,
    campaign_content: null,
    campaign_click_id: null,
    library_name: "analytics.js",
    library_version: "1.70.0",
    request_id: `req-${Math.floor(i / 10)}`,
    ...over,
  };
}

export function webhookRecord(i: number, eventTs: string, over: Partial<WebhookRecord> = {}): WebhookRecord {
  return {
    event_id: hash(`shopify|wh-${i}`),
    provider: "shopify",
    source: "shopify",
    webhook_id: `wh-${i}`,
    topic: "orders/create",
    account: "shop.example.com",
    event_ts: eventTs,
    received_at: eventTs,
    payload: { id: i, total_price: "12.50" },
    request_id: `req-wh-${i}`,
    ...over,
  };
}

export interface CdcInput {
  table: string;
  op: CdcRecord["op"];
  /** Source position, zero-padded as the edge builds it. */
  pos: number;
  id: string | number;
  before?: Record<string, unknown> | null;
  after?: Record<string, unknown> | null;
  tsMs?: number;
  schema?: string;
}

export function cdcRecord(c: CdcInput): CdcRecord {
  const tsMs = c.tsMs ?? Date.parse("2026-11-20T10:00:00Z") + c.pos * 1000;
  const position = String(c.pos).padStart(20, "0");
  const schema = c.schema ?? "public";
  const keyString = `{"id":${JSON.stringify(c.id)}}`;
  return {
    event_id: hash(`postgresql|${c.table}|${keyString}|${position}|${c.op}`),
    source_connector: "postgresql",
    source_name: "shopdb",
    source_db: "shop",
    source_schema: schema,
    source_table: c.table,
    op: c.op,
    position,
    position_parts: { lsn: c.pos },
    ts_ms: tsMs,
    key: { id: c.id },
    key_string: keyString,
    ordering_key: `shop.${schema}.${c.table}:${keyString}`,
    before: c.before ?? null,
    after: c.after ?? null,
    tx_id: null,
    snapshot: c.op === "r",
    event_ts: new Date(tsMs).toISOString(),
    received_at: new Date(tsMs).toISOString(),
    request_id: `req-cdc-${c.pos}`,
  };
}

export const asMessage = (stream: InboundMessage["stream"], record: { event_id?: string; event_ts?: string }): InboundMessage => ({
  stream,
  data: JSON.stringify(record),
  attributes: { stream, source: "test", event_id: record.event_id ?? "", event_ts: record.event_ts ?? "" },
});

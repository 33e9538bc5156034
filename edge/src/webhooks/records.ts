/** WebhookRecord construction shared by the webhook routes. */
import type { WebhookRecord } from "../../../contracts/records.js";
import { stableId } from "../enrich/hash.js";

export function webhookRecord(r: Omit<WebhookRecord, "event_id" | "event_ts"> & { event_ts?: number | null }): WebhookRecord {
  const eventTs = r.event_ts != null && Number.isFinite(r.event_ts) ? new Date(r.event_ts).toISOString() : r.received_at;
  return {
    event_id: stableId(r.provider, r.source, r.webhook_id),
    provider: r.provider,
    source: r.source,
    webhook_id: r.webhook_id,
    topic: r.topic,
    account: r.account,
    event_ts: eventTs,
    received_at: r.received_at,
    payload: r.payload,
    request_id: r.request_id,
  };
}

/** A time from a header or body field: ISO text or epoch ms; null when absent or unparsable. */
export function timeOf(v: unknown): number | null {
  if (typeof v === "number" && Number.isFinite(v)) return v;
  if (typeof v === "string" && v) {
    const t = Date.parse(v);
    return Number.isNaN(t) ? null : t;
  }
  return null;
}

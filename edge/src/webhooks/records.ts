/**
 * Webhook deliveries → WebhookRecords, shared by the live routes (after the signature check) and
 * bulk uploads of the webhooks stream (lines of {headers, body}): the same ids, topics, times and
 * PII pseudonymization either way. Each builder throws a 400 EdgeError for a delivery it refuses.
 */
import { MAX_ID_CHARS } from "../../../contracts/limits.js";
import type { WebhookRecord } from "../../../contracts/records.js";
import { HubSpotWebhookBody } from "../../../contracts/webhooks.js";
import type { EdgeConfig } from "../config.js";
import { stableId } from "../enrich/hash.js";
import { pseudonymOf, pseudonymizeValue } from "../enrich/pii.js";
import { badRequest } from "../errors.js";
import { jsonDepthError } from "../lib/json-limits.js";
import { describeIssues } from "../lib/zod-error.js";

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

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

/** One delivery as the builders see it: header lookup (lower-case names), parsed body, body hash. */
export interface Delivery {
  header: (name: string) => string | undefined;
  payload: unknown;
  /** stableId of the raw body text: the delivery id when the sender gives none, and a dedup key. */
  bodyHash: string;
}

export interface DeliveryFacts {
  received_at: string;
  request_id: string;
}

const id = (v: string | undefined) => {
  const t = v?.trim();
  return t ? t.slice(0, MAX_ID_CHARS) : undefined;
};

function checkDepth(payload: unknown) {
  const problem = jsonDepthError(payload, "the delivery");
  if (problem) throw badRequest(problem, "Send the payload with less nesting.");
}

/** The PII paths of a provider, or of a generic source (falling back to the `*` list). */
const piiPaths = (cfg: EdgeConfig, name: string) => (Object.hasOwn(cfg.WEBHOOK_PII_FIELDS, name) ? cfg.WEBHOOK_PII_FIELDS[name] : cfg.WEBHOOK_PII_FIELDS["*"]) ?? [];

export function shopifyRecords(d: Delivery, f: DeliveryFacts, cfg: EdgeConfig): WebhookRecord[] {
  const topic = id(d.header("x-shopify-topic"));
  if (!topic) throw badRequest("missing X-Shopify-Topic header", "Shopify sends it with every webhook.");
  checkDepth(d.payload);
  return [
    webhookRecord({
      provider: "shopify",
      source: "shopify",
      webhook_id: id(d.header("x-shopify-webhook-id")) ?? id(d.header("x-shopify-event-id")) ?? `body-${d.bodyHash}`,
      topic,
      account: id(d.header("x-shopify-shop-domain")) ?? null,
      event_ts: timeOf(d.header("x-shopify-triggered-at")),
      payload: pseudonymizeValue(d.payload, piiPaths(cfg, "shopify"), cfg.PII_HASH_KEY),
      ...f,
    }),
  ];
}

/** HubSpot property-change events carry the new value of any property: hashed for PII properties. */
function hubspotPii(e: Obj, cfg: EdgeConfig): Obj {
  const name = typeof e.propertyName === "string" ? e.propertyName.toLowerCase() : null;
  if (!name || !cfg.HUBSPOT_PII_PROPERTIES.has(name) || e.propertyValue == null || e.propertyValue === "") return e;
  if (!cfg.PII_HASH_KEY) throw new Error("PII fields are configured but the PII_HASH_KEY secret is missing");
  return { ...e, propertyValue: pseudonymOf(cfg.PII_HASH_KEY, e.propertyValue) };
}

/** One record per subscription event: HubSpot retries whole batches, so dedup works per event. */
export function hubspotRecords(payload: unknown, f: DeliveryFacts, cfg: EdgeConfig): WebhookRecord[] {
  checkDepth(payload);
  const parsed = HubSpotWebhookBody.safeParse(payload);
  if (!parsed.success) throw badRequest(`not a HubSpot webhook body: ${describeIssues(parsed.error)}`, "HubSpot delivers a JSON array of subscription events.");
  const paths = piiPaths(cfg, "hubspot");
  return parsed.data.map((e) =>
    webhookRecord({
      provider: "hubspot",
      source: "hubspot",
      webhook_id: `${e.portalId ?? "-"}:${e.eventId}`,
      topic: e.subscriptionType ?? "unknown",
      account: e.portalId == null ? null : String(e.portalId),
      event_ts: timeOf(e.occurredAt),
      payload: pseudonymizeValue(hubspotPii(e, cfg), paths, cfg.PII_HASH_KEY),
      ...f,
    }),
  );
}

/**
 * Generic sources sign only `t.body`, so nothing unsigned may decide what is stored: the topic
 * comes from the signed body (type, event or topic), and an Idempotency-Key is the delivery id but
 * never makes a replayed body new (the routes also dedup on the body hash).
 */
export function genericRecords(source: string, d: Delivery, f: DeliveryFacts, cfg: EdgeConfig): WebhookRecord[] {
  checkDepth(d.payload);
  const fields = isObj(d.payload) ? d.payload : {};
  const topic = [fields.type, fields.event, fields.topic].find((v): v is string => typeof v === "string" && v !== "");
  return [
    webhookRecord({
      provider: "generic",
      source,
      webhook_id: id(d.header("idempotency-key")) ?? `body-${d.bodyHash}`,
      topic: topic?.slice(0, MAX_ID_CHARS) ?? "unknown",
      account: null,
      event_ts: timeOf(fields.occurred_at) ?? timeOf(fields.timestamp) ?? timeOf(fields.created_at),
      payload: pseudonymizeValue(d.payload, piiPaths(cfg, source), cfg.PII_HASH_KEY),
      ...f,
    }),
  ];
}

/** Which builder a webhook source name uses, and the secret that signs its deliveries. */
export function webhookSecretOf(cfg: EdgeConfig, source: string): string | undefined {
  if (source === "shopify") return cfg.SHOPIFY_SECRET;
  if (source === "hubspot") return cfg.HUBSPOT_SECRET;
  return Object.hasOwn(cfg.WEBHOOK_SECRETS, source) ? cfg.WEBHOOK_SECRETS[source] : undefined;
}

export function recordsOfDelivery(source: string, d: Delivery, f: DeliveryFacts, cfg: EdgeConfig): WebhookRecord[] {
  if (source === "shopify") return shopifyRecords(d, f, cfg);
  if (source === "hubspot") return hubspotRecords(d.payload, f, cfg);
  return genericRecords(source, d, f, cfg);
}

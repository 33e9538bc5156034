/**
 * Webhooks: Shopify, HubSpot (signature v3) and any other HMAC-signed source. Signatures are checked
 * on the raw body before it is parsed; a replayed delivery id is answered 200 and not stored again.
 */
import type { Context, Hono } from "hono";
import { MAX_ID_CHARS, MAX_WEBHOOK_BYTES, QUEUE_MESSAGE_TARGET_BYTES } from "../../../contracts/limits.js";
import type { WebhookRecord } from "../../../contracts/records.js";
import { HubSpotWebhookBody } from "../../../contracts/webhooks.js";
import { config } from "../config.js";
import { EdgeError, badRequest, unauthorized } from "../errors.js";
import { stableId } from "../enrich/hash.js";
import { alreadySeen, remember } from "../lib/dedup.js";
import { bodyText, parseBodyJson } from "../lib/json-body.js";
import { describeIssues } from "../lib/zod-error.js";
import { clientIp, enforceRateLimit } from "../middleware/rate-limit.js";
import { readBody } from "../middleware/read-body.js";
import { sendRecords, utf8Length } from "../queue/producer.js";
import type { AppEnv } from "../types.js";
import { verifyHubSpotV3, verifyShopify, verifyTideline } from "../webhooks/signatures.js";
import { timeOf, webhookRecord } from "../webhooks/records.js";

const SOURCE_NAME = /^[a-z0-9][a-z0-9_-]{0,63}$/;
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const id = (v: string | undefined) => (v ? v.trim().slice(0, MAX_ID_CHARS) : undefined);

/**
 * Queues the records whose delivery ids were not seen before and remembers them afterwards.
 * A record too large for a queue message is refused with 413 (nothing of the delivery is queued),
 * so the sender retries or alerts instead of the data vanishing.
 */
async function deliver(c: Context<AppEnv>, records: WebhookRecord[]) {
  const keys = records.map((r) => `wh:${r.provider}:${r.source}:${r.webhook_id}`);
  const seen = await alreadySeen(c.env.DEDUP, keys);
  const fresh = records.filter((_, i) => !seen[i]);
  const duplicates = records.length - fresh.length;
  if (fresh.length) {
    const serialized = fresh.map((r) => JSON.stringify(r));
    // Refuse before sending anything, so a delivery is queued whole or not at all.
    const big = serialized.find((s) => utf8Length(s) > QUEUE_MESSAGE_TARGET_BYTES - 64);
    if (big) throw oversize(utf8Length(big));
    const { oversize: over } = await sendRecords(c.env.INGEST_QUEUE, "webhooks", serialized);
    if (over.length) throw oversize(utf8Length(serialized[over[0]!]!));
    await remember(c.env.DEDUP, keys.filter((_, i) => !seen[i]));
  }
  return c.json({
    success: true,
    accepted: fresh.length,
    rejected: [],
    ...(duplicates ? { duplicate: true, duplicates } : {}),
    request_id: c.get("requestId"),
  });
}

const oversize = (bytes: number) =>
  new EdgeError(
    413,
    "payload_too_large",
    `the delivery is ${Math.round(bytes / 1024)} KB as a record; a record must fit a 128 KB queue message`,
    "Send smaller deliveries (for Shopify, subscribe with `fields` to trim payloads) or use POST /v1/bulk/webhooks for large files.",
  );

function common(c: Context<AppEnv>) {
  return { received_at: new Date(c.get("receivedAt")).toISOString(), request_id: c.get("requestId") };
}

export function webhookRoutes(app: Hono<AppEnv>) {
  app.post("/v1/webhooks/shopify", readBody(MAX_WEBHOOK_BYTES), async (c) => {
    const cfg = config(c.env);
    if (!cfg.SHOPIFY_SECRET) throw unauthorized("Shopify webhooks are not configured", "Set the SHOPIFY_SECRET secret.");
    const body = c.get("body");
    verifyShopify(cfg.SHOPIFY_SECRET, body, c.req.header("x-shopify-hmac-sha256"));
    const shop = id(c.req.header("x-shopify-shop-domain")) ?? null;
    await enforceRateLimit(c, `shopify:${shop ?? clientIp(c.req.raw) ?? "-"}`);
    const payload = parseBodyJson(c.req.header("content-type"), body);
    const topic = id(c.req.header("x-shopify-topic"));
    if (!topic) throw badRequest("missing X-Shopify-Topic header", "Shopify sends it with every webhook.");
    const webhookId = id(c.req.header("x-shopify-webhook-id")) ?? id(c.req.header("x-shopify-event-id")) ?? `body-${stableId(bodyText(body))}`;
    return deliver(c, [
      webhookRecord({
        provider: "shopify",
        source: "shopify",
        webhook_id: webhookId,
        topic,
        account: shop,
        event_ts: timeOf(c.req.header("x-shopify-triggered-at")),
        payload,
        ...common(c),
      }),
    ]);
  });

  app.post("/v1/webhooks/hubspot", readBody(MAX_WEBHOOK_BYTES), async (c) => {
    const cfg = config(c.env);
    if (!cfg.HUBSPOT_SECRET) throw unauthorized("HubSpot webhooks are not configured", "Set the HUBSPOT_SECRET secret.");
    const body = c.get("body");
    const url = new URL(c.req.url);
    const uris = [c.req.url];
    if (cfg.PUBLIC_BASE_URL) uris.push(cfg.PUBLIC_BASE_URL.replace(/\/$/, "") + url.pathname + url.search);
    verifyHubSpotV3(cfg.HUBSPOT_SECRET, c.req.method, uris, body, c.req.header("x-hubspot-signature-v3"), c.req.header("x-hubspot-request-timestamp"));
    await enforceRateLimit(c, `hubspot:${clientIp(c.req.raw) ?? "-"}`);
    const parsed = HubSpotWebhookBody.safeParse(parseBodyJson(c.req.header("content-type"), body));
    if (!parsed.success) throw badRequest(`not a HubSpot webhook body: ${describeIssues(parsed.error)}`);
    // One record per subscription event: HubSpot retries whole batches, so dedup works per event.
    return deliver(
      c,
      parsed.data.map((e) =>
        webhookRecord({
          provider: "hubspot",
          source: "hubspot",
          webhook_id: `${e.portalId ?? "-"}:${e.eventId}`,
          topic: e.subscriptionType ?? "unknown",
          account: e.portalId == null ? null : String(e.portalId),
          event_ts: timeOf(e.occurredAt),
          payload: e,
          ...common(c),
        }),
      ),
    );
  });

  app.post("/v1/webhooks/:source", readBody(MAX_WEBHOOK_BYTES), async (c) => {
    const source = c.req.param("source");
    const cfg = config(c.env);
    if (!SOURCE_NAME.test(source)) throw new EdgeError(404, "not_found", `"${source.slice(0, 64)}" is not a valid webhook source name`, "Use lowercase letters, digits, - and _.");
    const secret = cfg.WEBHOOK_SECRETS[source];
    if (!secret) throw unauthorized(`no secret is configured for webhook source "${source}"`, `Add "${source}" to the WEBHOOK_SECRETS secret (a JSON object of source → secret).`);
    const body = c.get("body");
    verifyTideline(secret, body, c.req.header("x-tideline-signature"));
    await enforceRateLimit(c, `webhook:${source}:${clientIp(c.req.raw) ?? "-"}`);
    const payload = parseBodyJson(c.req.header("content-type"), body);
    const fields = isObj(payload) ? payload : {};
    const topicField = [c.req.header("x-tideline-topic"), fields.type, fields.event, fields.topic].find((v) => typeof v === "string" && v);
    return deliver(c, [
      webhookRecord({
        provider: "generic",
        source,
        webhook_id: id(c.req.header("idempotency-key")) ?? `body-${stableId(bodyText(body))}`,
        topic: (topicField as string | undefined)?.slice(0, MAX_ID_CHARS) ?? "unknown",
        account: null,
        event_ts: timeOf(fields.occurred_at) ?? timeOf(fields.timestamp) ?? timeOf(fields.created_at),
        payload,
        ...common(c),
      }),
    ]);
  });
}

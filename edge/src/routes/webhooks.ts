/**
 * Webhooks: Shopify, HubSpot (signature v3) and any other HMAC-signed source. The source's
 * configuration and signature headers are checked before the body is read, the signature on the
 * raw body before it is parsed. Replays are answered 200 and not stored again: by delivery id, and
 * for Shopify and generic sources, whose ids and topics travel in unsigned headers, also by a hash
 * of the signed body, so one captured body resent under new ids or relabelled topics is stored once.
 */
import type { Context, Hono } from "hono";
import { createMiddleware } from "hono/factory";
import { MAX_WEBHOOK_BYTES, QUEUE_MESSAGE_TARGET_BYTES } from "../../../contracts/limits.js";
import type { WebhookRecord } from "../../../contracts/records.js";
import { config } from "../config.js";
import { EdgeError, badSignature, excerpt, unauthorized } from "../errors.js";
import { stableId } from "../enrich/hash.js";
import { alreadySeen, remember } from "../lib/dedup.js";
import { bodyText, parseBodyJson } from "../lib/json-body.js";
import { clientIp, enforceRateLimit } from "../middleware/rate-limit.js";
import { readBody } from "../middleware/read-body.js";
import { sendRecords, utf8Length } from "../queue/producer.js";
import type { AppEnv } from "../types.js";
import { verifyHubSpotV3, verifyShopify, verifyTideline } from "../webhooks/signatures.js";
import { genericRecords, hubspotRecords, shopifyRecords, webhookSecretOf, type Delivery } from "../webhooks/records.js";

const SOURCE_NAME = /^[a-z0-9][a-z0-9_-]{0,63}$/;

/**
 * Queues the records whose delivery ids (and body, when `bodyKey` is given) were not seen before
 * and remembers them afterwards. A record too large for a queue message is refused with 413
 * (nothing of the delivery is queued), so the sender retries or alerts instead of the data vanishing.
 */
async function deliver(c: Context<AppEnv>, records: WebhookRecord[], bodyKey: string | null) {
  const keys = records.map((r) => `wh:${r.provider}:${r.source}:${r.webhook_id}`);
  const seen = await alreadySeen(c.env.DEDUP, bodyKey ? [...keys, bodyKey] : keys);
  const bodySeen = bodyKey ? seen[keys.length]! : false;
  const fresh = records.filter((_, i) => !seen[i] && !bodySeen);
  const duplicates = records.length - fresh.length;
  if (fresh.length) {
    const serialized = fresh.map((r) => JSON.stringify(r));
    // Refuse before sending anything, so a delivery is queued whole or not at all.
    const big = serialized.find((s) => utf8Length(s) > QUEUE_MESSAGE_TARGET_BYTES - 64);
    if (big) throw oversize(utf8Length(big));
    const { oversize: over } = await sendRecords(c.env.INGEST_QUEUE, "webhooks", serialized);
    if (over.length) throw oversize(utf8Length(serialized[over[0]!]!));
    await remember(c.env.DEDUP, [...keys.filter((_, i) => !seen[i]), ...(bodyKey ? [bodyKey] : [])]);
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

function facts(c: Context<AppEnv>) {
  return { received_at: new Date(c.get("receivedAt")).toISOString(), request_id: c.get("requestId") };
}

function delivery(c: Context<AppEnv>): Delivery {
  const body = c.get("body");
  return { header: (n) => c.req.header(n), payload: parseBodyJson(c.req.header("content-type"), body), bodyHash: stableId(bodyText(body)) };
}

/** Checks, before the body is read, that the source is configured and the request carries its signature headers. */
const signedBy = (source: (c: Context<AppEnv>) => string, headers: string[], hint: string) =>
  createMiddleware<AppEnv>(async function signed(c, next) {
    const name = source(c);
    if (!webhookSecretOf(config(c.env), name)) {
      throw unauthorized(
        name === "shopify" || name === "hubspot" ? `${name === "shopify" ? "Shopify" : "HubSpot"} webhooks are not configured` : `no secret is configured for webhook source "${name}"`,
        name === "shopify" ? "Set the SHOPIFY_SECRET secret." : name === "hubspot" ? "Set the HUBSPOT_SECRET secret." : `Add "${name}" to the WEBHOOK_SECRETS secret (a JSON object of source → secret).`,
      );
    }
    const missing = headers.filter((h) => !c.req.header(h));
    if (missing.length) throw badSignature(`missing ${missing.join(" and ")} header${missing.length > 1 ? "s" : ""}`, hint);
    await next();
  });

export function webhookRoutes(app: Hono<AppEnv>) {
  app.post(
    "/v1/webhooks/shopify",
    signedBy(() => "shopify", ["x-shopify-hmac-sha256"], "Shopify signs every webhook; check that the request comes from Shopify."),
    readBody(MAX_WEBHOOK_BYTES),
    async (c) => {
      const cfg = config(c.env);
      verifyShopify(cfg.SHOPIFY_SECRET!, c.get("body"), c.req.header("x-shopify-hmac-sha256"));
      await enforceRateLimit(c, `shopify:${c.req.header("x-shopify-shop-domain")?.slice(0, 255) ?? clientIp(c) ?? "-"}`);
      const d = delivery(c);
      return deliver(c, shopifyRecords(d, facts(c), cfg), `wh:shopify:shopify:body:${d.bodyHash}`);
    },
  );

  app.post(
    "/v1/webhooks/hubspot",
    signedBy(() => "hubspot", ["x-hubspot-signature-v3", "x-hubspot-request-timestamp"], "Use HubSpot webhooks with signature version 3."),
    readBody(MAX_WEBHOOK_BYTES),
    async (c) => {
      const cfg = config(c.env);
      const url = new URL(c.req.url);
      const uris = [c.req.url];
      if (cfg.PUBLIC_BASE_URL) uris.push(cfg.PUBLIC_BASE_URL.replace(/\/$/, "") + url.pathname + url.search);
      verifyHubSpotV3(cfg.HUBSPOT_SECRET!, c.req.method, uris, c.get("body"), c.req.header("x-hubspot-signature-v3"), c.req.header("x-hubspot-request-timestamp"));
      await enforceRateLimit(c, `hubspot:${clientIp(c) ?? "-"}`);
      // Event ids are inside the signed body: dedup by id is enough.
      return deliver(c, hubspotRecords(parseBodyJson(c.req.header("content-type"), c.get("body")), facts(c), cfg), null);
    },
  );

  app.post(
    "/v1/webhooks/:source",
    async function validSource(c, next) {
      const source = c.req.param("source") ?? "";
      if (!SOURCE_NAME.test(source)) throw new EdgeError(404, "not_found", `"${excerpt(source)}" is not a valid webhook source name`, "Use lowercase letters, digits, - and _.");
      await next();
    },
    signedBy((c) => c.req.param("source") ?? "", ["x-tideline-signature"], 'Sign the body: X-Tideline-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, t + "." + body)>.'),
    readBody(MAX_WEBHOOK_BYTES),
    async (c) => {
      const source = c.req.param("source")!;
      const cfg = config(c.env);
      verifyTideline(webhookSecretOf(cfg, source)!, c.get("body"), c.req.header("x-tideline-signature"));
      await enforceRateLimit(c, `webhook:${source}:${clientIp(c) ?? "-"}`);
      const d = delivery(c);
      return deliver(c, genericRecords(source, d, facts(c), cfg), `wh:generic:${source}:body:${d.bodyHash}`);
    },
  );
}

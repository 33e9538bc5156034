/**
 * Sends a workload through the edge's documented HTTP API (shared/API.md): Segment batches to
 * /v1/batch (Basic auth write key), Debezium envelopes to /v1/cdc (Bearer token), Shopify webhooks
 * signed with X-Shopify-Hmac-Sha256, HubSpot v3-signed webhooks. Requests are built by pure
 * functions (tested without an edge); `sendWorkload` delivers them with bounded concurrency and
 * retries 429/5xx with backoff, honouring Retry-After.
 */
import { createHmac } from "node:crypto";
import type { SegmentEvent, WorkloadItem } from "./generate.js";
import { SHOP_DOMAIN } from "./generate.js";
import { DEV_CREDENTIALS } from "../contracts/defaults.js";

export const LOCAL_CREDENTIALS = {
  writeKey: DEV_CREDENTIALS.writeKey.value as string,
  cdcToken: DEV_CREDENTIALS.cdcToken.value as string,
  shopifySecret: DEV_CREDENTIALS.shopifySecret.value as string,
  hubspotSecret: DEV_CREDENTIALS.hubspotSecret.value as string,
};
/** Segment's limits: 500 KB per batch; stay well inside with a count cap. */
const MAX_EVENTS_PER_BATCH = 100;
const MAX_BATCH_BYTES = 450 * 1024;
const MAX_CDC_PER_REQUEST = 100;
const NON_RETRYABLE = new Set([400, 401, 403, 404, 410, 413, 415, 422]);

export interface EdgeRequest {
  path: string;
  headers: Record<string, string>;
  body: string;
  /** Items the request carries (for progress). */
  items: number;
}

export type Credentials = typeof LOCAL_CREDENTIALS;

export function segmentBatchRequest(events: SegmentEvent[], c: Credentials = LOCAL_CREDENTIALS, sentAt = new Date()): EdgeRequest {
  return {
    path: "/v1/batch",
    headers: { "content-type": "application/json", authorization: `Basic ${Buffer.from(`${c.writeKey}:`).toString("base64")}` },
    body: JSON.stringify({ batch: events, sentAt: sentAt.toISOString() }),
    items: events.length,
  };
}

export function cdcRequest(changes: unknown[], c: Credentials = LOCAL_CREDENTIALS): EdgeRequest {
  return { path: "/v1/cdc", headers: { "content-type": "application/json", authorization: `Bearer ${c.cdcToken}` }, body: JSON.stringify(changes), items: changes.length };
}

export function shopifyRequest(topic: string, webhookId: string, body: object, c: Credentials = LOCAL_CREDENTIALS, triggeredAt?: string): EdgeRequest {
  const raw = JSON.stringify(triggeredAt ? { ...body, triggered_at: triggeredAt } : body);
  return {
    path: "/v1/webhooks/shopify",
    headers: {
      "content-type": "application/json",
      "x-shopify-topic": topic,
      "x-shopify-webhook-id": webhookId,
      "x-shopify-shop-domain": SHOP_DOMAIN,
      "x-shopify-hmac-sha256": createHmac("sha256", c.shopifySecret).update(raw, "utf8").digest("base64"),
    },
    body: raw,
    items: 1,
  };
}

/** HubSpot v3: base64 HMAC-SHA256(secret, method + full URL + body + timestamp). */
export function hubspotRequest(edge: string, events: object[], c: Credentials = LOCAL_CREDENTIALS, now = Date.now()): EdgeRequest {
  const path = "/v1/webhooks/hubspot";
  const body = JSON.stringify(events);
  const ts = String(now);
  return {
    path,
    headers: {
      "content-type": "application/json",
      "x-hubspot-request-timestamp": ts,
      "x-hubspot-signature-v3": createHmac("sha256", c.hubspotSecret).update(`POST${edge.replace(/\/$/, "")}${path}${body}${ts}`, "utf8").digest("base64"),
    },
    body,
    items: events.length,
  };
}

/**
 * Groups items (already in delivery order) into requests, keeping delivery order between kinds:
 * runs of events become batches, runs of CDC changes become arrays; webhooks go one per request.
 */
export function* requestsFor(items: Iterable<WorkloadItem>, edge: string, c: Credentials = LOCAL_CREDENTIALS): Generator<EdgeRequest> {
  let events: SegmentEvent[] = [];
  let bytes = 0;
  let changes: unknown[] = [];
  const flushEvents = function* () {
    if (events.length) yield segmentBatchRequest(events, c);
    events = [];
    bytes = 0;
  };
  const flushCdc = function* () {
    if (changes.length) yield cdcRequest(changes, c);
    changes = [];
  };
  for (const it of items) {
    if (it.kind === "event") {
      yield* flushCdc();
      const size = JSON.stringify(it.event).length;
      if (events.length >= MAX_EVENTS_PER_BATCH || bytes + size > MAX_BATCH_BYTES) yield* flushEvents();
      events.push(it.event);
      bytes += size;
    } else if (it.kind === "cdc") {
      yield* flushEvents();
      changes.push(it.change);
      if (changes.length >= MAX_CDC_PER_REQUEST) yield* flushCdc();
    } else {
      yield* flushEvents();
      yield* flushCdc();
      yield it.kind === "shopify" ? shopifyRequest(it.topic, it.webhookId, it.body, c, new Date(it.at).toISOString()) : hubspotRequest(edge, it.body, c);
    }
  }
  yield* flushEvents();
  yield* flushCdc();
}

export class SendError extends Error {
  override name = "SendError";
}

export interface SendResult {
  requests: number;
  items: number;
  rejected: number;
  retries: number;
}

/** Delivers requests with `concurrency` in flight; the HubSpot signature is recomputed on retry (5-minute window). */
export async function sendRequests(
  edge: string,
  requests: Iterable<EdgeRequest>,
  o: { concurrency?: number; onProgress?: (itemsSent: number) => void; fetchImpl?: typeof fetch; maxRetries?: number } = {},
): Promise<SendResult> {
  const f = o.fetchImpl ?? fetch;
  const result: SendResult = { requests: 0, items: 0, rejected: 0, retries: 0 };
  const it = requests[Symbol.iterator]();
  const worker = async () => {
    for (let n = it.next(); !n.done; n = it.next()) {
      const req = n.value;
      for (let attempt = 0; ; attempt++) {
        let res: Response;
        try {
          // A listener that never answers (a stale server on the port) must not hang the run.
          res = await f(`${edge.replace(/\/$/, "")}${req.path}`, { method: "POST", headers: req.headers, body: req.body, signal: AbortSignal.timeout(30_000) });
        } catch (e) {
          if (attempt >= (o.maxRetries ?? 5)) throw new SendError(`could not reach the edge at ${edge} (${(e as Error).message}); start it with \`npm start\` or pass --edge <url>`);
          result.retries++;
          await sleep(backoff(attempt));
          continue;
        }
        if (res.ok) {
          const body = (await res.json().catch(() => ({}))) as { rejected?: unknown[] };
          result.rejected += Array.isArray(body.rejected) ? body.rejected.length : 0;
          break;
        }
        const text = await res.text().catch(() => "");
        if (NON_RETRYABLE.has(res.status) || attempt >= (o.maxRetries ?? 5)) {
          throw new SendError(`the edge answered ${res.status} to POST ${req.path}: ${text.slice(0, 300)}`);
        }
        result.retries++;
        const retryAfter = Number(res.headers.get("retry-after"));
        await sleep(Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : backoff(attempt));
      }
      result.requests++;
      result.items += req.items;
      o.onProgress?.(result.items);
    }
  };
  await Promise.all(Array.from({ length: o.concurrency ?? 4 }, worker));
  return result;
}

const backoff = (attempt: number) => Math.min(10_000, 200 * 2 ** attempt) * (0.5 + Math.random() / 2);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

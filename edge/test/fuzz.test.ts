/**
 * Property test: thousands of random and hostile requests against every endpoint never produce a 5xx,
 * and every error is a JSON body with a machine-readable code. Requests go straight into the Worker's
 * fetch in workerd with the real bindings; the queue send and the Google endpoints (bulk uploads)
 * are stubbed to succeed because what is under test is the handling of input, not the availability
 * of those dependencies (a 503 when one is down is the correct answer).
 */
import { env, createExecutionContext } from "cloudflare:test";
import fc from "fast-check";
import { afterAll, beforeAll, expect, it } from "vitest";
import worker from "../src/index.js";
import { WRITE_KEY, basic, gzip, watchQueue } from "./support/queue.js";
import { segmentBatch } from "../../test/fixtures/segment-events.js";
import { installFakeGoogle } from "./support/fake-google.js";

const PATHS = [
  "/v1/batch", "/v1/b", "/v1/track", "/v1/t", "/v1/page", "/v1/p", "/v1/screen", "/v1/s", "/v1/identify", "/v1/i",
  "/v1/group", "/v1/g", "/v1/alias", "/v1/a", "/v1/webhooks/shopify", "/v1/webhooks/hubspot", "/v1/webhooks/crm",
  "/v1/webhooks/%00bad", "/v1/cdc", "/v1/bulk/events", "/v1/bulk/nope", "/healthz", "/v1/openapi.json", "/nope",
];
const CONTENT_TYPES = [undefined, "application/json", "text/plain", "text/plain;charset=UTF-8", "application/x-www-form-urlencoded", "application/x-ndjson", "multipart/form-data; boundary=x", "application/octet-stream", "image/png", ";;;", "application/json; charset=utf-16"];
const ENCODINGS = [undefined, "gzip", "deflate", "br", "identity", "GZIP", "gzip, gzip", "x-gzip", "compress"];

const segmentKeys = ["type", "event", "userId", "anonymousId", "messageId", "timestamp", "sentAt", "originalTimestamp", "properties", "traits", "context", "integrations", "groupId", "previousId", "name", "writeKey", "batch", "__proto__", "constructor"];
const hostileString = fc.oneof(
  fc.string(),
  fc.string({ unit: "binary" }),
  fc.constantFrom("", "\u0000", "\ud800", "𝕏".repeat(50), "2026-13-45T99:99:99Z", "NaN", "-1e999", "<script>", "' OR 1=1 --", "../../etc/passwd", "x".repeat(40_000)),
);
const jsonish: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: "small" }, fc.jsonValue(), hostileString, fc.double(), fc.constantFrom(null, true, 1e308, -0), tie("obj"), fc.array(tie("value"), { maxLength: 5 })),
  obj: fc.dictionary(fc.oneof(fc.constantFrom(...segmentKeys), fc.string({ maxLength: 8 })), tie("value"), { maxKeys: 8 }),
})).value;
const contextLike = fc.record({ page: fc.record({ url: hostileString, referrer: hostileString }), userAgent: hostileString, ip: hostileString, consent: jsonish, traits: jsonish, campaign: jsonish, library: jsonish }, { requiredKeys: [] });
const eventLike = fc.record(
  {
    type: fc.constantFrom("track", "page", "screen", "identify", "group", "alias", "teleport", 5 as unknown as string),
    event: hostileString,
    userId: fc.oneof(hostileString, fc.integer(), fc.constant(null)),
    anonymousId: fc.oneof(hostileString, fc.integer()),
    messageId: fc.oneof(hostileString, fc.integer()),
    timestamp: hostileString,
    sentAt: hostileString,
    properties: jsonish,
    traits: jsonish,
    context: fc.oneof(contextLike, jsonish),
    groupId: hostileString,
    previousId: hostileString,
  },
  { requiredKeys: [] },
);
/** Realistic events with one member replaced by something hostile: the acceptance path under fire. */
const mutatedBatch = fc
  .tuple(fc.integer({ min: 0, max: 10_000 }), fc.integer({ min: 1, max: 30 }), fc.constantFrom(...segmentKeys, "context.page", "properties.price"), jsonish)
  .map(([seed, n, key, value]) => {
    const batch = segmentBatch(n, seed);
    const e = batch.batch[seed % n] as Record<string, unknown>;
    if (key === "context.page") (e.context as Record<string, unknown>).page = value;
    else if (key === "properties.price") (e.properties as Record<string, unknown>).price = value;
    else e[key] = value;
    return JSON.stringify(batch);
  });
const bodyText = fc.oneof(
  jsonish.map((v) => JSON.stringify(v) ?? "undefined"),
  fc.array(eventLike, { maxLength: 20 }).map((batch) => JSON.stringify({ batch })),
  eventLike.map((e) => JSON.stringify(e)),
  fc.array(eventLike, { maxLength: 5 }).map((es) => es.map((e) => JSON.stringify(e)).join("\n")),
  fc.constantFrom("[".repeat(100_000), '{"batch":' + "[".repeat(5000), "{", "", "\u0000\u0000", '{"batch":[]}', "null", "data=%%%", "data=" + "A".repeat(1000)),
  hostileString,
);
const anyRequest = fc.record({
  path: fc.oneof(fc.constantFrom(...PATHS), fc.constantFrom("/v1/batch", "/v1/track", "/v1/t", "/v1/cdc", "/v1/webhooks/shopify")),
  method: fc.constantFrom("POST", "POST", "POST", "POST", "POST", "GET", "PUT", "OPTIONS", "DELETE"),
  body: bodyText,
  contentType: fc.constantFrom(...CONTENT_TYPES),
  encoding: fc.constantFrom(...ENCODINGS),
  compress: fc.boolean(),
  auth: fc.constantFrom(undefined, basic(WRITE_KEY), basic(WRITE_KEY), basic(WRITE_KEY), basic("wrong"), "Bearer local_cdc_token", "Bearer nope", "Basic !!!", "Basic " + "A".repeat(500)),
  extra: fc.dictionary(
    fc.constantFrom("x-shopify-hmac-sha256", "x-shopify-topic", "x-shopify-webhook-id", "x-hubspot-signature-v3", "x-hubspot-request-timestamp", "x-tideline-signature", "idempotency-key", "content-length", "x-request-id", "cf-connecting-ip"),
    fc.oneof(fc.string({ maxLength: 40 }).filter((s) => /^[\x20-\x7e]*$/.test(s)), fc.constantFrom("t=1,v1=00", "999999999999999", "-1", "::1", "1.2.3.4")),
  ),
});

/** Mostly-valid batches to /v1/batch with a valid key, gzip or not, as SDKs send them. */
const sdkRequest = fc.record({
  path: fc.constantFrom("/v1/batch", "/v1/b"),
  method: fc.constant("POST"),
  body: mutatedBatch,
  contentType: fc.constantFrom(undefined, "application/json", "text/plain"),
  encoding: fc.constantFrom(undefined, "gzip"),
  compress: fc.boolean(),
  auth: fc.constant(basic(WRITE_KEY)),
  extra: fc.constant({} as Record<string, string>),
});
const request = fc.oneof(anyRequest, sdkRequest);

let q: ReturnType<typeof watchQueue>;
let google: ReturnType<typeof installFakeGoogle>;
beforeAll(() => {
  q = watchQueue();
  q.spy.mockResolvedValue(undefined as never);
  google = installFakeGoogle();
});
afterAll(() => {
  q.restore();
  google.restore();
});

it("never answers a 5xx, and every error is coded JSON (2,500 random and hostile requests)", async () => {
  let count = 0;
  const statuses = new Map<number, number>();
  await fc.assert(
    fc.asyncProperty(request, async (r) => {
      const headers = new Headers();
      if (r.contentType) headers.set("content-type", r.contentType);
      if (r.encoding) headers.set("content-encoding", r.encoding);
      if (r.auth) headers.set("authorization", r.auth);
      for (const [k, v] of Object.entries(r.extra)) {
        try {
          headers.set(k, v);
        } catch {
          /* header values the platform refuses never reach the Worker */
        }
      }
      const payload = r.method === "GET" || r.method === "OPTIONS" ? undefined : r.compress ? await gzip(r.body) : r.body;
      let req: Request;
      try {
        req = new Request(`https://edge.test${r.path}`, { method: r.method, headers, body: payload });
      } catch {
        return; // not a request an HTTP client can send
      }
      const res = await worker.fetch(req, env as never, createExecutionContext());
      count++;
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      expect(res.status, `${r.method} ${r.path} → ${res.status}: ${await res.clone().text()}`).toBeLessThan(500);
      if (res.status >= 400) {
        const body = (await res.json()) as { error?: { code?: string; message?: string } };
        expect(typeof body.error?.code).toBe("string");
        expect(typeof body.error?.message).toBe("string");
      } else {
        await res.body?.cancel();
      }
    }),
    { numRuns: 2500, seed: 20261125, endOnFailure: true },
  );
  console.log(`fuzz: ${count} requests, statuses ${JSON.stringify(Object.fromEntries(statuses))}`);
  expect(count).toBeGreaterThanOrEqual(2000);
  // The run must exercise acceptance as well as every family of refusals.
  for (const s of [200, 400, 401, 404, 415]) expect(statuses.get(s) ?? 0, `status ${s}`).toBeGreaterThan(0);
}, 300_000);

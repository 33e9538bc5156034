import { SELF, env, createExecutionContext } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createApp } from "../src/app.js";
import worker from "../src/index.js";
import { stableId } from "../src/enrich/hash.js";
import { MAX_EVENT_BYTES, QUEUE_MESSAGE_MAX_BYTES, QUEUE_SEND_BATCH_MAX_BYTES, QUEUE_SEND_BATCH_MAX_MESSAGES } from "../../contracts/limits.js";
import { EventRecord } from "../../contracts/records.js";
import openapi from "../../contracts/generated/openapi.json";
import { segmentBatch } from "../../test/fixtures/segment-events.js";
import { WRITE_KEY, basic, gzip, watchQueue } from "./support/queue.js";

const CHROME_MAC =
  "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36";

let q: ReturnType<typeof watchQueue>;
beforeEach(() => {
  q = watchQueue();
});
afterEach(() => q.restore());

const post = (path: string, body: BodyInit, headers: Record<string, string> = {}) =>
  SELF.fetch(`https://edge.test${path}`, {
    method: "POST",
    headers: { authorization: basic(WRITE_KEY), "content-type": "application/json", ...headers },
    body,
  });

describe("Segment track", () => {
  it("accepts a track call and queues exactly one enriched record, field by field", async () => {
    const res = await post(
      "/v1/track",
      JSON.stringify({
        event: "Product Viewed",
        userId: 42,
        anonymousId: "anon-1",
        messageId: "msg-track-1",
        timestamp: "2026-11-25T10:00:00.000Z",
        sentAt: "2026-11-25T10:00:05.000Z",
        properties: { sku: "SKU-1", price: 19.99, email: "Jane@Example.com" },
        context: {
          ip: "198.51.100.77",
          userAgent: CHROME_MAC,
          library: { name: "analytics-node", version: "3.1.0" },
          page: { url: "https://shop.example.com/p/1?utm_source=newsletter&utm_medium=email&utm_campaign=bf", referrer: "https://mail.google.com/" },
          traits: { email: "jane@example.com" },
          consent: { categoryPreferences: { Analytics: true, Advertising: false } },
        },
        integrations: { All: true },
      }),
      { "cf-connecting-ip": "203.0.113.9", "x-request-id": "req-abc" },
    );
    expect(res.status).toBe(200);
    const body = await res.json<Record<string, unknown>>();
    expect(body).toMatchObject({ success: true, accepted: 1, rejected: [], request_id: "req-abc" });
    expect(res.headers.get("x-request-id")).toBe("req-abc");

    const calls = q.calls();
    expect(calls).toHaveLength(1);
    expect(calls[0]).toHaveLength(1);
    expect(calls[0]![0]!.contentType).toBe("text");
    const env0 = calls[0]![0]!.envelope;
    expect(env0.v).toBe(1);
    expect(env0.stream).toBe("events");
    expect(env0.records).toHaveLength(1);
    const r = EventRecord.parse(env0.records[0]);

    expect(r.event_id).toBe(stableId("web", "msg-track-1"));
    expect(r.event_id).toMatch(/^[0-9a-f]{32}$/);
    expect(r.message_id).toBe("msg-track-1");
    expect(r.source).toBe("web");
    expect(r.type).toBe("track");
    expect(r.event).toBe("Product Viewed");
    expect(r.name).toBeNull();
    expect(r.user_id).toBe("42");
    expect(r.anonymous_id).toBe("anon-1");
    expect(r.sent_at).toBe("2026-11-25T10:00:05.000Z");
    expect(r.original_ts).toBe("2026-11-25T10:00:00.000Z");
    // event_ts = timestamp + (received_at − sentAt): the client's 5 s before sending, on our clock.
    const received = Date.parse(r.received_at);
    expect(Math.abs(received - Date.now())).toBeLessThan(60_000);
    expect(r.clock_skew_ms).toBe(received - Date.parse("2026-11-25T10:00:05.000Z"));
    expect(Date.parse(r.event_ts)).toBe(received - 5000);
    // The event's own context.ip wins over the connecting IP, truncated to /24, and is removed from context.
    expect(r.ip).toBe("198.51.100.0");
    expect(r.context).not.toHaveProperty("ip");
    expect(JSON.stringify(r)).not.toContain("198.51.100.77");
    expect(JSON.stringify(r)).not.toContain("203.0.113.9");
    // PII fields pseudonymized with the keyed hash; same input (normalized) → same pseudonym.
    expect(r.properties.email).toMatch(/^h_[0-9a-f]{32}$/);
    expect((r.context.traits as Record<string, unknown>).email).toBe(r.properties.email);
    expect(JSON.stringify(r).toLowerCase()).not.toContain("jane@example.com");
    expect(r.properties.sku).toBe("SKU-1");
    expect(r.properties.price).toBe(19.99);
    expect(r.ua_browser).toBe("Chrome");
    expect(r.ua_browser_version).toBe("120");
    expect(r.ua_os).toBe("Mac OS");
    expect(r.ua_device_type).toBe("desktop");
    expect(r.is_bot).toBe(false);
    expect(r.page_url).toContain("shop.example.com/p/1");
    expect(r.page_host).toBe("shop.example.com");
    expect(r.page_path).toBe("/p/1");
    expect(r.referrer_host).toBe("mail.google.com");
    expect(r.referrer_medium).toBe("email");
    expect(r.referrer_source).toBe("gmail");
    expect(r.campaign_source).toBe("newsletter");
    expect(r.campaign_medium).toBe("email");
    expect(r.campaign_name).toBe("bf");
    expect(r.campaign_click_id).toBeNull();
    expect(r.consent_analytics).toBe(true);
    expect(r.consent_stripped).toBe(false);
    expect(r.consent).toEqual({ Analytics: true, Advertising: false });
    expect(r.library_name).toBe("analytics-node");
    expect(r.library_version).toBe("3.1.0");
    expect(r.integrations).toEqual({ All: true });
    expect(r.request_id).toBe("req-abc");
    expect(r.geo_source).toBe("none");
    // On the wire, null-valued columns are omitted; the contract restores them.
    const wire = env0.records[0]!;
    expect(wire).not.toHaveProperty("geo_country");
    expect(wire).not.toHaveProperty("name");
    expect(wire.user_id).toBe("42");
    expect(r.geo_country).toBeNull();
  });

  it("takes geo from request.cf and falls back to CF-IPCountry", async () => {
    const withCf = await SELF.fetch("https://edge.test/v1/track", {
      method: "POST",
      headers: { authorization: basic(WRITE_KEY) },
      body: JSON.stringify({ event: "E", anonymousId: "a", messageId: "geo-1" }),
      cf: { country: "DE", region: "Bavaria", city: "München", timezone: "Europe/Berlin" },
    } as RequestInit);
    expect(withCf.status).toBe(200);
    const header = await post("/v1/track", JSON.stringify({ event: "E", anonymousId: "a", messageId: "geo-2" }), { "cf-ipcountry": "fr" });
    expect(header.status).toBe(200);
    const [a, b] = q.records();
    expect(a).toMatchObject({ geo_country: "DE", geo_region: "Bavaria", geo_city: "München", geo_timezone: "Europe/Berlin", geo_source: "cf" });
    expect(b).toMatchObject({ geo_country: "FR", geo_city: null, geo_source: "header" });
  });

  it("does not mistake the local runtime's placeholder request.cf (Austin, TX) for the visitor's location", async () => {
    const res = await SELF.fetch("https://edge.test/v1/track", {
      method: "POST",
      headers: { authorization: basic(WRITE_KEY) },
      body: JSON.stringify({ event: "E", anonymousId: "a", messageId: "geo-3" }),
      cf: { asn: 395747, colo: "DFW", city: "Austin", region: "Texas", postalCode: "78701", country: "US", timezone: "America/Chicago" },
    } as RequestInit);
    expect(res.status).toBe(200);
    expect(q.records()[0]).toMatchObject({ geo_country: null, geo_city: null, geo_source: "none" });
  });

  it("flags bots and headless browsers", async () => {
    const res = await post(
      "/v1/page",
      JSON.stringify({ anonymousId: "a", name: "Home", messageId: "bot-1" }),
      { "user-agent": "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)" },
    );
    expect(res.status).toBe(200);
    expect(q.records()[0]).toMatchObject({ type: "page", name: "Home", is_bot: true });
  });

  it("corrects event time by sentAt and clamps a future client clock without sentAt", async () => {
    const future = new Date(Date.now() + 3 * 3600_000).toISOString();
    await post("/v1/track", JSON.stringify({ event: "E", anonymousId: "a", messageId: "t-1", timestamp: future }));
    const r = q.records()[0]!;
    expect(r.original_ts).toBe(future);
    expect(r.event_ts).toBe(r.received_at);
    expect(r.clock_skew_ms).toBeNull();
  });
});

describe("Segment endpoints and aliases", () => {
  const cases: [string, string, Record<string, unknown>][] = [
    ["/v1/track", "track", { event: "Signed Up" }],
    ["/v1/t", "track", { event: "Signed Up" }],
    ["/v1/page", "page", { name: "Home" }],
    ["/v1/p", "page", { name: "Home" }],
    ["/v1/screen", "screen", { name: "Cart" }],
    ["/v1/s", "screen", { name: "Cart" }],
    ["/v1/identify", "identify", { traits: { plan: "pro" } }],
    ["/v1/i", "identify", { traits: { plan: "pro" } }],
    ["/v1/group", "group", { groupId: "acme" }],
    ["/v1/g", "group", { groupId: "acme" }],
    ["/v1/alias", "alias", { previousId: "anon-9" }],
    ["/v1/a", "alias", { previousId: "anon-9" }],
  ];
  it.each(cases)("%s queues a %s record", async (path, type, extra) => {
    const res = await post(path, JSON.stringify({ userId: "u-1", messageId: `alias-${path}`, ...extra }));
    expect(res.status).toBe(200);
    const r = q.records()[0]!;
    expect(r.type).toBe(type);
    if (type === "group") expect(r.group_id).toBe("acme");
    if (type === "alias") expect(r.previous_id).toBe("anon-9");
    if (type === "identify") expect(r.traits).toEqual({ plan: "pro" });
  });

  it("/v1/batch and /v1/b accept mixed types", async () => {
    for (const path of ["/v1/batch", "/v1/b"]) {
      const res = await post(
        path,
        JSON.stringify({
          batch: [
            { type: "identify", userId: "u1", traits: { plan: "pro" } },
            { type: "track", userId: "u1", event: "Order Completed", properties: { revenue: 10 } },
            { type: "page", anonymousId: "a1", name: "Home" },
          ],
        }),
      );
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ accepted: 3, rejected: [] });
    }
    expect(q.records().map((r) => r.type)).toEqual(["identify", "track", "page", "identify", "track", "page"]);
  });

  it("a missing messageId gets a deterministic one, so a retried body dedups downstream", async () => {
    const body = JSON.stringify({ event: "E", anonymousId: "a", timestamp: "2026-11-25T10:00:00Z", properties: { n: 1 } });
    await post("/v1/track", body);
    await post("/v1/track", body);
    const [a, b] = q.records();
    expect(a!.message_id).toMatch(/^tl-[0-9a-f]{32}$/);
    expect(a!.event_id).toBe(b!.event_id);
  });
});

describe("credentials", () => {
  it("accepts the write key in the body", async () => {
    const res = await SELF.fetch("https://edge.test/v1/batch", {
      method: "POST",
      body: JSON.stringify({ writeKey: WRITE_KEY, batch: [{ type: "track", event: "E", anonymousId: "a" }] }),
    });
    expect(res.status).toBe(200);
  });

  it("401 without a write key, with a hint", async () => {
    const res = await SELF.fetch("https://edge.test/v1/track", { method: "POST", body: JSON.stringify({ event: "E", anonymousId: "a" }) });
    expect(res.status).toBe(401);
    const body = await res.json<{ error: { code: string; message: string; hint: string } }>();
    expect(body.error.code).toBe("unauthorized");
    expect(body.error.hint).toMatch(/Basic/);
    expect(q.spy).not.toHaveBeenCalled();
  });

  it("401 with an unknown write key", async () => {
    const res = await post("/v1/track", JSON.stringify({ event: "E", anonymousId: "a" }), { authorization: basic("nope") });
    expect(res.status).toBe(401);
    expect((await res.json<{ error: { message: string } }>()).error.message).toBe("unknown write key");
  });
});

describe("bodies as SDKs send them", () => {
  const event = { event: "Beacon", anonymousId: "a", writeKey: WRITE_KEY };
  it("sendBeacon text/plain JSON", async () => {
    const res = await SELF.fetch("https://edge.test/v1/t", { method: "POST", headers: { "content-type": "text/plain;charset=UTF-8" }, body: JSON.stringify(event) });
    expect(res.status).toBe(200);
    expect(q.records()[0]!.event).toBe("Beacon");
  });
  it("JSON labelled form-urlencoded, and data=<base64 json> forms", async () => {
    const form = { "content-type": "application/x-www-form-urlencoded" };
    expect((await SELF.fetch("https://edge.test/v1/t", { method: "POST", headers: form, body: JSON.stringify(event) })).status).toBe(200);
    const b64 = `data=${encodeURIComponent(btoa(JSON.stringify(event)))}`;
    expect((await SELF.fetch("https://edge.test/v1/t", { method: "POST", headers: form, body: b64 })).status).toBe(200);
    expect(q.records()).toHaveLength(2);
  });
  it("no content type at all", async () => {
    const res = await SELF.fetch("https://edge.test/v1/t", { method: "POST", body: new TextEncoder().encode(JSON.stringify(event)) });
    expect(res.status).toBe(200);
  });
  it("gzip bodies", async () => {
    const body = await gzip(JSON.stringify(segmentBatch(50, 7)));
    const res = await post("/v1/batch", body, { "content-encoding": "gzip" });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ accepted: 50 });
  });
  it("400 for a body that says gzip but is not", async () => {
    const res = await post("/v1/batch", "not gzip at all", { "content-encoding": "gzip" });
    expect(res.status).toBe(400);
    expect((await res.json<{ error: { code: string } }>()).error.code).toBe("malformed_body");
  });
  it("415 for unsupported encodings and media types", async () => {
    const br = await post("/v1/batch", "x", { "content-encoding": "br" });
    expect(br.status).toBe(415);
    expect((await br.json<{ error: { code: string } }>()).error.code).toBe("unsupported_encoding");
    const mp = await post("/v1/batch", "x", { "content-type": "multipart/form-data; boundary=x" });
    expect(mp.status).toBe(415);
    expect((await mp.json<{ error: { code: string } }>()).error.code).toBe("unsupported_media_type");
  });
  it("400 for malformed JSON and for non-objects", async () => {
    for (const body of ['{"batch": [', "[1,2", "null", '"str"', "42"]) {
      const res = await post("/v1/track", body);
      expect(res.status, body).toBe(400);
    }
    const notBatch = await post("/v1/batch", JSON.stringify({ batch: "nope" }));
    expect(notBatch.status).toBe(400);
    expect((await notBatch.json<{ error: { message: string } }>()).error.message).toMatch(/batch/);
  });
});

describe("partial batches and limits", () => {
  it("accepts the good events and reports each bad one by index", async () => {
    const res = await post(
      "/v1/batch",
      JSON.stringify({
        batch: [
          { type: "track", event: "Good", userId: "u" },
          { type: "track", event: "No id" },
          "not an object",
          { type: "track", userId: "u" },
          { type: "teleport", userId: "u" },
          { type: "page", anonymousId: "a", name: "Fine" },
          { type: "track", event: "Bad time", userId: "u", timestamp: "yesterday" },
        ],
      }),
    );
    expect(res.status).toBe(200);
    const body = await res.json<{ accepted: number; rejected: { index: number; error: string }[] }>();
    expect(body.accepted).toBe(2);
    expect(body.rejected.map((r) => r.index)).toEqual([1, 2, 3, 4, 6]);
    expect(body.rejected[0]!.error).toMatch(/userId or anonymousId/);
    expect(body.rejected[1]!.error).toMatch(/JSON object/);
    expect(body.rejected[2]!.error).toMatch(/event/);
    expect(body.rejected[4]!.error).toMatch(/ISO-8601/);
    expect(q.records().map((r) => r.event ?? r.name)).toEqual(["Good", "Fine"]);
  });

  it("400 with every rejection when nothing in the batch is valid", async () => {
    const res = await post("/v1/batch", JSON.stringify({ batch: [{ type: "track" }, { type: "page" }] }));
    expect(res.status).toBe(400);
    const body = await res.json<{ error: { code: string }; rejected: unknown[] }>();
    expect(body.error.code).toBe("invalid_event");
    expect(body.rejected).toHaveLength(2);
    expect(q.spy).not.toHaveBeenCalled();
  });

  it("rejects an event over 32 KB by index and keeps the rest", async () => {
    const big = { type: "track", event: "Big", anonymousId: "a", properties: { blob: "x".repeat(MAX_EVENT_BYTES) } };
    const res = await post("/v1/batch", JSON.stringify({ batch: [{ type: "track", event: "Small", anonymousId: "a" }, big] }));
    expect(res.status).toBe(200);
    const body = await res.json<{ accepted: number; rejected: { index: number; error: string }[] }>();
    expect(body.accepted).toBe(1);
    expect(body.rejected).toEqual([{ index: 1, error: expect.stringMatching(/over the 32\.0 KB limit/) }]);
  });

  it("413 for a single call over 32 KB and a batch over 500 KB, also when gzip hides the size", async () => {
    const one = await post("/v1/track", JSON.stringify({ event: "E", anonymousId: "a", properties: { blob: "x".repeat(40_000) } }));
    expect(one.status).toBe(413);
    expect((await one.json<{ error: { code: string } }>()).error.code).toBe("payload_too_large");
    const batch = await post("/v1/batch", JSON.stringify(segmentBatch(700, 3)));
    expect(batch.status).toBe(413);
    const bomb = await gzip(JSON.stringify({ batch: [{ type: "track", event: "E", anonymousId: "a", properties: { z: "0".repeat(2_000_000) } }] }));
    expect(bomb.byteLength).toBeLessThan(10_000);
    const zipped = await post("/v1/batch", bomb, { "content-encoding": "gzip" });
    expect(zipped.status).toBe(413);
    expect(q.spy).not.toHaveBeenCalled();
  });

  it("splits a large batch into queue messages and sendBatch calls within Queues' limits", async () => {
    const batch = segmentBatch(450, 11);
    const res = await post("/v1/batch", JSON.stringify(batch));
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ accepted: 450 });
    const calls = q.calls();
    const messages = calls.flat();
    expect(messages.length).toBeGreaterThan(1);
    for (const call of calls) {
      expect(call.length).toBeLessThanOrEqual(QUEUE_SEND_BATCH_MAX_MESSAGES);
      const bytes = call.reduce((s, m) => s + new TextEncoder().encode(m.body).byteLength, 0);
      expect(bytes).toBeLessThanOrEqual(QUEUE_SEND_BATCH_MAX_BYTES);
    }
    for (const m of messages) expect(new TextEncoder().encode(m.body).byteLength).toBeLessThanOrEqual(QUEUE_MESSAGE_MAX_BYTES);
    const ids = messages.flatMap((m) => m.envelope.records.map((r) => r.message_id));
    expect(ids).toEqual(batch.batch.map((e) => e.messageId));
  });

  it("merges batch-level context and sentAt into each event", async () => {
    await post(
      "/v1/batch",
      JSON.stringify({
        sentAt: "2026-11-25T10:00:10.000Z",
        context: { library: { name: "analytics-python", version: "2.3" }, locale: "en-GB" },
        batch: [{ type: "track", event: "E", anonymousId: "a", timestamp: "2026-11-25T10:00:00.000Z", context: { locale: "de-DE" } }],
      }),
    );
    const r = q.records()[0]!;
    expect(r.library_name).toBe("analytics-python");
    expect((r.context as Record<string, unknown>).locale).toBe("de-DE");
    expect(Date.parse(r.received_at as string) - Date.parse(r.event_ts as string)).toBe(10_000);
  });
});

describe("configuration variants (same app, other settings)", () => {
  const call = async (vars: Record<string, string>, body: unknown, headers: Record<string, string> = {}) => {
    const app = createApp();
    const res = await app.fetch(
      new Request("https://edge.test/v1/batch", { method: "POST", headers: { authorization: basic(WRITE_KEY), ...headers }, body: JSON.stringify(body) }),
      { ...env, ...vars },
      createExecutionContext(),
    );
    return res;
  };
  const withheld = { batch: [{ type: "identify", userId: "u-1", anonymousId: "a-1", traits: { email: "x@y.z" }, context: { ip: "192.0.2.55", device: { id: "dev-1", advertisingId: "ad-1" }, traits: { email: "x@y.z" }, consent: { categoryPreferences: { Analytics: false } } } }] };

  it("strips identifiers of events without analytics consent (CONSENT_MODE=strip)", async () => {
    const res = await call({}, withheld);
    expect(res.status).toBe(200);
    const r = q.records()[0]!;
    expect(r).toMatchObject({ user_id: null, anonymous_id: null, ip: null, traits: {}, consent_analytics: false, consent_stripped: true });
    // Without the request id: a random UUID may contain "a-1" or "ad-1" by chance.
    expect(JSON.stringify({ ...r, request_id: null })).not.toMatch(/u-1|a-1|dev-1|ad-1|192\.0\.2|x@y\.z/);
  });

  it("drops them instead with CONSENT_MODE=drop, and says so", async () => {
    const res = await call({ CONSENT_MODE: "drop" }, withheld);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ accepted: 0, dropped_without_consent: 1 });
    expect(q.spy).not.toHaveBeenCalled();
  });

  it("requires explicit consent with CONSENT_REQUIRED=true", async () => {
    await call({ CONSENT_REQUIRED: "true" }, { batch: [{ type: "track", event: "E", userId: "u-2" }] });
    expect(q.records()[0]).toMatchObject({ user_id: null, consent_analytics: null, consent_stripped: true });
  });

  it("keyed-hashes IPs with IP_MODE=hash (stable, not reversible) and drops them with IP_MODE=drop", async () => {
    await call({ IP_MODE: "hash" }, { batch: [{ type: "track", event: "E", anonymousId: "a" }, { type: "track", event: "E", anonymousId: "b" }] }, { "cf-connecting-ip": "203.0.113.200" });
    const [a, b] = q.records();
    expect(a!.ip).toMatch(/^h_[0-9a-f]{32}$/);
    expect(a!.ip).toBe(b!.ip);
    await call({ IP_MODE: "drop" }, { batch: [{ type: "track", event: "E", anonymousId: "a" }] }, { "cf-connecting-ip": "203.0.113.200" });
    expect(q.records()[2]!.ip).toBeNull();
  });

  it("503 with Retry-After when the queue is unavailable (nothing accepted, safe to retry)", async () => {
    const broken = { sendBatch: async () => { throw new Error("queue down"); }, send: async () => {} };
    const res = await call({ INGEST_QUEUE: broken } as never, { batch: [{ type: "track", event: "E", anonymousId: "a" }] });
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).toBe("5");
    expect((await res.json<{ error: { code: string } }>()).error.code).toBe("unavailable");
  });
});

describe("rate limiting, CORS, meta", () => {
  it("429 with Retry-After after 1,000 requests in 10 s for one credential and IP; other IPs unaffected", async () => {
    // Straight into the Worker's fetch with the real bindings: SELF.fetch slows down quadratically
    // over a thousand requests in this pool version, which would stretch the run past the window.
    const ip = "192.0.2.200";
    const body = JSON.stringify({ event: "E", anonymousId: "a" });
    // The limiter is under test here, not the queue: keep 1,000 accepted requests off the real queue.
    q.spy.mockResolvedValue(undefined as never);
    const send = (from: string) =>
      worker.fetch(
        new Request("https://edge.test/v1/track", { method: "POST", headers: { authorization: basic(WRITE_KEY), "cf-connecting-ip": from }, body }),
        env as never,
        createExecutionContext(),
      );
    // The binding counts in fixed 10 s windows: start right after a window opens.
    await new Promise((r) => setTimeout(r, 10_000 - (Date.now() % 10_000) + 20));
    const statuses: number[] = [];
    let limited: Response | undefined;
    for (let i = 0; i < 1001; i++) {
      const res = await send(ip);
      statuses.push(res.status);
      if (res.status === 429) limited ??= res;
    }
    expect(statuses.slice(0, 1000).every((s) => s === 200)).toBe(true);
    expect(statuses[1000]).toBe(429);
    expect(limited!.headers.get("retry-after")).toBe("10");
    expect((await limited!.json<{ error: { code: string } }>()).error.code).toBe("rate_limited");
    expect((await send("192.0.2.201")).status).toBe(200);
  }, 30_000);

  it("answers CORS preflights for browser SDKs (any origin, no credentials; see security.test.ts for the other paths)", async () => {
    const res = await SELF.fetch("https://edge.test/v1/t", {
      method: "OPTIONS",
      headers: { origin: "https://shop.example.com", "access-control-request-method": "POST", "access-control-request-headers": "content-type,authorization" },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    expect(res.headers.get("access-control-allow-credentials")).toBeNull();
    expect(res.headers.get("access-control-allow-headers")?.toLowerCase()).toContain("authorization");
  });

  it("serves the generated OpenAPI document and liveness", async () => {
    const doc = await (await SELF.fetch("https://edge.test/v1/openapi.json")).json();
    expect(doc).toEqual(openapi);
    expect(Object.keys((doc as { paths: object }).paths)).toEqual(expect.arrayContaining(["/v1/batch", "/v1/cdc", "/v1/webhooks/shopify", "/v1/bulk/{stream}"]));
    const health = await SELF.fetch("https://edge.test/healthz");
    expect(health.status).toBe(200);
  });

  it("unknown paths get a JSON 404, never a 5xx", async () => {
    const res = await SELF.fetch("https://edge.test/v2/nothing", { method: "POST", body: "{}" });
    expect(res.status).toBe(404);
    expect((await res.json<{ error: { code: string } }>()).error.code).toBe("not_found");
  });
});

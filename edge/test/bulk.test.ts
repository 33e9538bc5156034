import { SELF } from "cloudflare:test";
import { afterEach, describe, expect, it } from "vitest";
import { CdcRecord, DeadLetterRecord, EventRecord, WebhookRecord } from "../../contracts/records.js";
import { CHUNK_BYTES } from "../src/bulk/resumable.js";
import { stableId } from "../src/enrich/hash.js";
import { WRITE_KEY, basic, gzip } from "./support/queue.js";
import { installFakeGoogle } from "./support/fake-google.js";
import { tidelineSignature } from "./support/sign.js";

const BULK_TOKEN = "local_bulk_token";
const SHOPIFY_BULK_TOKEN = "local_bulk_shopify_token";
const bearer = (t: string) => `Bearer ${t}`;

let google: ReturnType<typeof installFakeGoogle>;
const fake = (opts?: Parameters<typeof installFakeGoogle>[0]) => (google = installFakeGoogle(opts));
afterEach(() => google?.restore());

const upload = (stream: string, body: BodyInit, headers: Record<string, string> = {}) =>
  SELF.fetch(`https://edge.test/v1/bulk/${stream}`, { method: "POST", headers: { authorization: bearer(BULK_TOKEN), "content-type": "application/x-ndjson", ...headers }, body });
const ndjson = (lines: unknown[]) => lines.map((l) => (typeof l === "string" ? l : JSON.stringify(l))).join("\n") + "\n";
const stored = async () => (await google.storedText()).split("\n").filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
const deadLetters = () => google.published.filter((p) => p.attributes.stream === "dead-letters").map((p) => DeadLetterRecord.parse(JSON.parse(p.data)));
const notifications = () => google.published.filter((p) => p.attributes.eventType === "OBJECT_FINALIZE");

interface BulkOut {
  bucket: string;
  object: string;
  bytes: number;
  lines: number;
  accepted: number;
  rejected: { index: number; error: string }[];
  rejected_count: number;
}

describe("credentials", () => {
  it("refuses the public write key, unknown tokens and tokens of other streams, before storing anything", async () => {
    fake();
    const line = ndjson([{ type: "track", event: "E", anonymousId: "a" }]);
    expect((await upload("events", line, { authorization: basic(WRITE_KEY) })).status).toBe(401);
    expect((await upload("events", line, { authorization: bearer(WRITE_KEY) })).status).toBe(401);
    expect((await upload("events", line, { authorization: bearer("nope-nope-nope-nope") })).status).toBe(401);
    const other = await upload("webhooks", line, { authorization: bearer(BULK_TOKEN) });
    expect(other.status).toBe(403);
    expect((await other.json<{ error: { message: string } }>()).error.message).toMatch(/may upload events, not webhooks/);
    // CDC uploads take the CDC token, as the live route.
    expect((await upload("cdc", line, { authorization: bearer(BULK_TOKEN) })).status).toBe(401);
    expect((await upload("orders", line)).status).toBe(404);
    const big = await upload("events", "{}", { "content-length": String(200 * 1024 * 1024) });
    expect(big.status).toBe(413);
    expect(google.requests).toHaveLength(0);
  });
});

describe("events", () => {
  it("runs each line through the live path: source from the token, event_id, IP and PII hashing, validation", async () => {
    fake();
    const lines = [
      // A forged line: claims another source and an event_id, carries a raw IP and a raw email.
      { type: "track", event: "Order Completed", userId: "jane@example.com", messageId: "m-1", source: "ios", event_id: "forged", timestamp: "2026-10-01T10:00:00.000Z", sentAt: "2026-10-01T10:00:05.000Z", properties: { revenue: 5 }, context: { ip: "198.51.100.77", traits: { email: "jane@example.com" }, library: { name: "analytics-python" } } },
      "not json",
      { type: "track", anonymousId: "a" },
      "",
      { type: "page", anonymousId: "a", name: "Home", messageId: "m-2", context: { page: { url: "https://shop.example.com/?email=x%40y.z&utm_source=nl" }, userAgent: "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)" } },
    ];
    const res = await upload("events", ndjson(lines), { "x-request-id": "../../raw/events/evil" });
    expect(res.status).toBe(200);
    const out = await res.json<BulkOut>();
    expect(out).toMatchObject({ bucket: "tideline-local-landing", lines: 4, accepted: 2, rejected_count: 2 });
    expect(out.rejected).toEqual([
      { index: 1, error: expect.stringMatching(/^line 2: not valid JSON/) },
      { index: 2, error: expect.stringMatching(/^line 3: .*event/) },
    ]);
    // The edge names the object; the client's X-Request-Id does not.
    expect(out.object).toMatch(/^landing\/events\/dt=\d{4}-\d\d-\d\d\/[0-9a-f-]{36}\.ndjson\.gz$/);
    expect(google.started()).toMatchObject({ name: out.object, contentType: "application/gzip", metadata: { stream: "events", source: "web" } });

    const [order, page] = (await stored()).map((r) => EventRecord.parse(r));
    expect(order).toMatchObject({ source: "web", event_id: stableId("web", "m-1"), ip: "198.51.100.0", is_bot: false, is_server_side: true, geo_source: "none" });
    // Historical: the event keeps its own time (no "clock skew" of months).
    expect(order!.event_ts).toBe("2026-10-01T10:00:00.000Z");
    expect(order!.user_id).toMatch(/^h_[0-9a-f]{32}$/);
    expect((order!.context.traits as { email: string }).email).toBe(order!.user_id);
    expect(JSON.stringify(order)).not.toMatch(/forged|"ios"|198\.51\.100\.77|jane@/);
    expect(page).toMatchObject({ source: "web", is_bot: true, page_url: "https://shop.example.com/?utm_source=nl" });

    // Invalid lines are kept as dead letters, with the reason and the line.
    const letters = deadLetters();
    expect(letters.map((d) => [d.stage, d.stream, d.payload])).toEqual([
      ["edge", "events", "not json"],
      ["edge", "events", JSON.stringify(lines[2])],
    ]);
    expect(letters[0]!.reason).toContain(out.object);
    expect(notifications()).toHaveLength(1);
    expect(notifications()[0]!.attributes).toMatchObject({ eventType: "OBJECT_FINALIZE", payloadFormat: "JSON_API_V1", bucketId: "tideline-local-landing", objectId: out.object, objectGeneration: "1764000000000001" });
    expect(google.requests.find((r) => r.url.endsWith("landing-notifications:publish"))!.url).toBe("http://127.0.0.1:8085/v1/projects/tideline-local/topics/landing-notifications:publish");
  });

  it("dead letters keep refused lines with the configured PII pseudonymized and IPs anonymized, free text masked", async () => {
    fake();
    const lines = [
      { type: "track", anonymousId: "a", messageId: "ok-1", event: "Viewed" },
      // Refused (a track without an event), carrying PII where the settings say hashed.
      { type: "track", anonymousId: "b", userId: "Pat@Example.com", traits: { email: "Pat@Example.com", phone: "+1 415 555 0134", name: "Pat Example" }, context: { ip: "203.0.113.9", userAgent: "Chrome/124.0.0.0" }, timestamp: "2026-10-01T10:00:00.000Z" },
      "not json: write to pat@example.com from 2001:db8:85a3:1234:5678:8a2e:370:7334 or 198.51.100.7, call +44 20 7946 0958",
    ];
    const res = await upload("events", ndjson(lines));
    expect(res.status).toBe(200);
    const [structured, text] = deadLetters().map((d) => d.payload);
    expect(`${structured}\n${text}`).not.toMatch(/pat@example|Pat Example|415 555|203\.0\.113\.9|2001:db8:85a3:1234|198\.51\.100\.7|7946/i);
    const kept = JSON.parse(structured!) as { userId: string; traits: { email: string; phone: string }; context: { ip: string; userAgent: string }; timestamp: string };
    expect(kept.traits.email).toMatch(/^h_[0-9a-f]{32}$/);
    expect(kept.userId).toBe(kept.traits.email);
    expect(kept.traits.phone).toMatch(/^h_[0-9a-f]{32}$/);
    expect(kept.context).toEqual({ ip: "203.0.113.0", userAgent: "Chrome/124.0.0.0" });
    expect(kept.timestamp).toBe("2026-10-01T10:00:00.000Z");
    expect(text).toBe("not json: write to [email] from [ip] or [ip], call [phone]");
  });

  it("gzip uploads: lines decompressed and counted; not-gzip is a 400 and nothing is committed", async () => {
    fake();
    const text = ndjson(Array.from({ length: 1000 }, (_, i) => ({ type: "track", event: "Backfilled", anonymousId: `a${i}`, messageId: `g-${i}` })));
    const res = await upload("events", await gzip(text), { "content-encoding": "gzip" });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ lines: 1000, accepted: 1000, rejected_count: 0 });
    expect(await stored()).toHaveLength(1000);
    google.restore();
    fake();
    const bad = await upload("events", "not gzip at all", { "content-encoding": "gzip" });
    expect(bad.status).toBe(400);
    expect((await bad.json<{ error: { message: string } }>()).error.message).toMatch(/not valid gzip/);
    expect(google.requests.some((r) => r.method === "PUT" && !r.headers.get("content-range")?.endsWith("/*"))).toBe(false);
    expect(notifications()).toHaveLength(0);
  });

  it("a file with nothing valid, or too many invalid lines, is refused whole (400) and nothing is committed", async () => {
    fake();
    const none = await upload("events", ndjson([{ type: "track" }, "{", { type: "nope" }]));
    expect(none.status).toBe(400);
    expect(await none.json()).toMatchObject({ error: { code: "invalid_event" }, rejected: [{ index: 0 }, { index: 1 }, { index: 2 }] });
    const junk = await upload("events", ndjson([{ type: "track", event: "E", anonymousId: "a" }, ...Array.from({ length: 1001 }, () => "junk")]));
    expect(junk.status).toBe(400);
    const body = await junk.json<{ error: { message: string }; rejected: unknown[] }>();
    expect(body.error.message).toMatch(/more invalid lines than an upload may have/);
    expect(body.rejected).toHaveLength(100);
    expect(notifications()).toHaveLength(0);
    expect(deadLetters()).toHaveLength(0);
  });

  it("streams large uploads in 256 KiB-multiple chunks and reads the request only as fast as Cloud Storage takes it (gzip too)", async () => {
    // Incompressible properties, so the stored object outgrows one chunk.
    const random = (n: number) => btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(n))));
    const EVENTS = 16_000;
    const zipped = await gzip(ndjson(Array.from({ length: EVENTS }, (_, i) => ({ type: "track", event: "E", anonymousId: "a", messageId: `big-${i}`, properties: { blob: random(768) } }))));
    let served = 0;
    const held: number[] = [];
    // Cloud Storage takes its time over the first chunk (waited for inside the Worker's own request).
    fake({
      beforeFirstChunk: async () => {
        held.push(served);
        await new Promise((r) => setTimeout(r, 1500));
        held.push(served);
      },
    });
    const body = new ReadableStream<Uint8Array>(
      {
        pull(c) {
          if (served >= zipped.byteLength) return c.close();
          const piece = zipped.slice(served, served + 256 * 1024);
          served += piece.byteLength;
          c.enqueue(piece);
        },
      },
      { highWaterMark: 0 },
    );
    const res = await upload("events", body, { "content-encoding": "gzip" });
    expect(res.status).toBe(200);
    const out = await res.json<BulkOut>();
    expect(out.accepted).toBe(EVENTS);
    // While the chunk was held, the request was not read on (at most what was already in flight).
    expect(held[0]!).toBeLessThan(zipped.byteLength);
    expect(held[1]! - held[0]!).toBeLessThanOrEqual(512 * 1024);
    const puts = google.requests.filter((r) => r.method === "PUT");
    expect(puts.length).toBeGreaterThan(1);
    for (const p of puts.slice(0, -1)) {
      expect(p.body.byteLength).toBe(CHUNK_BYTES);
      expect(p.headers.get("content-range")).toMatch(/^bytes \d+-\d+\/\*$/);
    }
    expect(puts.at(-1)!.headers.get("content-range")).toBe(`bytes ${out.bytes - puts.at(-1)!.body.byteLength}-${out.bytes - 1}/${out.bytes}`);
    expect(await stored()).toHaveLength(EVENTS);
  }, 120_000);
});

describe("webhooks", () => {
  const delivery = (id: string, over: Record<string, unknown> = {}) => ({
    headers: { "X-Shopify-Topic": "orders/create", "X-Shopify-Webhook-Id": id, "X-Shopify-Shop-Domain": "demo.myshopify.com", "X-Shopify-Triggered-At": "2026-09-01T08:00:00Z" },
    body: { id: 1001, email: "buyer@example.com", total_price: "20.00", ...over },
  });
  const signed = async (text: string, secret = "local_shopify_secret") => ({ authorization: bearer(SHOPIFY_BULK_TOKEN), "x-tideline-signature": await tidelineSignature(secret, text) });

  it("needs the token of the source and the file signed with the source's own secret", async () => {
    fake();
    const text = ndjson([delivery("w-1"), { headers: { "x-shopify-topic": "orders/paid" }, body: JSON.stringify({ id: 1002 }) }, { body: { id: 1 } }]);
    const res = await upload("webhooks", text, await signed(text));
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ lines: 3, accepted: 2, rejected: [{ index: 2, error: expect.stringMatching(/X-Shopify-Topic/) }] });
    const [a, b] = (await stored()).map((r) => WebhookRecord.parse(r));
    expect(a).toMatchObject({ provider: "shopify", source: "shopify", webhook_id: "w-1", topic: "orders/create", account: "demo.myshopify.com", event_ts: "2026-09-01T08:00:00.000Z", event_id: stableId("shopify", "shopify", "w-1") });
    expect((a!.payload as { email: string }).email).toMatch(/^h_[0-9a-f]{32}$/);
    expect(b).toMatchObject({ topic: "orders/paid", webhook_id: expect.stringMatching(/^body-/) });
    expect(google.started()!.metadata).toMatchObject({ stream: "webhooks", source: "shopify" });
  });

  it("a file signed with another secret, or not signed, is refused and never committed", async () => {
    fake();
    const text = ndjson([delivery("w-2")]);
    const forged = await upload("webhooks", text, await signed(text, "guess"));
    expect(forged.status).toBe(401);
    expect((await forged.json<{ error: { code: string } }>()).error.code).toBe("bad_signature");
    expect(google.requests.some((r) => r.method === "DELETE")).toBe(true);
    expect(notifications()).toHaveLength(0);
    const unsigned = await upload("webhooks", text, { authorization: bearer(SHOPIFY_BULK_TOKEN) });
    expect(unsigned.status).toBe(401);
    // A write key or the events token cannot upload Shopify orders at all.
    expect((await upload("webhooks", text, { authorization: basic(WRITE_KEY), "x-tideline-signature": (await signed(text))["x-tideline-signature"] })).status).toBe(401);
  });
});

describe("cdc", () => {
  const change = (id: number, source: Record<string, unknown>) => ({ op: "u", after: { id, status: "paid", email: "a@b.example" }, source: { connector: "postgresql", name: "shop", db: "shop", schema: "public", table: "orders", ...source } });

  it("takes the CDC token; positions are checked per connector; PII columns hashed", async () => {
    fake();
    const text = ndjson([change(1, { lsn: 1000 }), change(2, { lsn: "9".repeat(30) }), change(3, { connector: "sqlserver", commit_lsn: "f".repeat(40) }), null]);
    const res = await upload("cdc", text, { authorization: "Bearer local_cdc_token" });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ lines: 4, accepted: 1, rejected_count: 2, tombstones: 1 });
    const [r] = (await stored()).map((x) => CdcRecord.parse(x));
    expect(r).toMatchObject({ source_table: "orders", position: `${"0".repeat(16)}1000:${"0".repeat(16)}1000`, after: { id: 1, status: "paid", email: expect.stringMatching(/^h_/) } });
    expect(deadLetters().map((d) => d.reason)).toEqual([expect.stringMatching(/source position/), expect.stringMatching(/source position/)]);
    expect(google.started()!.metadata).toMatchObject({ stream: "cdc", source: "cdc" });
  });
});

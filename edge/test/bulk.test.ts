import { SELF } from "cloudflare:test";
import { afterEach, beforeEach, expect, it } from "vitest";
import { transport } from "../src/google/http.js";
import { CHUNK_BYTES } from "../src/bulk/resumable.js";
import { basic, gzip, WRITE_KEY } from "./support/queue.js";

/** A stand-in for the Cloud Storage resumable protocol and Pub/Sub publish, recording every request. */
let requests: { method: string; url: string; headers: Headers; bytes: number }[] = [];
let stored = new Uint8Array();
let published: { attributes: Record<string, string>; data: string }[] = [];
const realFetch = transport.fetch;

beforeEach(() => {
  requests = [];
  stored = new Uint8Array();
  published = [];
  transport.fetch = async (url, init) => {
    const body = init?.body ? new Uint8Array(init.body instanceof Uint8Array ? init.body : new TextEncoder().encode(String(init.body))) : new Uint8Array();
    const headers = new Headers(init?.headers);
    requests.push({ method: init?.method ?? "GET", url, headers, bytes: body.byteLength });
    if (url.includes("uploadType=resumable")) return new Response(null, { status: 200, headers: { location: "http://127.0.0.1:4443/upload/session/abc" } });
    if (url.endsWith("/upload/session/abc") && init?.method === "PUT") {
      const merged = new Uint8Array(stored.byteLength + body.byteLength);
      merged.set(stored);
      merged.set(body, stored.byteLength);
      stored = merged;
      const range = headers.get("content-range")!;
      if (range.endsWith("/*")) return new Response(null, { status: 308, headers: { range: `bytes=0-${stored.byteLength - 1}` } });
      return Response.json({ bucket: "tideline-local-landing", name: "x", generation: "1764000000000001", size: String(stored.byteLength) });
    }
    if (url.endsWith(":publish")) {
      const msgs = (JSON.parse(new TextDecoder().decode(body)) as { messages: { attributes: Record<string, string>; data: string }[] }).messages;
      published.push(...msgs.map((m) => ({ attributes: m.attributes, data: atob(m.data) })));
      return Response.json({ messageIds: ["1"] });
    }
    return new Response("unexpected", { status: 500 });
  };
});
afterEach(() => {
  transport.fetch = realFetch;
});

const ndjson = (n: number) => Array.from({ length: n }, (_, i) => JSON.stringify({ type: "track", event: "Backfilled", anonymousId: `a${i}`, pad: "x".repeat(200) })).join("\n") + "\n";

it("streams an NDJSON upload in 256 KiB-multiple chunks into the landing bucket and announces it like a GCS notification", async () => {
  const body = ndjson(60_000);
  const res = await SELF.fetch("https://edge.test/v1/bulk/events", { method: "POST", headers: { authorization: basic(WRITE_KEY), "content-type": "application/x-ndjson" }, body });
  expect(res.status).toBe(200);
  const out = await res.json<{ bucket: string; object: string; bytes: number; lines: number }>();
  expect(out).toMatchObject({ bucket: "tideline-local-landing", bytes: body.length, lines: 60_000 });
  expect(out.object).toMatch(/^landing\/events\/dt=\d{4}-\d\d-\d\d\/[\w-]+\.ndjson$/);
  expect(new TextDecoder().decode(stored)).toBe(body);

  const start = requests[0]!;
  expect(start.method).toBe("POST");
  const u = new URL(start.url);
  expect(u.pathname).toBe("/upload/storage/v1/b/tideline-local-landing/o");
  expect(u.searchParams.get("uploadType")).toBe("resumable");
  expect(u.searchParams.get("ifGenerationMatch")).toBe("0");
  const puts = requests.filter((r) => r.method === "PUT");
  expect(puts.length).toBeGreaterThan(1);
  for (const p of puts.slice(0, -1)) {
    expect(p.bytes % (256 * 1024)).toBe(0);
    expect(p.bytes).toBe(CHUNK_BYTES);
    expect(p.headers.get("content-range")).toMatch(/^bytes \d+-\d+\/\*$/);
  }
  expect(puts.at(-1)!.headers.get("content-range")).toBe(`bytes ${body.length - puts.at(-1)!.bytes}-${body.length - 1}/${body.length}`);

  expect(published).toHaveLength(1);
  expect(published[0]!.attributes).toMatchObject({ eventType: "OBJECT_FINALIZE", payloadFormat: "JSON_API_V1", bucketId: "tideline-local-landing", objectId: out.object, objectGeneration: "1764000000000001" });
  expect(requests.find((r) => r.url.endsWith(":publish"))!.url).toBe("http://127.0.0.1:8085/v1/projects/tideline-local/topics/landing-notifications:publish");
});

it("keeps gzip uploads compressed and counts their lines", async () => {
  const text = ndjson(1000);
  const zipped = await gzip(text);
  const res = await SELF.fetch("https://edge.test/v1/bulk/cdc", { method: "POST", headers: { authorization: basic(WRITE_KEY), "content-encoding": "gzip" }, body: zipped });
  expect(res.status).toBe(200);
  const out = await res.json<{ object: string; bytes: number; lines: number }>();
  expect(out.object).toMatch(/\.ndjson\.gz$/);
  expect(out).toMatchObject({ bytes: zipped.byteLength, lines: 1000 });
  expect(stored).toEqual(zipped);
});

it("refuses unknown streams, missing credentials and oversize uploads before storing anything", async () => {
  expect((await SELF.fetch("https://edge.test/v1/bulk/orders", { method: "POST", headers: { authorization: basic(WRITE_KEY) }, body: "{}" })).status).toBe(404);
  expect((await SELF.fetch("https://edge.test/v1/bulk/events", { method: "POST", body: "{}" })).status).toBe(401);
  const big = await SELF.fetch("https://edge.test/v1/bulk/events", { method: "POST", headers: { authorization: basic(WRITE_KEY), "content-length": String(200 * 1024 * 1024) }, body: "{}" });
  expect(big.status).toBe(413);
  expect(requests).toHaveLength(0);
});

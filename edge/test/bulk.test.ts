import { SELF } from "cloudflare:test";
import { afterEach, beforeEach, expect, it } from "vitest";
import { CHUNK_BYTES } from "../src/bulk/resumable.js";
import { basic, gzip, WRITE_KEY } from "./support/queue.js";
import { installFakeGoogle } from "./support/fake-google.js";

let google: ReturnType<typeof installFakeGoogle>;
beforeEach(() => {
  google = installFakeGoogle();
});
afterEach(() => google.restore());

const ndjson = (n: number) => Array.from({ length: n }, (_, i) => JSON.stringify({ type: "track", event: "Backfilled", anonymousId: `a${i}`, pad: "x".repeat(200) })).join("\n") + "\n";

it("streams an NDJSON upload in 256 KiB-multiple chunks into the landing bucket and announces it like a GCS notification", async () => {
  const body = ndjson(60_000);
  const res = await SELF.fetch("https://edge.test/v1/bulk/events", { method: "POST", headers: { authorization: basic(WRITE_KEY), "content-type": "application/x-ndjson" }, body });
  expect(res.status).toBe(200);
  const out = await res.json<{ bucket: string; object: string; bytes: number; lines: number }>();
  expect(out).toMatchObject({ bucket: "tideline-local-landing", bytes: body.length, lines: 60_000 });
  expect(out.object).toMatch(/^landing\/events\/dt=\d{4}-\d\d-\d\d\/[\w-]+\.ndjson$/);
  expect(new TextDecoder().decode(google.stored())).toBe(body);

  const start = google.requests[0]!;
  expect(start.method).toBe("POST");
  const u = new URL(start.url);
  expect(u.pathname).toBe("/upload/storage/v1/b/tideline-local-landing/o");
  expect(u.searchParams.get("uploadType")).toBe("resumable");
  expect(u.searchParams.get("ifGenerationMatch")).toBe("0");
  const puts = google.requests.filter((r) => r.method === "PUT");
  expect(puts.length).toBeGreaterThan(1);
  for (const p of puts.slice(0, -1)) {
    expect(p.body.byteLength % (256 * 1024)).toBe(0);
    expect(p.body.byteLength).toBe(CHUNK_BYTES);
    expect(p.headers.get("content-range")).toMatch(/^bytes \d+-\d+\/\*$/);
  }
  expect(puts.at(-1)!.headers.get("content-range")).toBe(`bytes ${body.length - puts.at(-1)!.body.byteLength}-${body.length - 1}/${body.length}`);

  expect(google.published).toHaveLength(1);
  expect(google.published[0]!.attributes).toMatchObject({ eventType: "OBJECT_FINALIZE", payloadFormat: "JSON_API_V1", bucketId: "tideline-local-landing", objectId: out.object, objectGeneration: "1764000000000001" });
  expect(google.requests.find((r) => r.url.endsWith(":publish"))!.url).toBe("http://127.0.0.1:8085/v1/projects/tideline-local/topics/landing-notifications:publish");
});

it("keeps gzip uploads compressed and counts their lines", async () => {
  const text = ndjson(1000);
  const zipped = await gzip(text);
  const res = await SELF.fetch("https://edge.test/v1/bulk/cdc", { method: "POST", headers: { authorization: basic(WRITE_KEY), "content-encoding": "gzip" }, body: zipped });
  expect(res.status).toBe(200);
  const out = await res.json<{ object: string; bytes: number; lines: number }>();
  expect(out.object).toMatch(/\.ndjson\.gz$/);
  expect(out).toMatchObject({ bytes: zipped.byteLength, lines: 1000 });
  expect(google.stored()).toEqual(zipped);
});

it("refuses unknown streams, missing credentials and oversize uploads before storing anything", async () => {
  expect((await SELF.fetch("https://edge.test/v1/bulk/orders", { method: "POST", headers: { authorization: basic(WRITE_KEY) }, body: "{}" })).status).toBe(404);
  expect((await SELF.fetch("https://edge.test/v1/bulk/events", { method: "POST", body: "{}" })).status).toBe(401);
  const big = await SELF.fetch("https://edge.test/v1/bulk/events", { method: "POST", headers: { authorization: basic(WRITE_KEY), "content-length": String(200 * 1024 * 1024) }, body: "{}" });
  expect(big.status).toBe(413);
  expect(google.requests).toHaveLength(0);
});

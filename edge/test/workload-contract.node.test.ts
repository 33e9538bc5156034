/**
 * The generator's requests through the edge's own Hono app (in-process, in-memory queue): every
 * request of a small workload is accepted with nothing rejected, so the sender speaks the edge's API
 * (auth, signatures, Segment batches, Debezium envelopes) and not just our reading of API.md.
 */
import { describe, expect, it } from "vitest";
import { DEV_CREDENTIALS } from "../../contracts/defaults.js";
import { generateWorkload } from "../../workload/generate.js";
import { requestsFor } from "../../workload/send.js";
import { createApp } from "../src/app.js";

const EDGE = "http://edge.test";

describe("generator → edge contract", () => {
  it("the edge accepts every request of a workload, records queued per stream", async () => {
    const queued: Record<string, number> = {};
    const env = {
      ENVIRONMENT: "dev",
      WRITE_KEYS: JSON.stringify({ [DEV_CREDENTIALS.writeKey.value]: "web" }),
      SHOPIFY_SECRET: DEV_CREDENTIALS.shopifySecret.value,
      HUBSPOT_SECRET: DEV_CREDENTIALS.hubspotSecret.value,
      CDC_TOKEN: DEV_CREDENTIALS.cdcToken.value,
      IP_MODE: "truncate",
      IP_HASH_KEY: "k",
      PII_HASH_KEY: "k",
      CONSENT_MODE: "strip",
      CONSENT_REQUIRED: "false",
      PUBLIC_BASE_URL: EDGE,
      INGEST_QUEUE: {
        async sendBatch(msgs: { body: unknown }[]) {
          for (const m of msgs) {
            const body = typeof m.body === "string" ? m.body : JSON.stringify(m.body);
            const key = /"stream":"(\w+)"/.exec(body)?.[1] ?? "message";
            queued[key] = (queued[key] ?? 0) + 1;
          }
        },
        async send(body: unknown) {
          queued.message = (queued.message ?? 0) + (body ? 1 : 0);
        },
      },
      RATE_LIMITER: { async limit() { return { success: true }; } },
    };
    const ctx = { waitUntil() {}, passThroughOnException() {}, props: {} };
    const app = createApp();
    const items = generateWorkload({ seed: 3, days: 2, users: 60, start: new Date(Date.now() - 2 * 86_400_000) });
    const byPath: Record<string, number> = {};
    for (const req of requestsFor(items, EDGE)) {
      const res = await app.fetch(new Request(`${EDGE}${req.path}`, { method: "POST", headers: { ...req.headers, "cf-connecting-ip": "198.51.100.7" }, body: req.body }), env, ctx);
      const text = await res.text();
      expect(res.status, `${req.path}: ${text}`).toBe(200);
      const body = JSON.parse(text) as { rejected?: unknown[] };
      expect(body.rejected ?? [], `${req.path}: ${text}`).toEqual([]);
      byPath[req.path] = (byPath[req.path] ?? 0) + 1;
    }
    expect(Object.keys(byPath).sort()).toEqual(["/v1/batch", "/v1/cdc", "/v1/webhooks/hubspot", "/v1/webhooks/shopify"]);
    expect(Object.values(queued).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
  });
});

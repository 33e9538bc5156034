import { SELF, env } from "cloudflare:test";
import { expect, it, vi } from "vitest";
it("serves", async () => {
  const spy = vi.spyOn(env.INGEST_QUEUE, "sendBatch");
  const r = await SELF.fetch("http://x/v1/track", {
    method: "POST",
    headers: { authorization: "Basic " + btoa("local_dev_write_key:"), "content-type": "application/json", "cf-connecting-ip": "203.0.113.7", "user-agent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36" },
    body: JSON.stringify({ event: "Product Viewed", userId: "u1", messageId: "m1", timestamp: "2026-11-25T00:00:00Z", sentAt: "2026-11-25T00:00:01Z", properties: { sku: "A", email: "X@y.com" }, context: { page: { url: "https://shop.example/p?utm_source=google&utm_medium=cpc&gclid=abc", referrer: "https://www.google.com/" }, traits: { email: "a@b.c" } } }),
  });
  console.log(r.status, await r.text());
  console.log(JSON.stringify(spy.mock.calls, null, 1).slice(0, 3000));
  expect(r.status).toBe(200);
});

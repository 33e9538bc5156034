/**
 * A real Segment SDK (@segment/analytics-node) pointed at a running edge: its events arrive on the
 * `events` topic, enriched, once each.
 */
import { Analytics } from "@segment/analytics-node";
import { afterAll, beforeAll, expect, it } from "vitest";
import { EventRecord } from "../contracts/records.js";
import { startStack, subscribe, type Stack } from "./support/stack.js";

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
}, 180_000);
afterAll(async () => {
  await stack?.stop();
});

it("events sent with @segment/analytics-node arrive on the events topic, once each", async () => {
  const topic = await subscribe(stack.pubsub, "events");
  const analytics = new Analytics({ writeKey: "local_dev_write_key", host: stack.edgeUrl, flushAt: 20, flushInterval: 200, maxRetries: 3 });
  const errors: unknown[] = [];
  analytics.on("error", (e) => errors.push(e));
  const run = `sdk-${Date.now()}`;
  analytics.identify({ userId: `${run}-u1`, traits: { email: "buyer@example.com", plan: "pro" } });
  for (let i = 0; i < 25; i++) {
    analytics.track({ userId: `${run}-u1`, event: i % 5 === 4 ? "Order Completed" : "Product Viewed", properties: { sku: `SKU-${i}`, revenue: i % 5 === 4 ? 10 + i : undefined } });
  }
  analytics.page({ anonymousId: `${run}-anon`, name: "Home", properties: { url: "https://shop.example.com/?utm_source=sdk" } });
  analytics.group({ userId: `${run}-u1`, groupId: "acme" });
  analytics.alias({ userId: `${run}-u1`, previousId: `${run}-anon` });
  await analytics.closeAndFlush({ timeout: 20_000 });
  expect(errors).toEqual([]);

  const expected = 29;
  const mine = (ms: { data: string }[]) => ms.map((m) => EventRecord.parse(JSON.parse(m.data))).filter((r) => (r.user_id ?? r.anonymous_id ?? "").startsWith(run));
  const got = await topic.until((ms) => new Set(mine(ms).map((r) => r.event_id)).size >= expected, 60_000);
  await topic.close();
  const records = mine(got);
  const unique = new Map(records.map((r) => [r.event_id, r]));
  expect(unique.size).toBe(expected);
  const all = [...unique.values()];
  expect(all.filter((r) => r.type === "track")).toHaveLength(25);
  expect(all.map((r) => r.type).sort()).toEqual([...Array(25).fill("track"), "alias", "group", "identify", "page"].sort());
  const identify = all.find((r) => r.type === "identify")!;
  expect(identify.library_name).toBe("@segment/analytics-node");
  expect(identify.source).toBe("web");
  expect((identify.traits as { email: string }).email).toMatch(/^h_[0-9a-f]{32}$/);
  expect(identify.traits.plan).toBe("pro");
  const msg = got.find((m) => JSON.parse(m.data).event_id === identify.event_id)!;
  expect(msg.attributes).toMatchObject({ stream: "events", source: "web", event_id: identify.event_id, event_ts: identify.event_ts });
}, 120_000);

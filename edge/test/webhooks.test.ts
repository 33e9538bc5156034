import { SELF } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { WebhookRecord } from "../../contracts/records.js";
import { stableId } from "../src/enrich/hash.js";
import { gzip, watchQueue } from "./support/queue.js";
import { hubspotSignature, shopifySignature, tidelineSignature } from "./support/sign.js";

let q: ReturnType<typeof watchQueue>;
beforeEach(() => {
  q = watchQueue();
});
afterEach(() => q.restore());

const unique = () => `${Date.now()}-${Math.random().toString(36).slice(2)}`;
const records = () => q.records().map((r) => WebhookRecord.parse(r));

describe("Shopify", () => {
  // Each test its own order: one signed body is stored once, whatever ids it arrives under.
  const order = () => ({ id: Math.floor(Math.random() * 1e15), email: "jon@example.com", total_price: "199.00", currency: "EUR", line_items: [{ id: 1, sku: "SKU-1", quantity: 2 }] });
  const send = async (body: string, headers: Record<string, string> = {}, sign = true) =>
    SELF.fetch("https://edge.test/v1/webhooks/shopify", {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "x-shopify-topic": "orders/create",
        "x-shopify-shop-domain": "demo.myshopify.com",
        "x-shopify-triggered-at": "2026-11-25T09:00:00.000Z",
        ...(sign ? { "x-shopify-hmac-sha256": await shopifySignature("local_shopify_secret", body) } : {}),
        ...headers,
      },
      body,
    });

  it("accepts a signed delivery and queues one record, field by field, with the payload's PII pseudonymized", async () => {
    const id = `wh-${unique()}`;
    const body = JSON.stringify({
      ...order(),
      phone: "+49 30 1234567",
      customer: { id: 7, email: "Jon@Example.com", first_name: "Jon", last_name: "Doe", default_address: { address1: "Hauptstr. 1", city: "Berlin", zip: "10115", country_code: "DE" } },
      shipping_address: { name: "Jon Doe", address1: "Hauptstr. 1", city: "Berlin", zip: "10115", country_code: "DE", latitude: 52.52, longitude: 13.4 },
      browser_ip: "198.51.100.7",
    });
    const res = await send(body, { "x-shopify-webhook-id": id, "x-request-id": "req-shop" });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ success: true, accepted: 1, rejected: [], request_id: "req-shop" });
    const calls = q.calls();
    expect(calls.flat()).toHaveLength(1);
    expect(calls[0]![0]!.envelope.stream).toBe("webhooks");
    const [r] = records();
    expect(r).toEqual({
      event_id: stableId("shopify", "shopify", id),
      provider: "shopify",
      source: "shopify",
      webhook_id: id,
      topic: "orders/create",
      account: "demo.myshopify.com",
      event_ts: "2026-11-25T09:00:00.000Z",
      received_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      payload: expect.any(Object),
      request_id: "req-shop",
    });
    const sent = JSON.parse(body) as Record<string, unknown>;
    const p = r!.payload as typeof sent & { customer: Record<string, unknown> & { default_address: Record<string, unknown> }; shipping_address: Record<string, unknown> };
    const hashed = /^h_[0-9a-f]{32}$/;
    for (const v of [p.email, p.phone, p.browser_ip, p.customer.email, p.customer.first_name, p.customer.last_name, p.customer.default_address.address1, p.customer.default_address.zip, p.shipping_address.name, p.shipping_address.address1, p.shipping_address.latitude]) {
      expect(v).toMatch(hashed);
    }
    // One email, one pseudonym (normalized); what analysts group by is kept.
    expect(p.customer.email).toBe(p.email);
    expect(p).toMatchObject({ id: sent.id, total_price: "199.00", currency: "EUR", line_items: sent.line_items, customer: { id: 7, default_address: { city: "Berlin", country_code: "DE" } }, shipping_address: { city: "Berlin", country_code: "DE" } });
    expect(JSON.stringify(p)).not.toMatch(/jon@example|Hauptstr|Doe|10115|198\.51\.100|1234567/i);
  });

  it("a replayed delivery (same webhook id) gets 200 and is stored once", async () => {
    const id = `wh-${unique()}`;
    const body = JSON.stringify(order());
    expect((await send(body, { "x-shopify-webhook-id": id })).status).toBe(200);
    const again = await send(body, { "x-shopify-webhook-id": id });
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ success: true, accepted: 0, duplicate: true });
    expect(records()).toHaveLength(1);
  });

  it("a replayed signed body under new webhook ids and relabelled topics is stored once", async () => {
    const body = JSON.stringify(order());
    expect(await (await send(body, { "x-shopify-webhook-id": `wh-${unique()}`, "x-shopify-topic": "orders/create" })).json()).toMatchObject({ accepted: 1 });
    for (const topic of ["orders/create", "orders/cancelled", "refunds/create"]) {
      const replay = await send(body, { "x-shopify-webhook-id": `wh-${unique()}`, "x-shopify-event-id": unique(), "x-shopify-topic": topic });
      expect(replay.status).toBe(200);
      expect(await replay.json()).toMatchObject({ success: true, accepted: 0, duplicate: true });
    }
    expect(records()).toHaveLength(1);
    expect(records()[0]!.topic).toBe("orders/create");
  });

  it("401 for a forged signature, a modified body and a missing signature; nothing queued", async () => {
    const body = JSON.stringify(order());
    const forged = await send(body, { "x-shopify-webhook-id": unique(), "x-shopify-hmac-sha256": await shopifySignature("wrong_secret", body) });
    expect(forged.status).toBe(401);
    expect((await forged.json<{ error: { code: string } }>()).error.code).toBe("bad_signature");
    const sig = await shopifySignature("local_shopify_secret", body);
    const tampered = await send(body.replace("199.00", "1.00"), { "x-shopify-webhook-id": unique(), "x-shopify-hmac-sha256": sig });
    expect(tampered.status).toBe(401);
    const unsigned = await send(body, { "x-shopify-webhook-id": unique() }, false);
    expect(unsigned.status).toBe(401);
    expect(q.spy).not.toHaveBeenCalled();
  });

  it("verifies the signature over the raw bytes of a gzip body (decompressed by the edge)", async () => {
    const body = JSON.stringify(order());
    const res = await SELF.fetch("https://edge.test/v1/webhooks/shopify", {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "content-encoding": "gzip",
        "x-shopify-topic": "orders/paid",
        "x-shopify-webhook-id": unique(),
        "x-shopify-hmac-sha256": await shopifySignature("local_shopify_secret", body),
      },
      body: await gzip(body),
    });
    expect(res.status).toBe(200);
    expect(records()[0]!.topic).toBe("orders/paid");
  });

  it("400 for malformed JSON and a missing topic; 413 for an oversize delivery", async () => {
    const bad = "{not json";
    expect((await send(bad, { "x-shopify-webhook-id": unique() })).status).toBe(400);
    const body = JSON.stringify(order());
    const noTopic = await SELF.fetch("https://edge.test/v1/webhooks/shopify", {
      method: "POST",
      headers: { "x-shopify-hmac-sha256": await shopifySignature("local_shopify_secret", body), "x-shopify-webhook-id": unique() },
      body,
    });
    expect(noTopic.status).toBe(400);
    const huge = JSON.stringify({ ...order(), note: "x".repeat(200_000) });
    const big = await send(huge, { "x-shopify-webhook-id": unique() });
    expect(big.status).toBe(413);
    expect((await big.json<{ error: { message: string } }>()).error.message).toMatch(/128 KB/);
    const tooBig = JSON.stringify({ note: "x".repeat(1_100_000) });
    expect((await send(tooBig, { "x-shopify-webhook-id": unique() })).status).toBe(413);
    expect(q.spy).not.toHaveBeenCalled();
  });
});

describe("HubSpot v3", () => {
  const url = "https://edge.test/v1/webhooks/hubspot";
  const events = (n: number, base: number) =>
    Array.from({ length: n }, (_, i) => ({
      eventId: base + i,
      subscriptionId: 1,
      portalId: 62515,
      appId: 7,
      occurredAt: 1795600000000 + i,
      subscriptionType: "contact.propertyChange",
      attemptNumber: 0,
      objectId: 123 + i,
      propertyName: "lifecyclestage",
      propertyValue: "customer",
      changeSource: "CRM",
    }));
  const send = async (body: string, timestamp = String(Date.now()), secret = "local_hubspot_secret") =>
    SELF.fetch(url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "x-hubspot-request-timestamp": timestamp,
        "x-hubspot-signature-v3": await hubspotSignature(secret, "POST", url, body, timestamp),
      },
      body,
    });

  it("accepts a signed batch as one record per event", async () => {
    const base = Math.floor(Math.random() * 1e9);
    const res = await send(JSON.stringify(events(3, base)));
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ accepted: 3 });
    const rs = records();
    expect(rs.map((r) => r.webhook_id)).toEqual([0, 1, 2].map((i) => `62515:${base + i}`));
    expect(rs[0]).toMatchObject({ provider: "hubspot", source: "hubspot", topic: "contact.propertyChange", account: "62515", event_ts: new Date(1795600000000).toISOString() });
    expect((rs[1]!.payload as { objectId: number }).objectId).toBe(124);
  });

  it("a replayed batch is not stored again; a partly new batch stores only the new events", async () => {
    const base = Math.floor(Math.random() * 1e9);
    await send(JSON.stringify(events(2, base)));
    const replay = await send(JSON.stringify(events(2, base)));
    expect(await replay.json()).toMatchObject({ accepted: 0, duplicate: true, duplicates: 2 });
    const partly = await send(JSON.stringify(events(3, base)));
    expect(await partly.json()).toMatchObject({ accepted: 1, duplicates: 2 });
    expect(records()).toHaveLength(3);
  });

  it("401 stale_signature for a timestamp older than 5 minutes, 401 for a forged signature", async () => {
    const body = JSON.stringify(events(1, 1));
    const old = await send(body, String(Date.now() - 6 * 60_000));
    expect(old.status).toBe(401);
    expect((await old.json<{ error: { code: string } }>()).error.code).toBe("stale_signature");
    const forged = await send(body, String(Date.now()), "not_the_secret");
    expect(forged.status).toBe(401);
    expect((await forged.json<{ error: { code: string } }>()).error.code).toBe("bad_signature");
    expect(q.spy).not.toHaveBeenCalled();
  });

  it("pseudonymizes the new value of PII properties (email, names, phone) and keeps the others", async () => {
    const base = Math.floor(Math.random() * 1e9);
    const change = (i: number, propertyName: string, propertyValue: string) => ({ ...events(1, base + i)[0]!, propertyName, propertyValue });
    await send(JSON.stringify([change(0, "email", "Ann@Example.com"), change(1, "firstname", "Ann"), change(2, "lifecyclestage", "customer")]));
    const values = records().map((r) => (r.payload as { propertyValue: string }).propertyValue);
    expect(values[0]).toMatch(/^h_[0-9a-f]{32}$/);
    expect(values[1]).toMatch(/^h_[0-9a-f]{32}$/);
    expect(values[2]).toBe("customer");
  });

  it("400 for a body that is not HubSpot's array of events", async () => {
    const res = await send(JSON.stringify({ hello: "world" }));
    expect(res.status).toBe(400);
  });
});

describe("generic signed webhooks", () => {
  const send = async (source: string, body: string, headers: Record<string, string> = {}, secret = "local_webhook_secret", t?: number) =>
    SELF.fetch(`https://edge.test/v1/webhooks/${source}`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-tideline-signature": await tidelineSignature(secret, body, t), ...headers },
      body,
    });

  it("accepts a signed delivery with an Idempotency-Key; a replay is stored once", async () => {
    const key = `idem-${unique()}`;
    const body = JSON.stringify({ type: "deal.updated", occurred_at: "2026-11-24T08:00:00Z", deal: { id: 9, stage: "won" } });
    const res = await send("crm", body, { "idempotency-key": key });
    expect(res.status).toBe(200);
    const replay = await send("crm", body, { "idempotency-key": key });
    expect(await replay.json()).toMatchObject({ accepted: 0, duplicate: true });
    const rs = records();
    expect(rs).toHaveLength(1);
    expect(rs[0]).toMatchObject({
      event_id: stableId("generic", "crm", key),
      provider: "generic",
      source: "crm",
      webhook_id: key,
      topic: "deal.updated",
      account: null,
      event_ts: "2026-11-24T08:00:00.000Z",
    });
  });

  it("without an Idempotency-Key the body hash is the delivery id, so an identical resend dedups", async () => {
    const body = JSON.stringify({ event: "ticket.closed", n: unique() });
    await send("crm", body);
    const again = await send("crm", body);
    expect(await again.json()).toMatchObject({ duplicate: true });
    expect(records()).toHaveLength(1);
    expect(records()[0]!.webhook_id).toMatch(/^body-[0-9a-f]{32}$/);
  });

  it("unsigned headers decide nothing: the topic comes from the signed body, and a replay under a new Idempotency-Key is stored once", async () => {
    const body = JSON.stringify({ type: "deal.won", deal: { id: unique() }, email: "Buyer@Example.com" });
    const first = await send("crm", body, { "idempotency-key": `k-${unique()}`, "x-tideline-topic": "refunds" });
    expect(await first.json()).toMatchObject({ accepted: 1 });
    const replay = await send("crm", body, { "idempotency-key": `k-${unique()}`, "x-tideline-topic": "chargebacks" });
    expect(await replay.json()).toMatchObject({ accepted: 0, duplicate: true });
    const rs = records();
    expect(rs).toHaveLength(1);
    expect(rs[0]!.topic).toBe("deal.won");
    expect((rs[0]!.payload as { email: string }).email).toMatch(/^h_[0-9a-f]{32}$/);
  });

  it("accepts any of several v1 signatures (secret rotation)", async () => {
    const body = JSON.stringify({ type: "x", n: unique() });
    const t = Math.floor(Date.now() / 1000);
    const old = (await tidelineSignature("old_secret", body, t)).split(",")[1];
    const cur = await tidelineSignature("local_webhook_secret", body, t);
    const res = await SELF.fetch("https://edge.test/v1/webhooks/crm", { method: "POST", headers: { "x-tideline-signature": `${cur.split(",")[0]},${old},${cur.split(",")[1]}` }, body });
    expect(res.status).toBe(200);
  });

  it("401 for stale (> 300 s) and forged signatures and for sources without a secret", async () => {
    const body = JSON.stringify({ type: "x" });
    const stale = await send("crm", body, {}, "local_webhook_secret", Math.floor(Date.now() / 1000) - 301);
    expect(stale.status).toBe(401);
    expect((await stale.json<{ error: { code: string } }>()).error.code).toBe("stale_signature");
    const forged = await send("crm", body, {}, "guess");
    expect((await forged.json<{ error: { code: string } }>()).error.code).toBe("bad_signature");
    const unknown = await send("stripe", body);
    expect(unknown.status).toBe(401);
    expect((await unknown.json<{ error: { hint: string } }>()).error.hint).toMatch(/WEBHOOK_SECRETS/);
    const malformed = await SELF.fetch("https://edge.test/v1/webhooks/crm", { method: "POST", headers: { "x-tideline-signature": "garbage" }, body });
    expect(malformed.status).toBe(401);
    expect(q.spy).not.toHaveBeenCalled();
  });
});

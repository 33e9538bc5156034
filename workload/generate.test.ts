/** The workload generator: deterministic for a seed, realistic ratios, edge requests as the API documents them. */
import { createHmac } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { catalogueItems, generateWorkload, visitorItems, workloadStats, type WorkloadItem } from "./generate.js";
import { hubspotRequest, requestsFor, SendError, sendRequests, shopifyRequest, type EdgeRequest } from "./send.js";
import { writeWorkloadRows } from "./rows.js";
import { createTestWarehouse } from "../warehouse/models/testing/fixtures.js";
import { runModels } from "../warehouse/models/run.js";

const OPTS = { seed: 11, days: 14, users: 1500, start: new Date("2026-03-01T00:00:00Z") };

describe("workload generation", () => {
  const items = generateWorkload(OPTS);
  const stats = workloadStats(items);

  it("is deterministic for a seed and differs between seeds", () => {
    expect(JSON.stringify(generateWorkload(OPTS))).toBe(JSON.stringify(items));
    expect(JSON.stringify(generateWorkload({ ...OPTS, seed: 12 }))).not.toBe(JSON.stringify(items));
    // The whole workload is exactly the visitors' timelines (what rows mode streams one by one) plus the catalogue.
    const streamed = [...catalogueItems(OPTS), ...Array.from({ length: OPTS.users }, (_, v) => visitorItems(OPTS, v)).flat()];
    const key = (i: WorkloadItem) => JSON.stringify(i);
    expect(streamed.map(key).sort()).toEqual(items.map(key).sort());
  });

  it("has realistic counts and ratios", () => {
    const e = stats.byEvent;
    const sessions = items.filter((i) => i.kind === "event" && !i.bot && !i.duplicate && !i.server && i.event.context.page!.referrer.startsWith("https://shop.example.com") === false && i.event.type === "page").length;
    expect(stats.visitors).toBe(1500);
    expect(stats.events / 1500).toBeGreaterThan(5);
    expect(stats.events / 1500).toBeLessThan(30);
    // Funnel narrows at every step; a few percent of sessions order.
    expect(e["Product Viewed"]!).toBeGreaterThan(e["Product Added"]!);
    expect(e["Product Added"]!).toBeGreaterThan(e["Checkout Started"]!);
    expect(e["Checkout Started"]!).toBeGreaterThan(e["Order Completed"]!);
    expect(e["Order Completed"]! / sessions).toBeGreaterThan(0.01);
    expect(e["Order Completed"]! / sessions).toBeLessThan(0.08);
    // Every completed order is a CDC order with lines and a Shopify orders/create webhook.
    expect(stats.cdc["orders:c"]).toBe(e["Order Completed"]);
    expect(stats.cdc["order_items:c"]!).toBeGreaterThanOrEqual(e["Order Completed"]!);
    expect(stats.shopify["orders/create"]).toBe(e["Order Completed"]);
    expect((stats.shopify["refunds/create"] ?? 0) + (stats.shopify["orders/cancelled"] ?? 0)).toBeGreaterThan(0);
    expect(stats.hubspot).toBe(stats.cdc["customers:c"]);
    // The backend reports a share of the orders and every cancellation and refund, server-side.
    const server = items.filter((i): i is Extract<WorkloadItem, { kind: "event" }> => i.kind === "event" && i.server === true);
    expect(server.length).toBe(stats.serverEvents);
    expect(server.every((i) => i.event.userId && !i.event.anonymousId && !i.event.context.userAgent && !i.event.context.page && i.event.context.library.name === "analytics-node")).toBe(true);
    const serverOrders = server.filter((i) => i.event.event === "Order Completed").length / e["Order Completed"]!;
    expect(serverOrders).toBeGreaterThan(0.15);
    expect(serverOrders).toBeLessThan(0.35);
    expect(e["Order Cancelled"]).toBe(stats.shopify["orders/cancelled"]);
    expect(e["Order Refunded"]).toBe(stats.shopify["refunds/create"]);
    // Noise: bots, duplicates and late events in modest shares.
    expect(stats.botEvents / stats.events).toBeGreaterThan(0.02);
    expect(stats.botEvents / stats.events).toBeLessThan(0.2);
    expect(stats.duplicates / stats.events).toBeGreaterThan(0.003);
    expect(stats.duplicates / stats.events).toBeLessThan(0.03);
    expect(stats.late / stats.events).toBeGreaterThan(0.01);
    expect(stats.late / stats.events).toBeLessThan(0.04);
    // Returning visitors and campaign landings.
    const sessionsPerVisitor = new Map<string, number>();
    let utm = 0;
    for (const i of items) {
      if (i.kind !== "event" || i.bot || i.duplicate || i.server || i.event.context.page!.referrer.startsWith("https://shop.example.com")) continue;
      if (i.event.type !== "page") continue;
      sessionsPerVisitor.set(i.event.anonymousId!, (sessionsPerVisitor.get(i.event.anonymousId!) ?? 0) + 1);
      if (i.event.context.page!.url.includes("utm_source=")) utm++;
    }
    const returning = [...sessionsPerVisitor.values()].filter((n) => n > 1).length / sessionsPerVisitor.size;
    expect(returning).toBeGreaterThan(0.2);
    expect(utm / sessions).toBeGreaterThan(0.2);
    expect(utm / sessions).toBeLessThan(0.6);
  });

  it("delivers in time order, with late events after later ones and CDC changes in source order per row", () => {
    for (let i = 1; i < items.length; i++) expect(items[i]!.at).toBeGreaterThanOrEqual(items[i - 1]!.at);
    const late = items.find((i): i is Extract<WorkloadItem, { kind: "event" }> => i.kind === "event" && i.late)!;
    expect(late.at - Date.parse(late.event.timestamp)).toBeGreaterThan(3_600_000);
    const lastLsn = new Map<string, number>();
    for (const i of items) {
      if (i.kind !== "cdc") continue;
      expect(i.change.source).toMatchObject({ connector: "postgresql", name: "shop", db: "shop", schema: "public" });
      const row = `${i.change.source.table}:${String((i.change.after ?? i.change.before)!.id)}`;
      expect(i.change.source.lsn).toBeGreaterThan(lastLsn.get(row) ?? -1);
      lastLsn.set(row, i.change.source.lsn);
      if (i.change.op === "u") expect(i.change.before).not.toBeNull();
    }
  });
});

describe("edge requests", () => {
  const edge = "http://127.0.0.1:8787";
  it("batches events within Segment's limits with Basic auth, and CDC with the bearer token", () => {
    const items = generateWorkload({ ...OPTS, users: 300 });
    const reqs = [...requestsFor(items, edge)];
    const batches = reqs.filter((r) => r.path === "/v1/batch");
    expect(batches.length).toBeGreaterThan(1);
    for (const b of batches) {
      expect(b.headers.authorization).toBe(`Basic ${Buffer.from("local_dev_write_key:").toString("base64")}`);
      expect(b.items).toBeLessThanOrEqual(100);
      expect(Buffer.byteLength(b.body)).toBeLessThan(500 * 1024);
      expect((JSON.parse(b.body) as { batch: unknown[] }).batch).toHaveLength(b.items);
    }
    const cdc = reqs.find((r) => r.path === "/v1/cdc")!;
    expect(cdc.headers.authorization).toBe("Bearer local_cdc_token");
    expect(reqs.reduce((n, r) => n + r.items, 0)).toBe(items.reduce((n, i) => n + (i.kind === "hubspot" ? i.body.length : 1), 0));
  });

  it("signs Shopify and HubSpot webhooks as the providers do", () => {
    const s = shopifyRequest("orders/create", "wh-1", { id: "o1", total_price: "10.00" });
    expect(s.headers["x-shopify-hmac-sha256"]).toBe(createHmac("sha256", "local_shopify_secret").update(s.body).digest("base64"));
    expect(s.headers).toMatchObject({ "x-shopify-topic": "orders/create", "x-shopify-webhook-id": "wh-1", "x-shopify-shop-domain": "tideline-demo.myshopify.com" });
    const h = hubspotRequest(edge, [{ eventId: 1 }], undefined, 1_760_000_000_000);
    expect(h.headers["x-hubspot-request-timestamp"]).toBe("1760000000000");
    expect(h.headers["x-hubspot-signature-v3"]).toBe(
      createHmac("sha256", "local_hubspot_secret").update(`POST${edge}/v1/webhooks/hubspot[{"eventId":1}]1760000000000`).digest("base64"),
    );
  });

  it("sends over HTTP, retrying 429 with Retry-After and stopping on 401 with the status", async () => {
    const seen: string[] = [];
    let first = true;
    const server = createServer((req, res) => {
      let body = "";
      req.on("data", (c: Buffer) => (body += c.toString()));
      req.on("end", () => {
        if (req.url === "/v1/batch" && first) {
          first = false;
          res.writeHead(429, { "retry-after": "0" }).end("{}");
          return;
        }
        if (req.headers.authorization === "Bearer wrong") {
          res.writeHead(401, { "content-type": "application/json" }).end('{"error":"bad token"}');
          return;
        }
        seen.push(`${req.url} ${body.length}`);
        res.writeHead(200, { "content-type": "application/json" }).end('{"accepted":1,"rejected":[]}');
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const reqs: EdgeRequest[] = [...requestsFor(generateWorkload({ ...OPTS, users: 30 }), url)];
      const r = await sendRequests(url, reqs, { concurrency: 2 });
      expect(r.requests).toBe(reqs.length);
      expect(r.retries).toBe(1);
      expect(seen).toHaveLength(reqs.length);
      const bad: EdgeRequest = { path: "/v1/cdc", headers: { authorization: "Bearer wrong" }, body: "[]", items: 0 };
      await expect(sendRequests(url, [bad])).rejects.toThrow(SendError);
      await expect(sendRequests(url, [bad])).rejects.toThrow(/answered 401 to POST \/v1\/cdc/);
    } finally {
      server.close();
    }
  });
});

describe("rows mode", () => {
  it("writes the workload as the pipeline would store it, and the models build on it with every assertion passing", async () => {
    const w = await createTestWarehouse();
    try {
      const o = { ...OPTS, users: 400, days: 10 };
      const r = await writeWorkloadRows(w.exec, o, { chunkUsers: 150, loadedAt: "2026-03-20T00:00:00Z" });
      const stats = workloadStats(generateWorkload(o));
      expect(r.events).toBe(stats.events - stats.duplicates);
      expect(await w.rows("SELECT count(*)::INT AS n, sum(is_bot::INT)::INT AS bots FROM raw.events")).toEqual([{ n: r.events, bots: stats.botEvents }]);
      expect(await w.rows("SELECT count(*)::INT AS n FROM core.orders")).toEqual([{ n: stats.cdc["orders:c"] }]);
      const run = await runModels(w.exec, {});
      expect(run.results.filter((x) => x.kind === "assertion").length).toBeGreaterThan(30);
      const [k] = await w.rows<{ sessions: number; orders: number }>("SELECT sum(sessions)::INT AS sessions, sum(orders)::INT AS orders FROM marts.daily_kpis");
      expect(k!.sessions).toBeGreaterThan(400);
      expect(k!.orders).toBeGreaterThan(0);
    } finally {
      await w.close();
    }
  });
});

/**
 * The order fact and what feeds it, on small hand-built warehouses: server-side events, Shopify
 * orders matched to shop orders, source precedence, duplicate Order Completed events, refunds,
 * products[], bad input in quarantine, the revenue reconciliation, identity stitching, the session
 * cap, and the reporting time zone and currency.
 */
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { compileProject, type CompiledGraph } from "./compile.js";
import { ModelRunError, runModels } from "./run.js";
import { createTestWarehouse, insertCustomers, insertEvents, insertOrders, insertProducts, insertWebhooks, type EventInput, type TestWarehouse } from "./testing/fixtures.js";

let duck: CompiledGraph;
let w: TestWarehouse | undefined;

beforeAll(async () => {
  duck = await compileProject("duckdb");
}, 300_000);

afterEach(async () => {
  await w?.close();
  w = undefined;
});

/** A browser session of visitor v1 who logs in as c1 and checks out on 2026-03-02. */
const CHECKOUT: EventInput[] = [
  { id: "e1", ts: "2026-03-02T10:00:00Z", visitor: "v1", type: "page", campaign_source: "news", campaign_medium: "email", campaign_name: "march" },
  { id: "e2", ts: "2026-03-02T10:05:00Z", visitor: "v1", event: "Product Viewed", properties: { product_id: "p1" } },
  { id: "e3", ts: "2026-03-02T10:06:00Z", visitor: "v1", event: "Product Added", properties: { product_id: "p1", quantity: 2 } },
  { id: "e4", ts: "2026-03-02T10:10:00Z", visitor: "v1", user: "c1", type: "identify" },
  { id: "e5", ts: "2026-03-02T10:11:00Z", visitor: "v1", user: "c1", event: "Checkout Started", properties: { order_id: "o1" } },
];

async function shop(events: EventInput[]): Promise<TestWarehouse> {
  const wh = await createTestWarehouse({ memory: true });
  await insertEvents(wh.exec, events);
  return wh;
}

describe("server-side events", () => {
  it("a server-side Order Completed (no user agent, user id only) is staged, counted and attached to the browser session; a crawler is still dropped", async () => {
    w = await shop([
      ...CHECKOUT,
      { id: "s1", ts: "2026-03-02T10:12:00Z", user: "c1", server_side: true, event: "Order Completed", properties: { order_id: "o1", total: "120.50", currency: "USD", products: [{ product_id: "p1", quantity: 2, price: 60.25 }] } },
      { id: "bot1", ts: "2026-03-02T10:30:00Z", visitor: "crawler", type: "page", is_bot: true },
    ]);
    await runModels(w.exec, { graph: duck });
    expect(await w.rows("SELECT event_id, is_server_side, visitor_id FROM staging.stg_events WHERE event = 'Order Completed'")).toEqual([{ event_id: "s1", is_server_side: true, visitor_id: "c1" }]);
    expect(await w.rows("SELECT count(*)::INT AS n FROM staging.stg_events WHERE visitor_id = 'crawler'")).toEqual([{ n: 0 }]);
    // Never a session of its own: one session, v1's, which the order belongs to.
    const sessions = await w.rows("SELECT session_id, visitor_id, user_id, events::INT AS events, has_order_completed AS o, orders::INT AS orders, order_revenue::VARCHAR AS revenue FROM marts.sessions");
    expect(sessions).toEqual([{ session_id: "v1-1772445600000", visitor_id: "v1", user_id: "c1", events: 5, o: true, orders: 1, revenue: "120.500000000" }]);
    expect(await w.rows("SELECT order_id, order_source, customer_id, session_id, gross_revenue::VARCHAR AS gross, items::INT AS items, units::INT AS units FROM marts.orders")).toEqual([
      { order_id: "o1", order_source: "events", customer_id: "c1", session_id: "v1-1772445600000", gross: "120.500000000", items: 1, units: 2 },
    ]);
    expect(await w.rows("SELECT orders::INT AS o, gross_revenue::VARCHAR AS g, conversion_rate AS c FROM marts.daily_kpis")).toEqual([{ o: 1, g: "120.500000000", c: 1 }]);
    // The email campaign that brought the session gets the order.
    expect(await w.rows("SELECT first_touch_channel AS f, last_non_direct_channel AS l FROM marts.order_attribution")).toEqual([{ f: "email", l: "email" }]);
  });
});

describe("one order fact", () => {
  it("matches a Shopify order to the shop database's order by its identifiers and takes the values of the most trusted source", async () => {
    w = await shop(CHECKOUT);
    await insertCustomers(w.exec, [{ id: "c1", created_at: "2026-03-01T00:00:00Z" }]);
    await insertOrders(w.exec, [{ id: "1001", customer: "c1", total: "99.00", created_at: "2026-03-02T10:12:00Z", status: "paid" }]);
    await insertWebhooks(w.exec, [
      // Shopify's own id differs; its name is the shop database's id.
      { id: "w1", topic: "orders/create", ts: "2026-03-02T10:12:05Z", payload: { id: 450789469, name: "#1001", customer: { id: "c1" }, total_price: "99.00", currency: "USD", created_at: "2026-03-02T10:12:00Z", financial_status: "paid" } },
      // Another Shopify order that no database order has.
      { id: "w2", topic: "orders/create", ts: "2026-03-02T11:00:00Z", payload: { id: 450789470, name: "#1002", customer: { id: "c2" }, total_price: "10.00", currency: "USD", created_at: "2026-03-02T11:00:00Z" } },
    ]);
    await runModels(w.exec, { graph: duck });
    expect(await w.rows("SELECT order_id, order_source, sources, status, gross_revenue::VARCHAR AS g FROM marts.orders ORDER BY 1")).toEqual([
      { order_id: "1001", order_source: "cdc", sources: "cdc,shopify", status: "paid", g: "99.000000000" },
      { order_id: "450789470", order_source: "shopify", sources: "shopify", status: "pending", g: "10.000000000" },
    ]);
    expect(await w.rows("SELECT orders::INT AS o FROM marts.daily_kpis")).toEqual([{ o: 2 }]);
    // Precedence is a setting: with Shopify first, the matched order takes Shopify's values.
    const shopifyFirst = await compileProject("duckdb", { vars: { order_source_precedence: "shopify cdc events" } });
    await w.exec.run("UPDATE raw.webhooks SET payload = json_merge_patch(payload, '{\"total_price\": \"95.00\"}') WHERE event_id = 'w1'");
    await runModels(w.exec, { graph: shopifyFirst });
    expect(await w.rows("SELECT order_id, order_source, gross_revenue::VARCHAR AS g FROM marts.orders WHERE order_id = '1001'")).toEqual([{ order_id: "1001", order_source: "shopify", g: "95.000000000" }]);
  }, 240_000);

  it("two Order Completed events of one order are one order: session revenue is not doubled", async () => {
    w = await shop([
      ...CHECKOUT,
      { id: "oc1", ts: "2026-03-02T10:12:00Z", visitor: "v1", user: "c1", event: "Order Completed", properties: { order_id: "o1", total: 50, currency: "USD" } },
      { id: "oc2", ts: "2026-03-02T10:13:00Z", visitor: "v1", user: "c1", event: "Order Completed", properties: { order_id: "o1", total: 50, currency: "USD" } },
    ]);
    await runModels(w.exec, { graph: duck });
    expect(await w.rows("SELECT orders::INT AS o, order_revenue::DOUBLE AS r FROM marts.sessions")).toEqual([{ o: 1, r: 50 }]);
    expect(await w.rows("SELECT orders::INT AS o, gross_revenue::DOUBLE AS g FROM marts.daily_kpis")).toEqual([{ o: 1, g: 50 }]);
    // The real-time figure counts both events; the reconciliation explains the second as a duplicate.
    expect(await w.rows("SELECT realtime_revenue::DOUBLE AS rt, realtime_counted::DOUBLE AS c, realtime_duplicates::DOUBLE AS d FROM ops.revenue_reconciliation")).toEqual([{ rt: 100, c: 50, d: 50 }]);
  });

  it("status lifecycle: cancelled orders leave orders and revenue, refunds from every transaction leave net revenue", async () => {
    w = await shop(CHECKOUT);
    await insertWebhooks(w.exec, [
      { id: "w1", topic: "orders/create", ts: "2026-03-02T10:12:00Z", payload: { id: "s1", customer: { id: "c1" }, total_price: "100.00", currency: "USD", created_at: "2026-03-02T10:12:00Z" } },
      { id: "w2", topic: "orders/create", ts: "2026-03-02T11:00:00Z", payload: { id: "s2", customer: { id: "c1" }, total_price: "40.00", currency: "USD", created_at: "2026-03-02T11:00:00Z" } },
      { id: "w3", topic: "orders/cancelled", ts: "2026-03-02T12:00:00Z", payload: { id: "s2", customer: { id: "c1" }, total_price: "40.00", currency: "USD", created_at: "2026-03-02T11:00:00Z", cancelled_at: "2026-03-02T12:00:00Z" } },
      { id: "w4", topic: "refunds/create", ts: "2026-03-03T09:00:00Z", payload: { id: "r1", order_id: "s1", transactions: [{ kind: "refund", status: "success", amount: "15.00" }, { kind: "refund", status: "success", amount: "5.50" }, { kind: "refund", status: "failure", amount: "99.00" }] } },
      // The same refund delivered again with another delivery id counts once.
      { id: "w5", topic: "refunds/create", ts: "2026-03-03T09:00:00Z", payload: { id: "r1", order_id: "s1", transactions: [{ kind: "refund", status: "success", amount: "15.00" }, { kind: "refund", status: "success", amount: "5.50" }] } },
    ]);
    await runModels(w.exec, { graph: duck });
    expect(await w.rows("SELECT order_id, status, is_cancelled, gross_revenue::DOUBLE AS g, refunded_revenue::DOUBLE AS r, net_revenue::DOUBLE AS n FROM marts.orders ORDER BY 1")).toEqual([
      { order_id: "s1", status: "partially_refunded", is_cancelled: false, g: 100, r: 20.5, n: 79.5 },
      { order_id: "s2", status: "cancelled", is_cancelled: true, g: 0, r: 0, n: 0 },
    ]);
    expect(await w.rows("SELECT orders::INT AS o, gross_revenue::DOUBLE AS g, net_revenue::DOUBLE AS n, revenue::DOUBLE AS r FROM marts.daily_kpis")).toEqual([{ o: 1, g: 100, n: 79.5, r: 79.5 }]);
  });

  it("products[] of Order Completed and of product events feed product units, revenue and views", async () => {
    w = await shop([
      ...CHECKOUT,
      { id: "list", ts: "2026-03-02T10:07:00Z", visitor: "v1", event: "Product Viewed", properties: { products: [{ product_id: "p2" }, { product_id: "p3", quantity: 1 }] } },
      { id: "oc", ts: "2026-03-02T10:12:00Z", visitor: "v1", user: "c1", event: "Order Completed", properties: { order_id: "o1", total: 70, currency: "USD", products: [{ product_id: "p1", quantity: 2, price: 25 }, { product_id: "p2", quantity: 1, price: "20" }] } },
    ]);
    await insertProducts(w.exec, [{ id: "p1", price: 25, name: "Boots" }]);
    await runModels(w.exec, { graph: duck });
    expect(await w.rows("SELECT product_id, product_name, views::INT AS v, adds::INT AS a, units_sold::INT AS u, revenue::DOUBLE AS r FROM marts.product_performance_daily ORDER BY 1")).toEqual([
      { product_id: "p1", product_name: "Boots", v: 1, a: 1, u: 2, r: 50 },
      { product_id: "p2", product_name: null, v: 1, a: 0, u: 1, r: 20 },
      { product_id: "p3", product_name: null, v: 1, a: 0, u: 0, r: 0 },
    ]);
    // A rename shows at once on every day (names are joined at read time).
    await w.exec.run("UPDATE core.products SET name = 'Hiking boots' WHERE id = 'p1'");
    expect(await w.rows("SELECT DISTINCT product_name FROM marts.product_performance_daily WHERE product_id = 'p1'")).toEqual([{ product_name: "Hiking boots" }]);
  });
});

describe("bad input", () => {
  it("unknown currencies, orders without ids, negative amounts and malformed products[] are quarantined with the reason and counted, never summed", async () => {
    w = await shop([
      ...CHECKOUT,
      { id: "ok", ts: "2026-03-02T10:12:00Z", visitor: "v1", user: "c1", event: "Order Completed", properties: { order_id: "o1", total: 30, currency: "USD" } },
      { id: "xxx", ts: "2026-03-02T11:00:00Z", user: "c1", server_side: true, event: "Order Completed", properties: { order_id: "o2", total: 10, currency: "XXX" } },
      { id: "noid", ts: "2026-03-02T11:01:00Z", user: "c1", server_side: true, event: "Order Completed", properties: { total: 10, currency: "USD" } },
      { id: "neg", ts: "2026-03-02T11:02:00Z", user: "c1", server_side: true, event: "Order Completed", properties: { order_id: "o3", total: -5, currency: "USD" } },
      { id: "nan", ts: "2026-03-02T11:03:00Z", user: "c1", server_side: true, event: "Order Completed", properties: { order_id: "o4", total: "lots", currency: "USD" } },
      { id: "lines", ts: "2026-03-02T11:04:00Z", user: "c1", server_side: true, event: "Order Completed", properties: { order_id: "o5", total: 8, currency: "USD", products: [{ quantity: 1, price: 8 }, { product_id: "p1", quantity: 0, price: 8 }] } },
      { id: "notarray", ts: "2026-03-02T11:05:00Z", user: "c1", server_side: true, event: "Order Completed", properties: { order_id: "o6", total: 9, currency: "USD", products: { product_id: "p1" } } },
      { id: "badrefund", ts: "2026-03-02T11:06:00Z", user: "c1", server_side: true, event: "Order Refunded", properties: { order_id: "o1", total: -3 } },
    ]);
    const r = await runModels(w.exec, { graph: duck });
    expect(r.warnings).toEqual([{ assertion: "assertions.quarantine_empty", rows: 8 }]);
    expect(await w.rows("SELECT entity, record_id, order_id, reason FROM ops.quarantine ORDER BY record_id, reason")).toEqual([
      { entity: "refund", record_id: "events:badrefund", order_id: "o1", reason: "negative amount (properties.total)" },
      { entity: "order_line", record_id: "events:lines:0", order_id: "o5", reason: "products[] item without product_id" },
      { entity: "order_line", record_id: "events:lines:1", order_id: "o5", reason: "products[] item quantity is not a positive whole number" },
      { entity: "order", record_id: "events:nan", order_id: "o4", reason: "properties.total is not a number" },
      { entity: "order", record_id: "events:neg", order_id: "o3", reason: "negative amount (properties.total)" },
      { entity: "order", record_id: "events:noid", order_id: "unidentified:events:noid", reason: "Order Completed without properties.order_id" },
      { entity: "order", record_id: "events:notarray", order_id: "o6", reason: "properties.products of Order Completed is not an array" },
      { entity: "order", record_id: "events:xxx", order_id: "o2", reason: "no exchange rate for XXX on or before 2026-03-02 (reference.exchange_rates)" },
    ]);
    expect(await w.rows("SELECT report_date::VARCHAR AS d, sum(quarantined)::INT AS n FROM ops.data_quality_daily GROUP BY 1")).toEqual([{ d: "2026-03-02", n: 8 }]);
    // Only the good orders count: o1 (30), o5 (8, its bad lines left out), o6 (9, without lines).
    expect(await w.rows("SELECT order_id, gross_revenue::DOUBLE AS g, items::INT AS i FROM marts.orders ORDER BY 1")).toEqual([
      { order_id: "o1", g: 30, i: 0 },
      { order_id: "o5", g: 8, i: 0 },
      { order_id: "o6", g: 9, i: 0 },
    ]);
    expect(await w.rows("SELECT orders::INT AS o, gross_revenue::DOUBLE AS g, refunded_revenue::DOUBLE AS r FROM marts.daily_kpis")).toEqual([{ o: 3, g: 47, r: 0 }]);
  });
});

describe("revenue reconciliation", () => {
  it("fails the run when the real-time revenue drifts from the stored events", async () => {
    w = await shop([...CHECKOUT, { id: "oc", ts: "2026-03-02T10:12:00Z", visitor: "v1", user: "c1", event: "Order Completed", properties: { order_id: "o1", total: 30, currency: "USD" } }]);
    await runModels(w.exec, { graph: duck });
    expect(await w.rows("SELECT kpi_gross_revenue::DOUBLE AS k, orders_gross_revenue::DOUBLE AS o, session_revenue::DOUBLE AS s, realtime_revenue::DOUBLE AS rt, realtime_recount::DOUBLE AS rc FROM ops.revenue_reconciliation")).toEqual([{ k: 30, o: 30, s: 30, rt: 30, rc: 30 }]);
    // A lost or doubled real-time increment.
    await w.exec.run("UPDATE ops.realtime_metrics SET revenue = revenue + 5 WHERE revenue > 0");
    await insertEvents(w.exec, [{ id: "tick", ts: "2026-03-02T18:00:00Z", visitor: "v9", type: "page" }], "2026-01-02T00:00:00Z");
    const err = await runModels(w.exec, { graph: duck }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelRunError);
    expect((err as ModelRunError).assertion).toBe("assertions.revenue_reconciles");
    expect((err as Error).message).toContain("1 row(s) violate it");
  });

  it("does not compare real-time minutes that changed after the run's newest load", async () => {
    w = await shop([...CHECKOUT, { id: "oc", ts: "2026-03-02T10:12:00Z", visitor: "v1", user: "c1", event: "Order Completed", properties: { order_id: "o1", total: 30, currency: "USD" } }]);
    // The pipeline added to this minute after the newest load the run covers (a load in flight).
    await w.exec.run("UPDATE ops.realtime_metrics SET revenue = revenue + 5, updated_at = TIMESTAMPTZ '2027-01-01 00:00:00+00' WHERE revenue > 0");
    await runModels(w.exec, { graph: duck });
    expect(await w.rows("SELECT realtime_revenue::DOUBLE AS rt, pending_minutes::INT AS p FROM ops.revenue_reconciliation")).toEqual([{ rt: 0, p: 1 }]);
  });
});

describe("identity stitching", () => {
  it("credits anonymous sessions before login, follows alias/previousId, and attributes orders to them", async () => {
    w = await shop([
      // Day 1: anonymous visit from a paid campaign.
      { id: "a1", ts: "2026-03-01T09:00:00Z", visitor: "anon-1", type: "page", campaign_source: "google", campaign_medium: "cpc", campaign_name: "brand" },
      // Day 2: same browser logs in as an old account id, which is later aliased to the new id.
      { id: "a2", ts: "2026-03-02T09:00:00Z", visitor: "anon-1", type: "page" },
      { id: "a3", ts: "2026-03-02T09:01:00Z", visitor: "anon-1", user: "old-c1", type: "identify" },
      { id: "al", ts: "2026-03-02T12:00:00Z", visitor: null, user: "c1", previous_id: "old-c1", type: "alias", server_side: true },
      // Day 3: the shop database records the customer's order.
    ]);
    await insertOrders(w.exec, [{ id: "o1", customer: "c1", total: 20, created_at: "2026-03-03T10:00:00Z" }]);
    await runModels(w.exec, { graph: duck });
    expect(await w.rows("SELECT visitor_id, user_id FROM staging.user_mapping WHERE is_current ORDER BY 1")).toEqual([
      { visitor_id: "anon-1", user_id: "c1" },
      { visitor_id: "old-c1", user_id: "c1" },
    ]);
    // Both sessions, the anonymous one of day 1 included, are c1's now.
    expect(await w.rows("SELECT session_date::VARCHAR AS d, user_id FROM marts.sessions ORDER BY 1")).toEqual([
      { d: "2026-03-01", user_id: "c1" },
      { d: "2026-03-02", user_id: "c1" },
    ]);
    expect(await w.rows("SELECT first_touch_channel AS f, first_touch_campaign AS c FROM marts.order_attribution")).toEqual([{ f: "paid", c: "brand" }]);
  });
});

describe("sessions", () => {
  it("cuts uninterrupted activity every session_max_days, and an incremental run continues the session in progress", async () => {
    // A kiosk active every 20 minutes for 4 days, from 2026-03-01 00:00: cut at 3 days.
    const kiosk: EventInput[] = Array.from({ length: 4 * 72 }, (_, i) => ({ id: `k${i}`, ts: new Date(Date.parse("2026-03-01T00:00:00Z") + i * 1_200_000).toISOString(), visitor: "kiosk", type: "page" as const }));
    w = await shop(kiosk.slice(0, 200));
    await runModels(w.exec, { graph: duck });
    await insertEvents(w.exec, kiosk.slice(200), "2026-01-02T00:00:00Z");
    const inc = await runModels(w.exec, { graph: duck });
    expect(inc.fullRefresh).toBe(false);
    const sessions = "SELECT session_start::VARCHAR AS s, events::INT AS e, chain_start::VARCHAR AS c FROM staging.int_sessions ORDER BY 1";
    const incremental = await w.rows(sessions);
    expect(incremental).toEqual([
      { s: "2026-03-01 00:00:00+00", e: 216, c: "2026-03-01 00:00:00+00" },
      { s: "2026-03-04 00:00:00+00", e: 72, c: "2026-03-01 00:00:00+00" },
    ]);
    await runModels(w.exec, { graph: duck, fullRefresh: true });
    expect(await w.rows(sessions)).toEqual(incremental);
  });
});

describe("reporting time zone and currency", () => {
  it("daily marts use the reporting time zone and money the reporting currency", async () => {
    w = await shop([
      { id: "e1", ts: "2026-03-03T02:00:00Z", visitor: "v1", user: "c1", type: "page" },
      { id: "oc", ts: "2026-03-03T02:05:00Z", visitor: "v1", user: "c1", event: "Order Completed", properties: { order_id: "o1", total: 92, currency: "EUR" } },
      { id: "oc2", ts: "2026-03-03T02:06:00Z", visitor: "v1", user: "c1", event: "Order Completed", properties: { order_id: "o2", total: 10, currency: "USD" } },
    ]);
    const ny = await compileProject("duckdb", { vars: { reporting_timezone: "America/New_York", reporting_currency: "EUR" } });
    await runModels(w.exec, { graph: ny });
    // 02:00 UTC on 03-03 is 21:00 on 03-02 in New York; 92 EUR + 10 USD (9.2 EUR at 0.92).
    expect(await w.rows("SELECT kpi_date::VARCHAR AS d, sessions::INT AS s, orders::INT AS o, gross_revenue::VARCHAR AS g, currency FROM marts.daily_kpis")).toEqual([{ d: "2026-03-02", s: 1, o: 2, g: "101.200000000", currency: "EUR" }]);
    expect(await w.rows("SELECT session_date::VARCHAR AS d FROM marts.sessions")).toEqual([{ d: "2026-03-02" }]);
  }, 240_000);
});


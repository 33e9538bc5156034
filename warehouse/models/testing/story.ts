/**
 * The shared story of the model tests (times UTC; Monday 2026-03-02 and Tuesday 03-03): two
 * customers, their sessions, a bot and a visitor who withheld consent, four shop orders (one
 * cancelled) with lines, all loaded on 2026-01-01.
 */
import { createTestWarehouse, insertCustomers, insertEvents, insertOrderItems, insertOrders, insertProducts, type EventInput, type TestWarehouse } from "./fixtures.js";

const T0 = "2026-01-01T00:00:00Z";

export const EVENTS: EventInput[] = [
  // Visitor a1 = customer c1. S1 from a paid campaign: the whole funnel, 09:00–09:50, gaps under 30 min.
  { id: "a1", ts: "2026-03-02T09:00:00Z", visitor: "a1", user: "c1", type: "page", page_path: "/spring", campaign_source: "google", campaign_medium: "cpc", campaign_name: "spring" },
  { id: "a2", ts: "2026-03-02T09:10:00Z", visitor: "a1", user: "c1", event: "Product Viewed", properties: { product_id: "p1" } },
  { id: "a3", ts: "2026-03-02T09:20:00Z", visitor: "a1", user: "c1", event: "Product Added", properties: { product_id: "p1", quantity: 1 } },
  { id: "a4", ts: "2026-03-02T09:45:00Z", visitor: "a1", user: "c1", event: "Checkout Started", properties: { order_id: "o1", revenue: 100 } },
  { id: "a5", ts: "2026-03-02T09:50:00Z", visitor: "a1", user: "c1", event: "Order Completed", properties: { order_id: "o1", total: 100, currency: "USD" } },
  // 40 minutes later: S2, from organic search.
  { id: "a6", ts: "2026-03-02T10:30:00Z", visitor: "a1", user: "c1", type: "page", referrer_medium: "search", referrer_source: "google", referrer_host: "www.google.com" },
  // Anonymous b1: S3 starts 23:50 from social and crosses midnight; S4 after a 50-minute gap.
  { id: "b1", ts: "2026-03-02T23:50:00Z", visitor: "b1", type: "page", referrer_medium: "social", referrer_source: "facebook" },
  { id: "b2", ts: "2026-03-03T00:10:00Z", visitor: "b1", event: "Product Viewed", properties: { product_id: "p2" } },
  { id: "b3", ts: "2026-03-03T01:00:00Z", visitor: "b1", event: "Product Viewed", properties: { product_id: "p2" } },
  // A bot and a visitor who withheld consent: never in any model.
  { id: "x1", ts: "2026-03-02T12:00:00Z", visitor: "bot", type: "page", is_bot: true },
  { id: "x2", ts: "2026-03-02T13:00:00Z", visitor: "nc", event: "Product Viewed", consent: false, properties: { product_id: "p1" } },
  // Customer c2: S5 from an email campaign, adds to cart, never completes the order on site.
  { id: "c1", ts: "2026-03-03T15:00:00Z", visitor: "c2a", user: "c2", type: "page", campaign_source: "newsletter", campaign_medium: "email", campaign_name: "march" },
  { id: "c2", ts: "2026-03-03T15:05:00Z", visitor: "c2a", user: "c2", event: "Product Viewed", properties: { product_id: "p1" } },
  { id: "c3", ts: "2026-03-03T15:06:00Z", visitor: "c2a", user: "c2", event: "Product Added", properties: { product_id: "p1" } },
];

export async function story(opts: { memory?: boolean } = {}): Promise<TestWarehouse> {
  const wh = await createTestWarehouse(opts);
  await insertEvents(wh.exec, EVENTS, T0);
  await insertCustomers(wh.exec, [
    { id: "c1", created_at: "2026-03-01T08:00:00Z" },
    { id: "c2", created_at: "2026-03-01T09:00:00Z" },
  ]);
  await insertProducts(wh.exec, [{ id: "p1", price: 50 }, { id: "p2", price: 30 }]);
  await insertOrders(wh.exec, [
    { id: "o1", customer: "c1", total: 100, created_at: "2026-03-02T09:50:00Z" },
    { id: "o2", customer: "c2", total: 40, created_at: "2026-03-03T16:00:00Z" },
    { id: "o3", customer: "c1", total: 30, created_at: "2026-03-03T10:00:00Z", status: "cancelled" },
    { id: "o4", customer: "c1", total: 60, created_at: "2026-03-03T11:00:00Z" },
  ]);
  await insertOrderItems(wh.exec, [
    { id: "i1", order: "o1", product: "p1", quantity: 2, unit_price: 50 },
    { id: "i2", order: "o2", product: "p2", quantity: 1, unit_price: 40 },
    { id: "i4", order: "o4", product: "p2", quantity: 2, unit_price: 30 },
  ]);
  return wh;
}


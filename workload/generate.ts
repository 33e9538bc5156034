/**
 * A seeded, realistic e-commerce workload: visitors who browse, search, add to cart, check out and
 * order over several days, come back, arrive from campaigns (utm in page URLs), search and social;
 * customers and orders as Debezium CDC (postgres connector) with updates, cancellations and refunds,
 * Shopify order and refund webhooks, HubSpot contact changes; bot traffic, duplicate deliveries and
 * late, out-of-order events. Pure: the same options give the same workload, item for item.
 *
 * Each visitor's timeline comes from its own PRNG stream (seed, visitor index), so the workload can be
 * produced whole and time-ordered (for the edge) or visitor by visitor without holding it (for rows).
 */

export interface WorkloadOptions {
  seed: number;
  days: number;
  users: number;
  /** First day (UTC midnight) of the workload; default: `days` days before today. */
  start?: Date;
  /** Share of events delivered again later with the same messageId. */
  duplicateRate?: number;
  /** Share of events delivered late (hours after later events). */
  lateRate?: number;
  /** Bot sessions per human visitor. */
  botRate?: number;
}

export interface SegmentEvent {
  type: "page" | "track" | "identify";
  messageId: string;
  /** Absent on server-side events, which carry the userId only. */
  anonymousId?: string;
  userId?: string;
  event?: string;
  name?: string;
  timestamp: string;
  properties?: Record<string, unknown>;
  traits?: Record<string, unknown>;
  context: {
    /** Browser events only: server-side libraries send neither a page nor a user agent. */
    page?: { url: string; path: string; referrer: string; title?: string };
    userAgent?: string;
    library: { name: string; version: string };
    consent?: { categoryPreferences: { analytics: boolean } };
  };
}

export interface CdcEnvelope {
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
  source: { version: string; connector: "postgresql"; name: string; db: string; schema: string; table: string; lsn: number; txId: number; ts_ms: number; snapshot: "true" | "false" };
  op: "c" | "u" | "d" | "r";
  ts_ms: number;
}

/** One thing to deliver, at `at` (ms since epoch; deliveries of late events come after their event time). */
export type WorkloadItem =
  | { kind: "event"; at: number; event: SegmentEvent; bot: boolean; late: boolean; duplicate: boolean; server?: true }
  | { kind: "cdc"; at: number; change: CdcEnvelope }
  | { kind: "shopify"; at: number; topic: string; webhookId: string; body: Record<string, unknown> }
  | { kind: "hubspot"; at: number; body: Record<string, unknown>[] };

const DAY_MS = 86_400_000;
export const SHOP_DOMAIN = "tideline-demo.myshopify.com";
const SITE = "https://shop.example.com";
const LIB = { name: "tideline-generator", version: "1.0.0" };
/** The shop's backend reports some orders, cancellations and refunds with Segment's Node library. */
const SERVER_LIB = { name: "analytics-node", version: "2.1.0" };
/** Share of orders whose Order Completed the backend sends instead of the browser. */
const SERVER_ORDER_SHARE = 0.25;

const HUMAN_UAS = [
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
  "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
  "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
  "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36",
];
const BOT_UAS = ["Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/124.0.0.0 Safari/537.36"];

/** Traffic sources with their weights: utm parameters in the landing URL or a referrer. */
export const SOURCES = [
  { weight: 30, referrer: "", utm: null },
  { weight: 22, referrer: "https://www.google.com/", utm: null },
  { weight: 14, referrer: "https://www.google.com/", utm: { source: "google", medium: "cpc", campaign: "brand_search" } },
  { weight: 12, referrer: "", utm: { source: "newsletter", medium: "email", campaign: "weekly_deals" } },
  { weight: 10, referrer: "https://www.facebook.com/", utm: { source: "facebook", medium: "paid_social", campaign: "spring_sale" } },
  { weight: 7, referrer: "https://www.instagram.com/", utm: null },
  { weight: 5, referrer: "https://blog.example.org/best-gear", utm: null },
] as const;

const CATEGORIES = ["shoes", "jackets", "bags", "hats", "socks", "shirts"];
const COUNTRIES = ["DE", "FR", "GB", "US", "NL", "ES"];
const SEARCHES = ["running shoes", "rain jacket", "wool socks", "backpack", "sun hat", "linen shirt"];

import { rng } from "./random.js";

export { rng };

const mix = (a: number, b: number) => (Math.imul(a ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(b + 0x632be5ab, 0xc2b2ae35)) >>> 0;

export interface Product {
  id: string;
  sku: string;
  name: string;
  category: string;
  price: number;
}

export function catalogue(seed: number, users: number): Product[] {
  const r = rng(mix(seed, 0xca7a));
  const n = Math.max(12, Math.min(2000, Math.round(users / 40)));
  return Array.from({ length: n }, (_, i) => {
    const category = CATEGORIES[i % CATEGORIES.length]!;
    return { id: `p${i + 1}`, sku: `SKU-${String(i + 1).padStart(5, "0")}`, name: `${category} model ${i + 1}`, category, price: Math.round((8 + r() * 180) * 100) / 100 };
  });
}

export function startOf(o: WorkloadOptions): number {
  const s = o.start ? o.start.getTime() : Date.now() - o.days * DAY_MS;
  return Math.floor(s / DAY_MS) * DAY_MS;
}

const iso = (ms: number) => new Date(ms).toISOString();
const pick = <T>(r: () => number, xs: readonly T[]) => xs[Math.floor(r() * xs.length)]!;
function weighted<T extends { weight: number }>(r: () => number, xs: readonly T[]): T {
  const total = xs.reduce((s, x) => s + x.weight, 0);
  let x = r() * total;
  for (const it of xs) if ((x -= it.weight) < 0) return it;
  return xs[xs.length - 1]!;
}

/** Shared monotonic CDC position: lsn derived from time and visitor so it is unique and ordered per row. */
const lsnAt = (ms: number, visitor: number, k: number) => Math.floor(ms) * 1000 + (visitor % 997) + k;

function cdc(table: string, op: CdcEnvelope["op"], before: Record<string, unknown> | null, after: Record<string, unknown> | null, ms: number, lsn: number): WorkloadItem {
  return {
    kind: "cdc",
    at: ms,
    change: { before, after, source: { version: "2.5.0.Final", connector: "postgresql", name: "shop", db: "shop", schema: "public", table, lsn, txId: Math.floor(lsn / 1000), ts_ms: ms, snapshot: op === "r" ? "true" : "false" }, op, ts_ms: ms },
  };
}

/** Items of the product catalogue snapshot (Debezium 'r' reads) at the start. */
export function catalogueItems(o: WorkloadOptions): WorkloadItem[] {
  const t = startOf(o);
  return catalogue(o.seed, o.users).map((p, i) =>
    cdc("products", "r", null, { id: p.id, sku: p.sku, name: p.name, category: p.category, price: p.price.toFixed(2), currency: "EUR", updated_at: iso(t) }, t, lsnAt(t, 0, i)),
  );
}

/** The timeline of visitor `v` (0-based): its sessions, and its customer, orders, webhooks if it buys. */
export function visitorItems(o: WorkloadOptions, v: number, products: Product[] = catalogue(o.seed, o.users)): WorkloadItem[] {
  const r = rng(mix(o.seed, v + 1));
  const t0 = startOf(o);
  const end = t0 + o.days * DAY_MS;
  const items: WorkloadItem[] = [];
  const anon = `anon-${o.seed}-${v}`;
  const customerId = `cust-${v}`;
  const ua = pick(r, HUMAN_UAS);
  const country = pick(r, COUNTRIES);
  const consentWithheld = r() < 0.04;
  let identified = false;
  let customerCreated = false;
  let orderSeq = 0;
  let msg = 0;
  const dup = o.duplicateRate ?? 0.01;
  const lateRate = o.lateRate ?? 0.02;

  // Returning visitors: 1 + geometric number of further visits, spread over the period.
  let visits = 1;
  while (r() < 0.45 && visits < 12) visits++;
  let t = t0 + Math.floor(r() * o.days * DAY_MS);
  for (let s = 0; s < visits && t < end; s++) {
    const src = weighted(r, SOURCES);
    const utm = src.utm ? `?utm_source=${src.utm.source}&utm_medium=${src.utm.medium}&utm_campaign=${src.utm.campaign}` : "";
    let referrer: string = src.referrer;
    let now = t;
    // A server-side track call: userId only, no page, no user agent, delivered seconds later.
    const server = (event: string, properties: Record<string, unknown>, ts: number) => {
      const ev: SegmentEvent = { type: "track", event, messageId: `m-${o.seed}-${v}-s${msg++}`, userId: customerId, timestamp: iso(ts), properties, context: { library: SERVER_LIB } };
      items.push({ kind: "event", at: ts + 2_000, event: ev, bot: false, late: false, duplicate: false, server: true });
    };
    const emit = (e: Omit<SegmentEvent, "messageId" | "anonymousId" | "timestamp" | "context">, path: string) => {
      const ev: SegmentEvent = {
        ...e,
        messageId: `m-${o.seed}-${v}-${msg++}`,
        anonymousId: anon,
        ...(identified ? { userId: customerId } : {}),
        timestamp: iso(now),
        context: { page: { url: `${SITE}${path}${path === landing ? utm : ""}`, path, referrer }, userAgent: ua, library: LIB, ...(consentWithheld ? { consent: { categoryPreferences: { analytics: false } } } : {}) },
      } as SegmentEvent;
      const late = r() < lateRate;
      items.push({ kind: "event", at: late ? now + (2 + r() * 20) * 3_600_000 : now, event: ev, bot: false, late, duplicate: false });
      if (r() < dup) items.push({ kind: "event", at: now + 5_000 + r() * 600_000, event: ev, bot: false, late: false, duplicate: true });
      referrer = `${SITE}${path}`;
      now += Math.floor((10 + r() * 170) * 1000);
    };
    const landingProduct = pick(r, products);
    const landing = r() < 0.5 ? "/" : `/products/${landingProduct.id}`;
    emit({ type: "page", name: landing === "/" ? "Home" : "Product", properties: {} }, landing);
    for (let k = Math.floor(r() * 3); k > 0; k--) emit({ type: "page", name: "Category", properties: {} }, `/c/${pick(r, CATEGORIES)}`);
    if (r() < 0.3) emit({ type: "track", event: "Products Searched", properties: { query: pick(r, SEARCHES) } }, "/search");
    const cart: { p: Product; q: number }[] = [];
    const viewed = 1 + Math.floor(r() * 4);
    for (let k = 0; k < viewed; k++) {
      const p = k === 0 && landing !== "/" ? landingProduct : pick(r, products);
      emit({ type: "track", event: "Product Viewed", properties: { product_id: p.id, sku: p.sku, category: p.category, name: p.name, price: p.price, currency: "EUR" } }, `/products/${p.id}`);
      if (r() < 0.08) {
        const q = 1 + Math.floor(r() * 2);
        cart.push({ p, q });
        emit({ type: "track", event: "Product Added", properties: { product_id: p.id, sku: p.sku, price: p.price, quantity: q, currency: "EUR" } }, `/products/${p.id}`);
      }
    }
    if (cart.length > 0 && r() < 0.35) {
      const orderId = `ord-${v}-${++orderSeq}`;
      const total = Math.round(cart.reduce((a, c) => a + c.p.price * c.q, 0) * 100) / 100;
      if (!identified) {
        identified = true;
        emit({ type: "identify", traits: { country } }, "/checkout");
      }
      emit({ type: "track", event: "Checkout Started", properties: { order_id: orderId, value: total, revenue: total, currency: "EUR" } }, "/checkout");
      if (r() < 0.62) {
        // The order is placed now: the browser's (or the backend's) Order Completed, the shop
        // database's row and Shopify's order carry the same time, id, customer and total.
        const at = now;
        const completed = { order_id: orderId, total, revenue: total, currency: "EUR", products: cart.map((c) => ({ product_id: c.p.id, quantity: c.q, price: c.p.price })) };
        if (r() < SERVER_ORDER_SHARE) server("Order Completed", completed, at);
        else emit({ type: "track", event: "Order Completed", properties: completed }, "/checkout/thank-you");
        let k = 0;
        if (!customerCreated) {
          customerCreated = true;
          const cust = { id: customerId, email: `shopper${v}@example.com`, first_name: "Shopper", last_name: String(v), country, created_at: iso(at - 60_000), updated_at: iso(at - 60_000) };
          items.push(cdc("customers", "c", null, cust, at - 60_000, lsnAt(at - 60_000, v, k++)));
          // HubSpot sends a contact's creation and its property changes together in one delivery.
          items.push({
            kind: "hubspot",
            at: at - 30_000,
            body: [
              { eventId: v * 1000 + orderSeq * 2, subscriptionId: 1, portalId: 4242, appId: 7, occurredAt: at - 30_000, subscriptionType: "contact.creation", attemptNumber: 0, objectId: 100000 + v, changeSource: "CRM" },
              { eventId: v * 1000 + orderSeq * 2 + 1, subscriptionId: 2, portalId: 4242, appId: 7, occurredAt: at - 30_000, subscriptionType: "contact.propertyChange", attemptNumber: 0, objectId: 100000 + v, propertyName: "lifecyclestage", propertyValue: "customer", changeSource: "INTEGRATION" },
            ],
          });
        }
        const order = { id: orderId, customer_id: customerId, status: "pending", total_amount: total.toFixed(2), currency: "EUR", created_at: iso(at), updated_at: iso(at) };
        items.push(cdc("orders", "c", null, order, at, lsnAt(at, v, k++)));
        cart.forEach((c, i) => items.push(cdc("order_items", "c", null, { id: `${orderId}-${i + 1}`, order_id: orderId, product_id: c.p.id, quantity: c.q, unit_price: c.p.price.toFixed(2) }, at, lsnAt(at, v, k++))));
        const shopifyOrder = { id: orderId, customer: { id: customerId }, total_price: total.toFixed(2), currency: "EUR", created_at: iso(at), financial_status: "pending", line_items: cart.map((c) => ({ product_id: c.p.id, quantity: c.q, price: c.p.price.toFixed(2) })) };
        items.push({ kind: "shopify", at: at + 2_000, topic: "orders/create", webhookId: `wh-${orderId}-create`, body: shopifyOrder });
        const fate = r();
        const paidAt = at + 120_000;
        const paid = { ...order, status: "paid", updated_at: iso(paidAt) };
        if (fate < 0.03) {
          const cancelled = { ...order, status: "cancelled", updated_at: iso(paidAt) };
          items.push(cdc("orders", "u", order, cancelled, paidAt, lsnAt(paidAt, v, k++)));
          items.push({ kind: "shopify", at: paidAt + 1_000, topic: "orders/cancelled", webhookId: `wh-${orderId}-cancel`, body: { ...shopifyOrder, cancelled_at: iso(paidAt) } });
          server("Order Cancelled", { order_id: orderId, currency: "EUR" }, paidAt);
        } else {
          items.push(cdc("orders", "u", order, paid, paidAt, lsnAt(paidAt, v, k++)));
          const shipAt = paidAt + Math.floor((1 + r() * 2) * DAY_MS);
          if (shipAt < end) items.push(cdc("orders", "u", paid, { ...paid, status: "shipped", updated_at: iso(shipAt) }, shipAt, lsnAt(shipAt, v, k++)));
          if (fate > 0.96 && shipAt + DAY_MS < end) {
            const refundAt = shipAt + DAY_MS;
            items.push(cdc("orders", "u", { ...paid, status: "shipped" }, { ...paid, status: "refunded", updated_at: iso(refundAt) }, refundAt, lsnAt(refundAt, v, k++)));
            items.push({ kind: "shopify", at: refundAt + 1_000, topic: "refunds/create", webhookId: `wh-${orderId}-refund`, body: { id: `ref-${orderId}`, order_id: orderId, created_at: iso(refundAt), transactions: [{ amount: total.toFixed(2), kind: "refund" }] } });
            server("Order Refunded", { order_id: orderId, total, currency: "EUR" }, refundAt);
          }
        }
      }
    }
    // Next visit: hours to days later.
    t = now + Math.floor((2 + r() * 96) * 3_600_000);
  }
  // Bot sessions: crawlers walking product pages fast.
  if (r() < (o.botRate ?? 0.08)) {
    const bot = `bot-${o.seed}-${v}`;
    const botUa = pick(r, BOT_UAS);
    let bt = t0 + Math.floor(r() * o.days * DAY_MS);
    for (let k = 0; k < 5 + Math.floor(r() * 15); k++) {
      const p = pick(r, products);
      const ev: SegmentEvent = { type: "page", name: "Product", messageId: `m-${o.seed}-${v}-bot-${k}`, anonymousId: bot, timestamp: iso(bt), properties: {}, context: { page: { url: `${SITE}/products/${p.id}`, path: `/products/${p.id}`, referrer: "" }, userAgent: botUa, library: LIB } };
      items.push({ kind: "event", at: bt, event: ev, bot: true, late: false, duplicate: false });
      bt += 1_000 + Math.floor(r() * 3_000);
    }
  }
  return items.filter((i) => i.at < end + 2 * DAY_MS);
}

/** The whole workload in delivery order (time, then a stable tiebreak). Hold it in memory only for modest sizes. */
export function generateWorkload(o: WorkloadOptions): WorkloadItem[] {
  const products = catalogue(o.seed, o.users);
  const all = catalogueItems(o);
  for (let v = 0; v < o.users; v++) for (const it of visitorItems(o, v, products)) all.push(it);
  return all.map((it, i) => [it, i] as const).sort((a, b) => a[0].at - b[0].at || a[1] - b[1]).map(([it]) => it);
}

export interface WorkloadStats {
  events: number;
  /** Events sent by the shop's backend (server-side library). */
  serverEvents: number;
  humanEvents: number;
  botEvents: number;
  duplicates: number;
  late: number;
  visitors: number;
  byEvent: Record<string, number>;
  cdc: Record<string, number>;
  shopify: Record<string, number>;
  hubspot: number;
}

export function workloadStats(items: Iterable<WorkloadItem>): WorkloadStats {
  const s: WorkloadStats = { events: 0, serverEvents: 0, humanEvents: 0, botEvents: 0, duplicates: 0, late: 0, visitors: 0, byEvent: {}, cdc: {}, shopify: {}, hubspot: 0 };
  const visitors = new Set<string>();
  for (const it of items) {
    if (it.kind === "event") {
      s.events++;
      if (it.duplicate) s.duplicates++;
      if (it.late) s.late++;
      if (it.server) s.serverEvents++;
      if (it.bot) s.botEvents++;
      else if (!it.duplicate) {
        s.humanEvents++;
        if (it.event.anonymousId) visitors.add(it.event.anonymousId);
        const k = it.event.event ?? it.event.type;
        s.byEvent[k] = (s.byEvent[k] ?? 0) + 1;
      }
    } else if (it.kind === "cdc") {
      const k = `${it.change.source.table}:${it.change.op}`;
      s.cdc[k] = (s.cdc[k] ?? 0) + 1;
    } else if (it.kind === "shopify") s.shopify[it.topic] = (s.shopify[it.topic] ?? 0) + 1;
    else s.hubspot++;
  }
  s.visitors = visitors.size;
  return s;
}

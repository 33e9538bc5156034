/**
 * Random shops for the incremental-equals-full property test: a few visitors, customers, orders and
 * products over four days, described as operations (browser and server-side events, identify and
 * alias calls, Order Completed/Cancelled/Refunded events, CDC creates, updates and deletes of
 * customers, orders, order lines and products, Shopify order and refund webhooks, bot traffic),
 * each delivered in one of three load batches. CDC positions follow the time of the change, so a
 * change delivered in a later batch than a newer one is late and out of order.
 */
import fc from "fast-check";
import type { Executor } from "../executor.js";
import { insertCdc, insertEvents, insertWebhooks, type CdcChange, type EventInput } from "./fixtures.js";

export const BATCH_LOADED_AT = ["2026-03-03T12:00:00Z", "2026-03-05T00:00:00Z", "2026-03-06T12:00:00Z"] as const;
const DAY0 = Date.parse("2026-03-02T00:00:00Z");

const when = { day: fc.integer({ min: 0, max: 3 }), minute: fc.integer({ min: 0, max: 1439 }), batch: fc.integer({ min: 0, max: 2 }) };
const money = fc.integer({ min: 0, max: 20_000 }).map((c) => (c / 100).toFixed(2));

export type ShopOp =
  | { kind: "page"; visitor: number; campaign: boolean; day: number; minute: number; batch: number }
  | { kind: "product"; visitor: number; added: boolean; product: number; asArray: boolean; day: number; minute: number; batch: number }
  | { kind: "identify"; visitor: number; customer: number; day: number; minute: number; batch: number }
  | { kind: "alias"; from: number; to: number; day: number; minute: number; batch: number }
  | { kind: "completed"; visitor: number | null; customer: number | null; order: number; total: string; currency: string; lines: number; day: number; minute: number; batch: number }
  | { kind: "order_event"; event: "Order Cancelled" | "Order Refunded"; order: number; amount: string | null; day: number; minute: number; batch: number }
  | { kind: "cdc_customer"; customer: number; op: "c" | "u" | "d"; day: number; minute: number; batch: number }
  | { kind: "cdc_order"; order: number; customer: number; op: "c" | "u" | "d"; status: string; total: string; currency: string; day: number; minute: number; batch: number }
  | { kind: "cdc_item"; item: number; order: number; product: number; quantity: number; op: "c" | "u" | "d"; day: number; minute: number; batch: number }
  | { kind: "cdc_product"; product: number; name: number; day: number; minute: number; batch: number }
  | { kind: "shopify"; order: number; byName: boolean; topic: "orders/create" | "orders/cancelled" | "refunds/create"; total: string; day: number; minute: number; batch: number }
  | { kind: "bot"; product: number; day: number; minute: number; batch: number };

const visitor = fc.integer({ min: 0, max: 3 });
const customer = fc.integer({ min: 0, max: 2 });
const order = fc.integer({ min: 0, max: 4 });
const product = fc.integer({ min: 0, max: 2 });

export const shopOp: fc.Arbitrary<ShopOp> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant("page" as const), visitor, campaign: fc.boolean(), ...when }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant("product" as const), visitor, added: fc.boolean(), product, asArray: fc.boolean(), ...when }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("identify" as const), visitor, customer, ...when }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("alias" as const), from: customer, to: customer, ...when }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("completed" as const), visitor: fc.option(visitor), customer: fc.option(customer), order, total: money, currency: fc.constantFrom("EUR", "EUR", "USD", "XXX"), lines: fc.integer({ min: 0, max: 2 }), ...when }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("order_event" as const), event: fc.constantFrom("Order Cancelled" as const, "Order Refunded" as const), order, amount: fc.option(money), ...when }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("cdc_customer" as const), customer, op: fc.constantFrom("c" as const, "c" as const, "u" as const, "d" as const), ...when }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("cdc_order" as const), order, customer, op: fc.constantFrom("c" as const, "c" as const, "u" as const, "u" as const, "d" as const), status: fc.constantFrom("pending", "paid", "shipped", "cancelled", "refunded"), total: money, currency: fc.constantFrom("EUR", "USD"), ...when }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("cdc_item" as const), item: fc.integer({ min: 0, max: 5 }), order, product, quantity: fc.integer({ min: 1, max: 3 }), op: fc.constantFrom("c" as const, "c" as const, "u" as const, "d" as const), ...when }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("cdc_product" as const), product, name: fc.integer({ min: 0, max: 9 }), ...when }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("shopify" as const), order, byName: fc.boolean(), topic: fc.constantFrom("orders/create" as const, "orders/create" as const, "orders/cancelled" as const, "refunds/create" as const), total: money, ...when }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("bot" as const), product, ...when }) },
);

export const randomShop = fc.array(shopOp, { minLength: 8, maxLength: 40 });

const tsOf = (op: { day: number; minute: number }, plusMs = 0) => new Date(DAY0 + op.day * 86_400_000 + op.minute * 60_000 + plusMs).toISOString();
const pos = (op: { day: number; minute: number }, i: number) => `${String(DAY0 + op.day * 86_400_000 + op.minute * 60_000).padStart(15, "0")}:${String(i).padStart(6, "0")}`;

/** Loads the operations of one batch into the warehouse, as the pipeline would at that batch's load time. */
export async function loadBatch(exec: Executor, ops: ShopOp[], batch: number): Promise<void> {
  const loadedAt = BATCH_LOADED_AT[batch]!;
  const events: EventInput[] = [];
  const cdc: CdcChange[] = [];
  const hooks: { id: string; topic: string; ts: string; payload: Record<string, unknown> }[] = [];
  ops.forEach((op, i) => {
    if (op.batch !== batch) return;
    const id = `op${i}`;
    const ts = tsOf(op);
    switch (op.kind) {
      case "page":
        events.push({ id, ts, visitor: `v${op.visitor}`, type: "page", ...(op.campaign ? { campaign_source: "news", campaign_medium: "email", campaign_name: "spring" } : { referrer_medium: "search", referrer_source: "google" }) });
        break;
      case "product": {
        const event = op.added ? "Product Added" : "Product Viewed";
        const properties = op.asArray ? { products: [{ product_id: `p${op.product}`, quantity: 2 }, { product_id: null }] } : { product_id: `p${op.product}`, quantity: 1 };
        events.push({ id, ts, visitor: `v${op.visitor}`, event, properties });
        break;
      }
      case "identify":
        events.push({ id, ts, visitor: `v${op.visitor}`, user: `c${op.customer}`, type: "identify" });
        break;
      case "alias":
        events.push({ id, ts, visitor: null, user: `c${op.to}`, type: "alias", previous_id: `c${op.from}`, server_side: true });
        break;
      case "completed": {
        const products = Array.from({ length: op.lines }, (_, k) => ({ product_id: `p${k}`, quantity: k + 1, price: 10 }));
        const properties = { order_id: `o${op.order}`, total: op.total, currency: op.currency, ...(op.lines ? { products } : {}) };
        if (op.visitor === null) events.push({ id, ts, visitor: null, user: `c${op.customer ?? 0}`, event: "Order Completed", properties, server_side: true });
        else events.push({ id, ts, visitor: `v${op.visitor}`, user: op.customer === null ? null : `c${op.customer}`, event: "Order Completed", properties });
        break;
      }
      case "order_event":
        events.push({ id, ts, visitor: null, user: "c0", event: op.event, properties: { order_id: `o${op.order}`, ...(op.amount ? { total: op.amount } : {}), currency: "EUR" }, server_side: true });
        break;
      case "cdc_customer":
        cdc.push({ table: "customers", op: op.op, id: `c${op.customer}`, row: op.op === "d" ? undefined : { email: `c${op.customer}@example.com`, country: "DE", created_at: ts, updated_at: ts }, ts, position: pos(op, i) });
        break;
      case "cdc_order":
        cdc.push({ table: "orders", op: op.op, id: `o${op.order}`, row: op.op === "d" ? undefined : { customer_id: `c${op.customer}`, status: op.status, total_amount: op.total, currency: op.currency, created_at: tsOf({ day: op.day, minute: 0 }), updated_at: ts }, ts, position: pos(op, i) });
        break;
      case "cdc_item":
        cdc.push({ table: "order_items", op: op.op, id: `i${op.item}`, row: op.op === "d" ? undefined : { order_id: `o${op.order}`, product_id: `p${op.product}`, quantity: op.quantity, unit_price: "12.50" }, ts, position: pos(op, i) });
        break;
      case "cdc_product":
        cdc.push({ table: "products", op: "u", id: `p${op.product}`, row: { sku: `SKU${op.product}`, name: `name ${op.name}`, category: "misc", price: "10.00", currency: "EUR", updated_at: ts }, ts, position: pos(op, i) });
        break;
      case "shopify":
        if (op.topic === "refunds/create") hooks.push({ id, topic: op.topic, ts, payload: { id: `r${i}`, order_id: `s${op.order}`, transactions: [{ kind: "refund", status: "success", amount: op.total }] } });
        else hooks.push({ id, topic: op.topic, ts, payload: { id: `s${op.order}`, name: op.byName ? `#o${op.order}` : `#${1000 + op.order}`, customer: { id: "c1" }, total_price: op.total, currency: "EUR", created_at: tsOf({ day: op.day, minute: 0 }), ...(op.topic === "orders/cancelled" ? { cancelled_at: ts } : {}), line_items: [{ product_id: `p${op.order % 3}`, quantity: 1, price: op.total }] } });
        break;
      case "bot":
        events.push({ id, ts, visitor: "bot", type: "page", is_bot: true });
        events.push({ id: `${id}-oc`, ts, visitor: "bot", event: "Order Completed", is_bot: true, properties: { order_id: "ob", total: 5 } });
        break;
    }
  });
  if (events.length) await insertEvents(exec, events, loadedAt);
  if (cdc.length) await insertCdc(exec, cdc, loadedAt);
  if (hooks.length) await insertWebhooks(exec, hooks, loadedAt);
}

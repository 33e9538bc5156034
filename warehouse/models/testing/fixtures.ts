/**
 * Small hand-built warehouses for model tests: a temp DuckDB file with the raw/core/ops tables from
 * the contracts' DDL, and inserters that fill only the columns a test cares about.
 */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { warehouseDdl } from "../../duckdb/ddl.js";
import { openDuckDbFile, type Executor } from "../executor.js";

export interface TestWarehouse {
  exec: Executor;
  path: string;
  rows<T = Record<string, unknown>>(sql: string): Promise<T[]>;
  close(): Promise<void>;
}

export async function createTestWarehouse(): Promise<TestWarehouse> {
  const base = resolve(".data/scratch");
  mkdirSync(base, { recursive: true });
  const dir = mkdtempSync(join(base, "models-"));
  const path = join(dir, "warehouse.duckdb");
  const exec = await openDuckDbFile(path);
  await exec.run(warehouseDdl());
  return {
    exec,
    path,
    rows: async <T>(sql: string) => (await exec.query(sql)) as T[],
    async close() {
      await exec.close?.();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const lit = (v: unknown): string => {
  if (v === null || v === undefined) return "NULL";
  if (typeof v === "boolean" || typeof v === "number") return String(v);
  if (typeof v === "object") return `'${JSON.stringify(v).replace(/'/g, "''")}'`;
  return `'${String(v).replace(/'/g, "''")}'`;
};

async function insert(exec: Executor, table: string, rows: Record<string, unknown>[]) {
  if (rows.length === 0) return;
  const cols = Object.keys(rows[0]!);
  await exec.run(`INSERT INTO ${table} (${cols.join(", ")}) VALUES ${rows.map((r) => `(${cols.map((c) => lit(r[c])).join(", ")})`).join(", ")}`);
}

export interface EventInput {
  id: string;
  ts: string;
  visitor?: string | null;
  user?: string | null;
  type?: string;
  event?: string | null;
  properties?: Record<string, unknown>;
  is_bot?: boolean;
  consent?: boolean | null;
  page_path?: string | null;
  referrer_medium?: string | null;
  referrer_source?: string | null;
  referrer_host?: string | null;
  campaign_source?: string | null;
  campaign_medium?: string | null;
  campaign_name?: string | null;
  loaded_at?: string;
  is_late?: boolean;
}

/** Inserts events and records their partitions in ops.partitions_touched, as the pipeline does. */
export async function insertEvents(exec: Executor, events: EventInput[], loadedAt = "2026-01-01T00:00:00Z") {
  const rows = events.map((e) => ({
    event_id: e.id,
    message_id: e.id,
    source: "web",
    type: e.type ?? (e.event ? "track" : "page"),
    event: e.event ?? null,
    name: null,
    user_id: e.user ?? null,
    anonymous_id: e.visitor === undefined ? `anon-${e.user ?? e.id}` : e.visitor,
    event_ts: e.ts,
    received_at: e.ts,
    properties: e.properties ?? {},
    traits: {},
    context: {},
    integrations: {},
    consent_analytics: e.consent === undefined ? true : e.consent,
    consent_stripped: e.consent === false,
    consent: {},
    geo_source: "none",
    is_bot: e.is_bot ?? false,
    is_server_side: false,
    page_path: e.page_path ?? "/",
    referrer_medium: e.referrer_medium ?? null,
    referrer_source: e.referrer_source ?? null,
    referrer_host: e.referrer_host ?? null,
    campaign_source: e.campaign_source ?? null,
    campaign_medium: e.campaign_medium ?? null,
    campaign_name: e.campaign_name ?? null,
    request_id: "req",
    event_date: e.ts.slice(0, 10),
    is_late: e.is_late ?? false,
    lateness_ms: 0,
    loaded_at: e.loaded_at ?? loadedAt,
  }));
  await insert(exec, "raw.events", rows);
  await touch(exec, "raw.events", rows.map((r) => r.event_date), loadedAt);
}

export async function touch(exec: Executor, table: string, dates: string[], loadedAt: string) {
  for (const d of new Set(dates)) {
    await exec.run(
      `INSERT INTO ops.partitions_touched (table_name, event_date, rows_loaded, late_rows, first_loaded_at, last_loaded_at, last_late_at)
       VALUES ('${table}', DATE '${d}', 1, 0, '${loadedAt}', '${loadedAt}', NULL)
       ON CONFLICT (table_name, event_date) DO UPDATE SET last_loaded_at = excluded.last_loaded_at`,
    );
  }
}

const meta = (updatedAt: string, position = "0001") => ({ _position: position, _source_ts: updatedAt, _deleted: false, _updated_at: updatedAt });

export async function insertCustomers(exec: Executor, rows: { id: string; created_at?: string | null; email?: string; country?: string }[], updatedAt = "2026-01-01T00:00:00Z") {
  await insert(exec, "core.customers", rows.map((r) => ({ id: r.id, email: r.email ?? `${r.id}@example.com`, first_name: "F", last_name: "L", country: r.country ?? "DE", created_at: r.created_at ?? null, updated_at: r.created_at ?? null, ...meta(updatedAt) })));
}

export async function insertProducts(exec: Executor, rows: { id: string; price: number; category?: string }[], updatedAt = "2026-01-01T00:00:00Z") {
  await insert(exec, "core.products", rows.map((r) => ({ id: r.id, sku: `SKU-${r.id}`, name: `Product ${r.id}`, category: r.category ?? "misc", price: r.price, currency: "EUR", updated_at: updatedAt, ...meta(updatedAt) })));
}

export async function insertOrders(exec: Executor, rows: { id: string; customer: string; total: number; created_at: string; status?: string; deleted?: boolean }[], updatedAt = "2026-01-01T00:00:00Z") {
  await insert(exec, "core.orders", rows.map((r) => ({ id: r.id, customer_id: r.customer, status: r.status ?? "paid", total_amount: r.total, currency: "EUR", created_at: r.created_at, updated_at: r.created_at, ...meta(updatedAt), _deleted: r.deleted ?? false })));
}

export async function insertOrderItems(exec: Executor, rows: { id: string; order: string; product: string; quantity: number; unit_price: number }[], updatedAt = "2026-01-01T00:00:00Z") {
  await insert(exec, "core.order_items", rows.map((r) => ({ id: r.id, order_id: r.order, product_id: r.product, quantity: r.quantity, unit_price: r.unit_price, ...meta(updatedAt) })));
}

export async function insertWebhooks(exec: Executor, rows: { id: string; topic: string; ts: string; payload: Record<string, unknown>; provider?: string }[], loadedAt = "2026-01-01T00:00:00Z") {
  await insert(exec, "raw.webhooks", rows.map((r) => ({ event_id: r.id, provider: r.provider ?? "shopify", source: r.provider ?? "shopify", webhook_id: r.id, topic: r.topic, account: "shop.example", event_ts: r.ts, received_at: r.ts, payload: r.payload, request_id: "req", event_date: r.ts.slice(0, 10), loaded_at: loadedAt })));
  await touch(exec, "raw.webhooks", rows.map((r) => r.ts.slice(0, 10)), loadedAt);
}

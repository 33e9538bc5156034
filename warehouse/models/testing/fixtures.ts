/**
 * Small hand-built warehouses for model tests: a temp DuckDB file with the raw/core/ops tables from
 * the contracts' DDL, and inserters that fill only the columns a test cares about while keeping the
 * tables consistent the way the pipeline does: events also add to ops.realtime_metrics (the
 * pipeline's own per-minute function), CDC changes land in raw.cdc_changes and are applied to core.*
 * by source position, and every load records its partitions in ops.partitions_touched.
 */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { minuteMetrics } from "../../../pipeline/transforms/metrics.js";
import { warehouseDdl } from "../../duckdb/ddl.js";
import { DuckDBInstance } from "@duckdb/node-api";
import { duckDbExecutor, openDuckDbFile, type Executor } from "../executor.js";

export interface TestWarehouse {
  exec: Executor;
  path: string;
  rows<T = Record<string, unknown>>(sql: string): Promise<T[]>;
  close(): Promise<void>;
}

/** A warehouse in a temp file, or in memory (`memory`: faster, for tests that run the models many times). */
export async function createTestWarehouse(opts: { memory?: boolean } = {}): Promise<TestWarehouse> {
  const base = resolve(".data/scratch");
  mkdirSync(base, { recursive: true });
  const dir = mkdtempSync(join(base, "models-"));
  const path = join(dir, "warehouse.duckdb");
  let exec: Executor;
  if (opts.memory) {
    const instance = await DuckDBInstance.create(":memory:");
    const con = await instance.connect();
    exec = await duckDbExecutor(con, () => {
      con.closeSync();
      instance.closeSync();
    });
  } else {
    exec = await openDuckDbFile(path);
  }
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

export const lit = (v: unknown): string => {
  if (v === null || v === undefined) return "NULL";
  if (typeof v === "boolean" || typeof v === "number") return String(v);
  if (typeof v === "object") return `'${JSON.stringify(v).replace(/'/g, "''")}'`;
  return `'${String(v).replace(/'/g, "''")}'`;
};

async function insert(exec: Executor, table: string, rows: Record<string, unknown>[], conflict = "") {
  if (rows.length === 0) return;
  const cols = Object.keys(rows[0]!);
  await exec.run(`INSERT INTO ${table} (${cols.join(", ")}) VALUES ${rows.map((r) => `(${cols.map((c) => lit(r[c])).join(", ")})`).join(", ")}${conflict}`);
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
  server_side?: boolean;
  consent?: boolean | null;
  previous_id?: string | null;
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

/** Inserts events, adds them to ops.realtime_metrics and records their partitions, as the pipeline does. */
export async function insertEvents(exec: Executor, events: EventInput[], loadedAt = "2026-01-01T00:00:00Z") {
  const rows = events.map((e) => ({
    event_id: e.id,
    message_id: e.id,
    source: "web",
    type: e.type ?? (e.event ? "track" : "page"),
    event: e.event ?? null,
    name: null,
    user_id: e.user ?? null,
    anonymous_id: e.visitor === undefined ? (e.server_side ? null : `anon-${e.user ?? e.id}`) : e.visitor,
    previous_id: e.previous_id ?? null,
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
    is_server_side: e.server_side ?? false,
    page_path: e.server_side ? null : (e.page_path ?? "/"),
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
  const newest = rows.map((r) => new Date(r.loaded_at).toISOString()).sort().pop() ?? loadedAt;
  const metrics = minuteMetrics("events", rows.map((r) => ({ event_ts: new Date(r.event_ts).toISOString(), type: r.type, event: r.event, properties: r.properties, is_late: r.is_late })));
  await insert(
    exec,
    "ops.realtime_metrics",
    metrics.map((m) => ({ ...m, updated_at: newest })),
    ` ON CONFLICT (stream, minute) DO UPDATE SET events = realtime_metrics.events + excluded.events, orders = realtime_metrics.orders + excluded.orders,
       revenue = realtime_metrics.revenue + excluded.revenue, late_events = realtime_metrics.late_events + excluded.late_events, updated_at = excluded.updated_at`,
  );
  await touch(exec, "raw.events", rows.map((r) => r.event_date), newest);
}

export async function touch(exec: Executor, table: string, dates: string[], loadedAt: string) {
  for (const d of new Set(dates)) {
    await exec.run(
      `INSERT INTO ops.partitions_touched (table_name, event_date, rows_loaded, late_rows, first_loaded_at, last_loaded_at, last_late_at)
       VALUES ('${table}', DATE '${d}', 1, 0, '${loadedAt}', '${loadedAt}', NULL)
       ON CONFLICT (table_name, event_date) DO UPDATE SET last_loaded_at = greatest(partitions_touched.last_loaded_at, excluded.last_loaded_at)`,
    );
  }
}

const CORE_COLUMNS: Record<string, string[]> = {
  customers: ["email", "first_name", "last_name", "country", "created_at", "updated_at"],
  products: ["sku", "name", "category", "price", "currency", "updated_at"],
  orders: ["customer_id", "status", "total_amount", "currency", "created_at", "updated_at"],
  order_items: ["order_id", "product_id", "quantity", "unit_price"],
};

export interface CdcChange {
  table: "customers" | "products" | "orders" | "order_items";
  op: "c" | "u" | "d" | "r" | "t";
  id?: string;
  /** Row after the change (creates, updates) or before it (deletes); `id` is added. */
  row?: Record<string, unknown>;
  /** When the change happened in the source (default: the row's updated_at or created_at, else loadedAt). */
  ts?: string;
  /** Source position; default: the next one of a counter shared by the warehouse's changes. */
  position?: string;
}

let positions = 0;
const nextPosition = () => String(++positions).padStart(20, "0");

/**
 * Loads CDC changes as the pipeline does: raw.cdc_changes rows (partitioned by the change's date) and
 * core.* applied by source position (an older change never overwrites a newer one; a delete keeps
 * the row flagged _deleted). `loadedAt` is when the pipeline loaded them.
 */
export async function insertCdc(exec: Executor, changes: CdcChange[], loadedAt = "2026-01-01T00:00:00Z") {
  const raw = changes.map((c) => {
    const row: Record<string, unknown> | null = c.row ? { id: c.id, ...c.row } : c.id ? { id: c.id } : null;
    const ts = c.ts ?? String(c.row?.updated_at ?? c.row?.created_at ?? loadedAt);
    const position = c.position ?? nextPosition();
    return {
      change: c,
      position,
      row,
      record: {
        event_id: `cdc-${c.table}-${c.id ?? "t"}-${position}`,
        source_connector: "postgresql",
        source_name: "shop",
        source_db: "shop",
        source_schema: "public",
        source_table: c.table,
        op: c.op,
        position,
        position_parts: {},
        ts_ms: Date.parse(ts),
        key: c.id ? { id: c.id } : {},
        key_string: c.id ? JSON.stringify({ id: c.id }) : "{}",
        ordering_key: `shop.public.${c.table}:${c.id ?? ""}`,
        before: c.op === "d" ? row : null,
        after: c.op === "d" || c.op === "t" ? null : row,
        tx_id: null,
        snapshot: c.op === "r",
        event_ts: new Date(Date.parse(ts)).toISOString(),
        received_at: loadedAt,
        request_id: "req",
        event_date: new Date(Date.parse(ts)).toISOString().slice(0, 10),
        loaded_at: loadedAt,
      },
    };
  });
  await insert(exec, "raw.cdc_changes", raw.map((r) => r.record));
  for (const { change, position, row, record } of raw) {
    const table = change.table;
    const meta = `${lit(position)}, ${lit(record.event_ts)}, ${change.op === "d"}, ${lit(loadedAt)}`;
    if (change.op === "t") {
      await exec.run(`UPDATE core.${table} SET _deleted = true, _position = ${lit(position)}, _updated_at = ${lit(loadedAt)} WHERE _position < ${lit(position)}`);
      continue;
    }
    const cols = CORE_COLUMNS[table]!;
    const values = cols.map((c) => lit(row?.[c] ?? null)).join(", ");
    const sets = cols.map((c) => `${c} = CASE WHEN excluded._deleted THEN coalesce(excluded.${c}, ${table}.${c}) ELSE excluded.${c} END`);
    await exec.run(
      `INSERT INTO core.${table} (id, ${cols.join(", ")}, _position, _source_ts, _deleted, _updated_at) VALUES (${lit(change.id)}, ${values}, ${meta})
       ON CONFLICT (id) DO UPDATE SET ${[...sets, "_position = excluded._position", "_source_ts = excluded._source_ts", "_deleted = excluded._deleted", "_updated_at = excluded._updated_at"].join(", ")}
       WHERE ${table}._position < excluded._position`,
    );
  }
  await touch(exec, "raw.cdc_changes", raw.map((r) => r.record.event_date), loadedAt);
}

export async function insertCustomers(exec: Executor, rows: { id: string; created_at?: string | null; email?: string; country?: string }[], loadedAt = "2026-01-01T00:00:00Z") {
  await insertCdc(
    exec,
    rows.map((r) => ({ table: "customers", op: "c", id: r.id, row: { email: r.email ?? `${r.id}@example.com`, first_name: "F", last_name: "L", country: r.country ?? "DE", created_at: r.created_at ?? null, updated_at: r.created_at ?? null }, ts: r.created_at ?? loadedAt })),
    loadedAt,
  );
}

export async function insertProducts(exec: Executor, rows: { id: string; price: number; category?: string; name?: string }[], loadedAt = "2026-01-01T00:00:00Z") {
  await insertCdc(exec, rows.map((r) => ({ table: "products", op: "r", id: r.id, row: { sku: `SKU-${r.id}`, name: r.name ?? `Product ${r.id}`, category: r.category ?? "misc", price: r.price, currency: "EUR", updated_at: loadedAt }, ts: loadedAt })), loadedAt);
}

export interface OrderInput {
  id: string;
  customer: string;
  total: number | string;
  created_at: string;
  status?: string;
  currency?: string;
}

const orderRow = (r: OrderInput) => ({ customer_id: r.customer, status: r.status ?? "paid", total_amount: r.total, currency: r.currency ?? "USD", created_at: r.created_at, updated_at: r.created_at });

export async function insertOrders(exec: Executor, rows: OrderInput[], loadedAt = "2026-01-01T00:00:00Z") {
  await insertCdc(exec, rows.map((r) => ({ table: "orders", op: "c", id: r.id, row: orderRow(r), ts: r.created_at })), loadedAt);
}

/** A later version of an order (status change, new total…), happening at `ts`. */
export async function updateOrder(exec: Executor, order: OrderInput, ts: string, loadedAt: string, position?: string) {
  await insertCdc(exec, [{ table: "orders", op: "u", id: order.id, row: { ...orderRow(order), updated_at: ts }, ts, position }], loadedAt);
}

export async function deleteRow(exec: Executor, table: CdcChange["table"], id: string, ts: string, loadedAt: string) {
  await insertCdc(exec, [{ table, op: "d", id, ts }], loadedAt);
}

export async function insertOrderItems(exec: Executor, rows: { id: string; order: string; product: string; quantity: number; unit_price: number }[], loadedAt = "2026-01-01T00:00:00Z", ts?: string) {
  await insertCdc(exec, rows.map((r) => ({ table: "order_items", op: "c", id: r.id, row: { order_id: r.order, product_id: r.product, quantity: r.quantity, unit_price: r.unit_price }, ts: ts ?? loadedAt })), loadedAt);
}

export async function insertWebhooks(exec: Executor, rows: { id: string; topic: string; ts: string; payload: Record<string, unknown>; provider?: string }[], loadedAt = "2026-01-01T00:00:00Z") {
  await insert(exec, "raw.webhooks", rows.map((r) => ({ event_id: r.id, provider: r.provider ?? "shopify", source: r.provider ?? "shopify", webhook_id: r.id, topic: r.topic, account: "shop.example", event_ts: r.ts, received_at: r.ts, payload: r.payload, request_id: "req", event_date: r.ts.slice(0, 10), loaded_at: loadedAt })));
  await touch(exec, "raw.webhooks", rows.map((r) => r.ts.slice(0, 10)), loadedAt);
}

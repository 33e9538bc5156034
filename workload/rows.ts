/**
 * The workload written straight into the warehouse as the pipeline would leave it (raw.events,
 * raw.webhooks, raw.cdc_changes, core.*, ops.realtime_metrics, ops.partitions_touched), without the
 * edge: for model tests and the 10-million-event bench. Visitors are generated in chunks and loaded
 * through NDJSON files with read_json, so memory stays flat however large the workload. CDC records
 * are built by the edge's own Debezium mapping and the real-time metrics by the pipeline's.
 */
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { toCdcItem } from "../edge/src/cdc/records.js";
import { DEFAULT_CDC_PII_FIELDS } from "../edge/src/enrich/pii-defaults.js";
import { minuteMetrics } from "../pipeline/transforms/metrics.js";
import type { Executor } from "../warehouse/models/executor.js";
import { catalogue, catalogueItems, startOf, visitorItems, type WorkloadItem, type WorkloadOptions } from "./generate.js";

/** Order events of the Segment e-commerce spec: a shop without them reports its orders another way. */
export const ORDER_EVENTS = new Set(["Order Completed", "Order Cancelled", "Order Refunded"]);

export interface RowsOptions {
  /** Visitors per chunk (one NDJSON file and one load per table per chunk). */
  chunkUsers?: number;
  /** When the pipeline loaded the rows: each row is loaded when it was delivered, at the latest at this time. */
  loadedAt?: string;
  /** Only visitors [from, to) (default: all). */
  from?: number;
  to?: number;
  /** Skip the product catalogue (when loading a second slice into the same warehouse). */
  skipCatalogue?: boolean;
  /**
   * Which systems report the shop's orders (default: all): `cdc` (the shop database's change
   * stream), `shopify` (order and refund webhooks), `events` (Segment order events). The clickstream
   * without its order events is loaded either way.
   */
  orderSources?: ("cdc" | "shopify" | "events")[];
  onProgress?: (visitorsDone: number, visitorsTotal: number, events: number) => void;
  scratchDir?: string;
}

function referrerClass(url: string): { medium: string | null; source: string | null; host: string | null } {
  if (!url) return { medium: "direct", source: null, host: null };
  const host = new URL(url).host;
  if (host.endsWith("shop.example.com")) return { medium: "internal", source: null, host };
  if (host.includes("google")) return { medium: "search", source: "google", host };
  if (host.includes("facebook")) return { medium: "social", source: "facebook", host };
  if (host.includes("instagram")) return { medium: "social", source: "instagram", host };
  return { medium: "unknown", source: null, host };
}

export function eventRow(it: Extract<WorkloadItem, { kind: "event" }>, loadedAt: string): Record<string, unknown> {
  const e = it.event;
  const page = e.context.page;
  const url = page ? new URL(page.url) : null;
  const ref = page ? referrerClass(page.referrer) : { medium: null, source: null, host: null };
  const withheld = e.context.consent?.categoryPreferences.analytics === false;
  return {
    event_id: e.messageId,
    message_id: e.messageId,
    type: e.type,
    event: e.event ?? null,
    name: e.name ?? null,
    user_id: withheld ? null : (e.userId ?? null),
    anonymous_id: withheld ? null : (e.anonymousId ?? null),
    event_ts: e.timestamp,
    properties: e.properties ?? {},
    consent_analytics: withheld ? false : null,
    consent_stripped: withheld,
    is_bot: it.bot,
    is_server_side: it.server === true,
    ua_device_type: e.context.userAgent ? (/iPhone|Android/.test(e.context.userAgent) ? "mobile" : "desktop") : null,
    page_url: page?.url ?? null,
    page_path: url?.pathname ?? null,
    page_host: url?.host ?? null,
    referrer_url: page?.referrer || null,
    referrer_host: ref.host,
    referrer_medium: ref.medium,
    referrer_source: ref.source,
    campaign_source: url?.searchParams.get("utm_source") ?? null,
    campaign_medium: url?.searchParams.get("utm_medium") ?? null,
    campaign_name: url?.searchParams.get("utm_campaign") ?? null,
    library_name: e.context.library.name,
    event_date: e.timestamp.slice(0, 10),
    is_late: it.late,
    loaded_at: loadedAt,
  };
}

const EVENT_COLUMNS = `{event_id: 'VARCHAR', message_id: 'VARCHAR', type: 'VARCHAR', event: 'VARCHAR', name: 'VARCHAR', user_id: 'VARCHAR', anonymous_id: 'VARCHAR', event_ts: 'TIMESTAMPTZ', properties: 'JSON', consent_analytics: 'BOOLEAN', consent_stripped: 'BOOLEAN', is_bot: 'BOOLEAN', is_server_side: 'BOOLEAN', ua_device_type: 'VARCHAR', page_url: 'VARCHAR', page_path: 'VARCHAR', page_host: 'VARCHAR', referrer_url: 'VARCHAR', referrer_host: 'VARCHAR', referrer_medium: 'VARCHAR', referrer_source: 'VARCHAR', campaign_source: 'VARCHAR', campaign_medium: 'VARCHAR', campaign_name: 'VARCHAR', library_name: 'VARCHAR', event_date: 'DATE', is_late: 'BOOLEAN', loaded_at: 'TIMESTAMPTZ'}`;

const CORE_COLUMNS: Record<string, string> = {
  customers: "{id: 'VARCHAR', email: 'VARCHAR', first_name: 'VARCHAR', last_name: 'VARCHAR', country: 'VARCHAR', created_at: 'TIMESTAMPTZ', updated_at: 'TIMESTAMPTZ', _position: 'VARCHAR', _source_ts: 'TIMESTAMPTZ'}",
  products: "{id: 'VARCHAR', sku: 'VARCHAR', name: 'VARCHAR', category: 'VARCHAR', price: 'DECIMAL(38,9)', currency: 'VARCHAR', updated_at: 'TIMESTAMPTZ', _position: 'VARCHAR', _source_ts: 'TIMESTAMPTZ'}",
  orders: "{id: 'VARCHAR', customer_id: 'VARCHAR', status: 'VARCHAR', total_amount: 'DECIMAL(38,9)', currency: 'VARCHAR', created_at: 'TIMESTAMPTZ', updated_at: 'TIMESTAMPTZ', _position: 'VARCHAR', _source_ts: 'TIMESTAMPTZ'}",
  order_items: "{id: 'VARCHAR', order_id: 'VARCHAR', product_id: 'VARCHAR', quantity: 'BIGINT', unit_price: 'DECIMAL(38,9)', _position: 'VARCHAR', _source_ts: 'TIMESTAMPTZ'}",
};

const CDC_COLUMNS = `{event_id: 'VARCHAR', source_connector: 'VARCHAR', source_name: 'VARCHAR', source_db: 'VARCHAR', source_schema: 'VARCHAR', source_table: 'VARCHAR', op: 'VARCHAR', position: 'VARCHAR', position_parts: 'JSON', ts_ms: 'BIGINT', key: 'JSON', key_string: 'VARCHAR', ordering_key: 'VARCHAR', before: 'JSON', after: 'JSON', tx_id: 'VARCHAR', snapshot: 'BOOLEAN', event_ts: 'TIMESTAMPTZ', received_at: 'TIMESTAMPTZ', request_id: 'VARCHAR', event_date: 'DATE', loaded_at: 'TIMESTAMPTZ'}`;

const WEBHOOK_COLUMNS = "{event_id: 'VARCHAR', topic: 'VARCHAR', provider: 'VARCHAR', webhook_id: 'VARCHAR', account: 'VARCHAR', event_ts: 'TIMESTAMPTZ', payload: 'JSON', event_date: 'DATE', loaded_at: 'TIMESTAMPTZ'}";

const q = (s: string) => `'${s.replace(/'/g, "''")}'`;

/** Writes visitors [from, to) of the workload into the warehouse; returns the event rows and orders written. */
export async function writeWorkloadRows(exec: Executor, o: WorkloadOptions, ro: RowsOptions = {}): Promise<{ events: number; orders: number }> {
  const loadedAt = ro.loadedAt ?? new Date().toISOString();
  const loadedMs = Date.parse(loadedAt);
  const loadedAtOf = (at: number) => new Date(Math.min(at + 1_000, loadedMs)).toISOString();
  const sources = new Set(ro.orderSources ?? ["cdc", "shopify", "events"]);
  const dir = resolve(ro.scratchDir ?? ".data/scratch", `workload-${process.pid}-${Date.now()}`);
  mkdirSync(dir, { recursive: true });
  const products = catalogue(o.seed, o.users);
  const from = ro.from ?? 0;
  const to = ro.to ?? o.users;
  const chunk = ro.chunkUsers ?? 20_000;
  let events = 0;
  let orders = 0;
  const touched = new Map<string, Set<string>>([["raw.events", new Set()], ["raw.webhooks", new Set()], ["raw.cdc_changes", new Set()]]);
  try {
    if (!ro.skipCatalogue) await loadCdc(exec, dir, catalogueItems(o), loadedAtOf, loadedAt, touched);
    for (let a = from; a < to; a += chunk) {
      const b = Math.min(to, a + chunk);
      const evRows: Record<string, unknown>[] = [];
      const whLines: string[] = [];
      const cdcItems: WorkloadItem[] = [];
      for (let v = a; v < b; v++) {
        for (const it of visitorItems(o, v, products)) {
          if (it.kind === "event") {
            if (it.duplicate) continue; // the pipeline stores a redelivered event once
            if (!sources.has("events") && ORDER_EVENTS.has(it.event.event ?? "")) continue;
            const row = eventRow(it, loadedAtOf(it.at));
            evRows.push(row);
            touched.get("raw.events")!.add(row.event_date as string);
          } else if (it.kind === "shopify") {
            if (!sources.has("shopify")) continue;
            const ts = new Date(it.at).toISOString();
            whLines.push(JSON.stringify({ event_id: it.webhookId, topic: it.topic, provider: "shopify", webhook_id: it.webhookId, account: "tideline-demo.myshopify.com", event_ts: ts, payload: it.body, event_date: ts.slice(0, 10), loaded_at: loadedAtOf(it.at) }));
            touched.get("raw.webhooks")!.add(ts.slice(0, 10));
          } else if (it.kind === "cdc") {
            if (!sources.has("cdc") && it.change.source.table !== "products") continue;
            cdcItems.push(it);
            if (it.change.source.table === "orders" && it.change.op === "c") orders++;
          }
        }
      }
      events += evRows.length;
      const evFile = join(dir, "events.ndjson");
      writeFileSync(evFile, evRows.map((r) => JSON.stringify(r)).join("\n") + "\n");
      await exec.run(
        `INSERT INTO raw.events BY NAME SELECT *, 'web' AS source, '{}'::JSON AS traits, '{}'::JSON AS context, '{}'::JSON AS integrations, '{}'::JSON AS consent, 'none' AS geo_source, 'gen' AS request_id, event_ts AS received_at, 0::BIGINT AS lateness_ms
         FROM read_json(${q(evFile)}, format = 'newline_delimited', columns = ${EVENT_COLUMNS}) WHERE event_id NOT IN (SELECT event_id FROM raw.events)`,
      );
      await addRealtimeMetrics(exec, dir, evRows, loadedAt);
      if (whLines.length > 0) {
        const whFile = join(dir, "webhooks.ndjson");
        writeFileSync(whFile, whLines.join("\n") + "\n");
        await exec.run(
          `INSERT INTO raw.webhooks BY NAME SELECT *, 'shopify' AS source, event_ts AS received_at, 'gen' AS request_id
           FROM read_json(${q(whFile)}, format = 'newline_delimited', columns = ${WEBHOOK_COLUMNS}) WHERE event_id NOT IN (SELECT event_id FROM raw.webhooks)`,
        );
      }
      await loadCdc(exec, dir, cdcItems, loadedAtOf, loadedAt, touched);
      ro.onProgress?.(b - from, to - from, events);
    }
    for (const [table, dates] of touched) {
      if (dates.size === 0) continue;
      await exec.run(
        `INSERT INTO ops.partitions_touched (table_name, event_date, rows_loaded, late_rows, first_loaded_at, last_loaded_at, last_late_at)
         SELECT ${q(table)}, CAST(d AS DATE), 0, 0, ${q(loadedAt)}, ${q(loadedAt)}, NULL FROM (VALUES ${[...dates].map((d) => `(${q(d)})`).join(", ")}) AS t(d)
         ON CONFLICT (table_name, event_date) DO UPDATE SET last_loaded_at = excluded.last_loaded_at`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return { events, orders };
}

/** The pipeline's per-minute metrics of the loaded events, added to ops.realtime_metrics. */
async function addRealtimeMetrics(exec: Executor, dir: string, rows: Record<string, unknown>[], loadedAt: string) {
  const metrics = minuteMetrics("events", rows.map((r) => ({ event_ts: String(r.event_ts), type: String(r.type), event: (r.event as string | null) ?? null, properties: r.properties as Record<string, unknown>, is_late: Boolean(r.is_late) })));
  if (metrics.length === 0) return;
  const file = join(dir, "metrics.ndjson");
  writeFileSync(file, metrics.map((m) => JSON.stringify({ ...m, updated_at: loadedAt })).join("\n") + "\n");
  await exec.run(
    `INSERT INTO ops.realtime_metrics BY NAME SELECT * FROM read_json(${q(file)}, format = 'newline_delimited', columns = {stream: 'VARCHAR', minute: 'TIMESTAMPTZ', events: 'BIGINT', orders: 'BIGINT', revenue: 'DECIMAL(38,9)', late_events: 'BIGINT', updated_at: 'TIMESTAMPTZ'})
     ON CONFLICT (stream, minute) DO UPDATE SET events = realtime_metrics.events + excluded.events, orders = realtime_metrics.orders + excluded.orders,
       revenue = realtime_metrics.revenue + excluded.revenue, late_events = realtime_metrics.late_events + excluded.late_events, updated_at = excluded.updated_at`,
  );
}

/** The edge's CDC settings in dev (wrangler.toml's top level): the default PII columns and dev key. */
const EDGE_DEV_CDC = {
  CDC_PII_FIELDS: Object.fromEntries(Object.entries(DEFAULT_CDC_PII_FIELDS).map(([table, paths]) => [table, paths.map((p) => p.split("."))])),
  PII_HASH_KEY: "local_pii_hash_key",
};

/**
 * CDC changes: the change log (raw.cdc_changes, records as the edge builds them) and the final row
 * states applied in source order (core.*, as the pipeline's CDC apply leaves them).
 */
async function loadCdc(exec: Executor, dir: string, items: WorkloadItem[], loadedAtOf: (at: number) => string, loadedAt: string, touched: Map<string, Set<string>>) {
  const state = new Map<string, Map<string, Record<string, unknown>>>();
  const changes = items.filter((i): i is Extract<WorkloadItem, { kind: "cdc" }> => i.kind === "cdc");
  const log: string[] = [];
  for (const it of changes) {
    const item = toCdcItem(it.change, { receivedAtIso: new Date(it.at).toISOString(), requestId: "gen", cfg: EDGE_DEV_CDC });
    if (item.kind !== "record") throw new Error(`the workload produced a CDC change the edge rejects: ${JSON.stringify(item)}`);
    const r = item.record;
    log.push(JSON.stringify({ ...r, event_date: r.event_ts.slice(0, 10), loaded_at: loadedAtOf(it.at) }));
  }
  for (const it of changes.sort((x, y) => x.change.source.lsn - y.change.source.lsn)) {
    const c = it.change;
    const row = c.after ?? c.before;
    if (!row) continue;
    let t = state.get(c.source.table);
    if (!t) state.set(c.source.table, (t = new Map()));
    t.set(String(row.id), { ...row, _position: String(c.source.lsn).padStart(20, "0"), _source_ts: new Date(c.ts_ms).toISOString(), _deleted: c.op === "d" });
    touched.get("raw.cdc_changes")!.add(new Date(c.ts_ms).toISOString().slice(0, 10));
  }
  if (log.length > 0) {
    const file = join(dir, "cdc.ndjson");
    writeFileSync(file, log.join("\n") + "\n");
    await exec.run(`INSERT INTO raw.cdc_changes BY NAME SELECT * FROM read_json(${q(file)}, format = 'newline_delimited', columns = ${CDC_COLUMNS}) WHERE event_id NOT IN (SELECT event_id FROM raw.cdc_changes)`);
  }
  for (const [table, rows] of state) {
    const file = join(dir, `${table}.ndjson`);
    writeFileSync(file, [...rows.values()].map((r) => JSON.stringify(r)).join("\n") + "\n");
    await exec.run(
      `INSERT OR REPLACE INTO core.${table} BY NAME SELECT *, false AS _deleted, ${q(loadedAt)}::TIMESTAMPTZ AS _updated_at
       FROM read_json(${q(file)}, format = 'newline_delimited', columns = ${CORE_COLUMNS[table]})`,
    );
  }
}

export { startOf };

/**
 * The workload written straight into the warehouse as the pipeline would leave it (raw.events,
 * raw.webhooks, core.*, ops.partitions_touched), without the edge: for model tests and the
 * 10-million-event bench. Visitors are generated in chunks and loaded through NDJSON files with
 * read_json, so memory stays flat however large the workload.
 */
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Executor } from "../../warehouse/models/executor.js";
import { catalogue, catalogueItems, startOf, visitorItems, type WorkloadItem, type WorkloadOptions } from "./generate.js";

export interface RowsOptions {
  /** Visitors per chunk (one NDJSON file and one load per table per chunk). */
  chunkUsers?: number;
  /** loaded_at / _updated_at of the rows (what incremental runs compare against). */
  loadedAt?: string;
  /** Only visitors [from, to) (default: all). */
  from?: number;
  to?: number;
  /** Skip the product catalogue (when loading a second slice into the same warehouse). */
  skipCatalogue?: boolean;
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
  const url = new URL(e.context.page.url);
  const ref = referrerClass(e.context.page.referrer);
  const withheld = e.context.consent?.categoryPreferences.analytics === false;
  return {
    event_id: e.messageId,
    message_id: e.messageId,
    type: e.type,
    event: e.event ?? null,
    name: e.name ?? null,
    user_id: withheld ? null : (e.userId ?? null),
    anonymous_id: withheld ? null : e.anonymousId,
    event_ts: e.timestamp,
    properties: e.properties ?? {},
    consent_analytics: withheld ? false : null,
    consent_stripped: withheld,
    is_bot: it.bot,
    is_server_side: false,
    ua_device_type: /iPhone|Android/.test(e.context.userAgent) ? "mobile" : "desktop",
    page_url: e.context.page.url,
    page_path: url.pathname,
    page_host: url.host,
    referrer_url: e.context.page.referrer || null,
    referrer_host: ref.host,
    referrer_medium: ref.medium,
    referrer_source: ref.source,
    campaign_source: url.searchParams.get("utm_source"),
    campaign_medium: url.searchParams.get("utm_medium"),
    campaign_name: url.searchParams.get("utm_campaign"),
    event_date: e.timestamp.slice(0, 10),
    is_late: it.late,
    loaded_at: loadedAt,
  };
}

const EVENT_COLUMNS = `{event_id: 'VARCHAR', message_id: 'VARCHAR', type: 'VARCHAR', event: 'VARCHAR', name: 'VARCHAR', user_id: 'VARCHAR', anonymous_id: 'VARCHAR', event_ts: 'TIMESTAMPTZ', properties: 'JSON', consent_analytics: 'BOOLEAN', consent_stripped: 'BOOLEAN', is_bot: 'BOOLEAN', is_server_side: 'BOOLEAN', ua_device_type: 'VARCHAR', page_url: 'VARCHAR', page_path: 'VARCHAR', page_host: 'VARCHAR', referrer_url: 'VARCHAR', referrer_host: 'VARCHAR', referrer_medium: 'VARCHAR', referrer_source: 'VARCHAR', campaign_source: 'VARCHAR', campaign_medium: 'VARCHAR', campaign_name: 'VARCHAR', event_date: 'DATE', is_late: 'BOOLEAN', loaded_at: 'TIMESTAMPTZ'}`;

const CORE_COLUMNS: Record<string, string> = {
  customers: "{id: 'VARCHAR', email: 'VARCHAR', first_name: 'VARCHAR', last_name: 'VARCHAR', country: 'VARCHAR', created_at: 'TIMESTAMPTZ', updated_at: 'TIMESTAMPTZ', _position: 'VARCHAR', _source_ts: 'TIMESTAMPTZ'}",
  products: "{id: 'VARCHAR', sku: 'VARCHAR', name: 'VARCHAR', category: 'VARCHAR', price: 'DECIMAL(38,9)', currency: 'VARCHAR', updated_at: 'TIMESTAMPTZ', _position: 'VARCHAR', _source_ts: 'TIMESTAMPTZ'}",
  orders: "{id: 'VARCHAR', customer_id: 'VARCHAR', status: 'VARCHAR', total_amount: 'DECIMAL(38,9)', currency: 'VARCHAR', created_at: 'TIMESTAMPTZ', updated_at: 'TIMESTAMPTZ', _position: 'VARCHAR', _source_ts: 'TIMESTAMPTZ'}",
  order_items: "{id: 'VARCHAR', order_id: 'VARCHAR', product_id: 'VARCHAR', quantity: 'BIGINT', unit_price: 'DECIMAL(38,9)', _position: 'VARCHAR', _source_ts: 'TIMESTAMPTZ'}",
};

const WEBHOOK_COLUMNS = "{event_id: 'VARCHAR', topic: 'VARCHAR', provider: 'VARCHAR', webhook_id: 'VARCHAR', account: 'VARCHAR', event_ts: 'TIMESTAMPTZ', payload: 'JSON', event_date: 'DATE'}";

const q = (s: string) => `'${s.replace(/'/g, "''")}'`;

/** Writes visitors [from, to) of the workload into the warehouse; returns the event rows written. */
export async function writeWorkloadRows(exec: Executor, o: WorkloadOptions, ro: RowsOptions = {}): Promise<{ events: number; orders: number }> {
  const loadedAt = ro.loadedAt ?? new Date().toISOString();
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
    if (!ro.skipCatalogue) await loadCore(exec, dir, catalogueItems(o), loadedAt, touched);
    for (let a = from; a < to; a += chunk) {
      const b = Math.min(to, a + chunk);
      const evLines: string[] = [];
      const whLines: string[] = [];
      const cdcItems: WorkloadItem[] = [];
      for (let v = a; v < b; v++) {
        for (const it of visitorItems(o, v, products)) {
          if (it.kind === "event") {
            if (it.duplicate) continue; // the pipeline stores a redelivered event once
            const row = eventRow(it, loadedAt);
            evLines.push(JSON.stringify(row));
            touched.get("raw.events")!.add(row.event_date as string);
          } else if (it.kind === "shopify") {
            const ts = new Date(it.at).toISOString();
            whLines.push(JSON.stringify({ event_id: it.webhookId, topic: it.topic, provider: "shopify", webhook_id: it.webhookId, account: "tideline-demo.myshopify.com", event_ts: ts, payload: it.body, event_date: ts.slice(0, 10) }));
            touched.get("raw.webhooks")!.add(ts.slice(0, 10));
          } else if (it.kind === "cdc") {
            cdcItems.push(it);
            if (it.change.source.table === "orders" && it.change.op === "c") orders++;
          }
        }
      }
      events += evLines.length;
      const evFile = join(dir, "events.ndjson");
      writeFileSync(evFile, evLines.join("\n") + "\n");
      await exec.run(
        `INSERT INTO raw.events BY NAME SELECT *, 'web' AS source, '{}'::JSON AS traits, '{}'::JSON AS context, '{}'::JSON AS integrations, '{}'::JSON AS consent, 'none' AS geo_source, 'gen' AS request_id, event_ts AS received_at, 0::BIGINT AS lateness_ms
         FROM read_json(${q(evFile)}, format = 'newline_delimited', columns = ${EVENT_COLUMNS}) WHERE event_id NOT IN (SELECT event_id FROM raw.events)`,
      );
      if (whLines.length > 0) {
        const whFile = join(dir, "webhooks.ndjson");
        writeFileSync(whFile, whLines.join("\n") + "\n");
        await exec.run(
          `INSERT INTO raw.webhooks BY NAME SELECT *, 'shopify' AS source, event_ts AS received_at, 'gen' AS request_id, ${q(loadedAt)}::TIMESTAMPTZ AS loaded_at
           FROM read_json(${q(whFile)}, format = 'newline_delimited', columns = ${WEBHOOK_COLUMNS}) WHERE event_id NOT IN (SELECT event_id FROM raw.webhooks)`,
        );
      }
      await loadCore(exec, dir, cdcItems, loadedAt, touched);
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

/** Applies CDC changes in source order to final row states and upserts them into core.* (the pipeline's result). */
async function loadCore(exec: Executor, dir: string, items: WorkloadItem[], loadedAt: string, touched: Map<string, Set<string>>) {
  const state = new Map<string, Map<string, Record<string, unknown>>>();
  const sorted = items.filter((i): i is Extract<WorkloadItem, { kind: "cdc" }> => i.kind === "cdc").sort((x, y) => x.change.source.lsn - y.change.source.lsn);
  for (const it of sorted) {
    const c = it.change;
    const row = c.after ?? c.before;
    if (!row) continue;
    let t = state.get(c.source.table);
    if (!t) state.set(c.source.table, (t = new Map()));
    t.set(String(row.id), { ...row, _position: String(c.source.lsn).padStart(20, "0"), _source_ts: new Date(c.ts_ms).toISOString(), _deleted: c.op === "d" });
    touched.get("raw.cdc_changes")!.add(new Date(c.ts_ms).toISOString().slice(0, 10));
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

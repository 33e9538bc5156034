/**
 * Reconcile: the raw archive is the record of what the edge forwarded (each record is archived
 * only after it was published, and a queue message is acknowledged only after both). Pub/Sub is
 * the fast path; what it did not deliver (the local emulator keeps undelivered messages in memory
 * only, and loses them when it stops) is in the archive. Reconcile reads the archive objects
 * written since a time, asks the warehouse which of their records it holds (raw tables by
 * event_id, ops.dead_letters for what the pipeline refused and for archived dead letters), and
 * runs the objects with missing records through the same graph as a backfill, which skips stored
 * keys: running it twice loads nothing the second time.
 */
import type { DuckDBInstance } from "@duckdb/node-api";
import type { InputStream } from "./transforms/types.js";
import type { Stream } from "../contracts/records.js";
import { decodeChunk } from "./graph-fns.js";
import { runLocal } from "./run-local.js";
import type { ArchiveReader } from "./sources/archive.js";
import type { BatchOptions, BatchStats } from "./transforms/batch.js";
import type { WatermarkState } from "./transforms/event-time.js";
import type { WarehouseSink } from "./warehouse-sink.js";

export const RECONCILE_STREAMS = ["events", "webhooks", "cdc", "dead-letters"] as const;
export type ReconcileStream = (typeof RECONCILE_STREAMS)[number];

/** Where each stream's objects live in the raw bucket (dead letters under deadletter/). */
const PREFIX: Record<ReconcileStream, string> = { events: "raw/events", webhooks: "raw/webhooks", cdc: "raw/cdc", "dead-letters": "deadletter" };

/** Which of the given ids the warehouse holds, per stream. */
export interface StoredIds {
  stored(stream: ReconcileStream, ids: string[]): Promise<Set<string>>;
}

export interface ReconcileOptions {
  since: Date;
  reader: ArchiveReader;
  sink: WarehouseSink;
  stored: StoredIds;
  batch?: BatchOptions;
  now?: Date;
}

export interface StreamTally {
  objects: number;
  records: number;
  missing: number;
}

export interface ReconcileResult {
  since: string;
  /** Archive objects read and the records in them. */
  objects: number;
  records: number;
  /** Records the warehouse lacked before the run. */
  missing: number;
  /** Objects replayed because they held missing records. */
  replayedObjects: number;
  stats: BatchStats;
  streams: Record<ReconcileStream, StreamTally>;
}

const pad = (n: number) => String(n).padStart(2, "0");
const hourKey = (d: Date) => `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}T${pad(d.getUTCHours())}`;

/** The UTC dates from `since` to `now`, inclusive. */
function datesFrom(since: Date, now: Date): string[] {
  const out: string[] = [];
  const end = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  for (let t = Date.UTC(since.getUTCFullYear(), since.getUTCMonth(), since.getUTCDate()); t <= end; t += 86_400_000) out.push(new Date(t).toISOString().slice(0, 10));
  return out;
}

/** The key a stream's records are stored under. */
function idOf(stream: ReconcileStream, data: string): string | null {
  try {
    const r = JSON.parse(data) as Record<string, unknown>;
    const id = stream === "dead-letters" ? r.dead_letter_id : r.event_id;
    return typeof id === "string" && id ? id : null;
  } catch {
    return null;
  }
}

export async function reconcileArchive(o: ReconcileOptions): Promise<ReconcileResult> {
  const now = o.now ?? new Date();
  if (Number.isNaN(o.since.getTime())) throw new Error("reconcile: `since` is not a time");
  if (o.since.getTime() > now.getTime()) throw new Error(`reconcile: --since ${o.since.toISOString()} is in the future`);
  const fromHour = hourKey(o.since);
  const result: ReconcileResult = {
    since: o.since.toISOString(),
    objects: 0,
    records: 0,
    missing: 0,
    replayedObjects: 0,
    stats: { messages: 0, duplicates: 0, loaded: 0, late: 0, deadLettered: 0, cdcIgnored: 0 },
    streams: Object.fromEntries(RECONCILE_STREAMS.map((s) => [s, { objects: 0, records: 0, missing: 0 }])) as Record<ReconcileStream, StreamTally>,
  };
  const replayWatermarks = new Map<Stream, WatermarkState>();
  for (const date of datesFrom(o.since, now)) {
    for (const stream of RECONCILE_STREAMS) {
      const objects = (await o.reader.list(`${PREFIX[stream]}/dt=${date}/`))
        .filter((obj) => `${date}T${/\/hour=(\d{2})\//.exec(obj.name)?.[1] ?? "00"}` >= fromHour)
        .sort((a, b) => a.name.localeCompare(b.name));
      for (const obj of objects) {
        const gzip = await o.reader.read(obj.name);
        const chunk = { kind: "archive" as const, id: obj.name, stream: stream as InputStream, object: obj.name, gzip };
        const ids = decodeChunk(chunk)
          .messages.map((m) => idOf(stream, m.data))
          .filter((id): id is string => id !== null);
        const stored = await o.stored.stored(stream, ids);
        const missing = ids.filter((id) => !stored.has(id)).length;
        const tally = result.streams[stream];
        tally.objects++;
        tally.records += ids.length;
        tally.missing += missing;
        result.objects++;
        result.records += ids.length;
        result.missing += missing;
        if (missing === 0) continue;
        // The whole object goes through the graph: stored keys are skipped there, as in a backfill.
        const r = await runLocal([chunk], o.sink, { mode: "replay", replayWatermarks, ...(o.batch ? { batch: o.batch } : {}) });
        result.replayedObjects++;
        for (const k of Object.keys(result.stats) as (keyof BatchStats)[]) result.stats[k] += r.stats[k];
      }
    }
  }
  return result;
}

const TABLE: Record<ReconcileStream, string> = { events: "raw.events", webhooks: "raw.webhooks", cdc: "raw.cdc_changes", "dead-letters": "ops.dead_letters" };

/**
 * StoredIds of a DuckDB warehouse: a record counts as held when its raw table has its event_id, or
 * when the pipeline refused it (ops.dead_letters names the event_id); a dead letter when
 * ops.dead_letters has its id.
 */
export function duckDbStoredIds(instance: DuckDBInstance): StoredIds & { close(): void } {
  let con: Awaited<ReturnType<DuckDBInstance["connect"]>> | null = null;
  return {
    async stored(stream, ids) {
      if (!ids.length) return new Set();
      con ??= await instance.connect();
      const list = JSON.stringify(ids);
      const sql =
        stream === "dead-letters"
          ? `SELECT dead_letter_id FROM ops.dead_letters WHERE dead_letter_id IN (SELECT unnest(from_json(?::JSON, '["VARCHAR"]')))`
          : `SELECT event_id FROM ${TABLE[stream]} WHERE event_id IN (SELECT unnest(from_json(?::JSON, '["VARCHAR"]')))
             UNION SELECT event_id FROM ops.dead_letters WHERE event_id IN (SELECT unnest(from_json(?::JSON, '["VARCHAR"]')))`;
      const r = await con.runAndReadAll(sql, stream === "dead-letters" ? [list] : [list, list]);
      return new Set(r.getRows().map(([id]) => String(id)));
    },
    close() {
      con?.closeSync();
      con = null;
    },
  };
}

/**
 * `--since` values: an ISO time or date, or a duration back from now (`90m`, `6h`, `7d`).
 */
export function parseSince(value: string, now = new Date()): Date {
  const rel = /^(\d+)\s*(m|h|d)$/.exec(value.trim());
  if (rel) return new Date(now.getTime() - Number(rel[1]) * { m: 60_000, h: 3_600_000, d: 86_400_000 }[rel[2] as "m" | "h" | "d"]);
  const t = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00Z` : value);
  if (Number.isNaN(t)) throw new Error(`--since ${value} is not a time: use an ISO time (2026-11-30T14:00:00Z), a date (2026-11-30) or a duration back from now (90m, 6h, 7d)`);
  return new Date(t);
}

/** One line for people: what was read, what was missing, what was loaded. */
export function describeReconcile(r: Pick<ReconcileResult, "since" | "objects" | "records" | "missing" | "replayedObjects" | "stats"> & { streams: Record<string, StreamTally> }): string {
  const per = Object.entries(r.streams)
    .filter(([, t]) => t.objects > 0)
    .map(([s, t]) => `${s} ${t.records} in ${t.objects} objects (${t.missing} missing)`)
    .join("; ");
  return (
    `reconcile since ${r.since}: ${r.objects} archive objects, ${r.records} records` +
    (per ? ` (${per})` : "") +
    `; ${r.missing} missing from the warehouse; ${r.stats.loaded} loaded from ${r.replayedObjects} objects, ${r.stats.deadLettered} dead letters`
  );
}

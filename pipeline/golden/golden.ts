/**
 * Golden vectors (README.md): reading them, their messages, and the canonical form of warehouse rows
 * that both engines' runners compare (pipeline/beam/tests/test_golden.py does the same in Python).
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { DuckDbSink } from "../../warehouse/duckdb/sink.js";
import { processMessages } from "../process-batch.js";
import { DEFAULT_BATCH_OPTIONS } from "../transforms/batch.js";
import type { InboundMessage } from "../transforms/types.js";

export const VECTORS_DIR = join(dirname(fileURLToPath(import.meta.url)), "vectors");
const GENERATED = join(dirname(fileURLToPath(import.meta.url)), "../../contracts/generated");

export const TABLES = [
  "raw.events",
  "raw.webhooks",
  "raw.cdc_changes",
  "core.customers",
  "core.products",
  "core.orders",
  "core.order_items",
  "ops.dead_letters",
  "ops.realtime_metrics",
] as const;
/** The time of the write: legitimately different between engines. */
export const EXCLUDED_COLUMNS = new Set(["loaded_at", "_updated_at", "updated_at"]);

type Row = Record<string, unknown>;

export interface VectorMessage {
  stream: string;
  record?: Row;
  data?: string;
  oversize?: { event_id: string; bytes: number };
  message_id?: string;
}

export interface Vector {
  description: string;
  now: string;
  batches: VectorMessage[][];
  expected?: Record<string, Row[]>;
}

export function loadVectors(): [string, Vector][] {
  return readdirSync(VECTORS_DIR)
    .filter((f) => f.endsWith(".json"))
    .sort()
    .map((f) => [f, JSON.parse(readFileSync(join(VECTORS_DIR, f), "utf8")) as Vector]);
}

/** The message text of a vector message: the record's JSON, the raw text, or an oversize record. */
export function messageOf(m: VectorMessage): InboundMessage {
  let data: string;
  let attributes: Record<string, string> = {};
  if (m.oversize) {
    const head = `{"event_id":${JSON.stringify(m.oversize.event_id)},"pad":"`;
    data = head + "x".repeat(m.oversize.bytes - head.length - 2) + '"}';
    attributes = { event_id: m.oversize.event_id };
  } else if (m.record) {
    data = JSON.stringify(m.record);
    attributes = { stream: m.stream, source: "test", event_id: String(m.record.event_id ?? ""), event_ts: String(m.record.event_ts ?? "") };
  } else {
    data = m.data ?? "";
  }
  return { stream: m.stream as InboundMessage["stream"], data, attributes, ...(m.message_id ? { messageId: m.message_id } : {}) };
}

interface Field {
  name: string;
  type: string;
}
const fieldsOf = (table: string): Field[] => (JSON.parse(readFileSync(join(GENERATED, "bigquery", `${table}.json`), "utf8")) as { schema: { fields: Field[] } }).schema.fields;
const keyOf = (table: string): string[] => (JSON.parse(readFileSync(join(GENERATED, "pipeline.json"), "utf8")) as { keys: Record<string, string[]> }).keys[table]!;

function canonicalValue(type: string, v: unknown): unknown {
  if (v === null || v === undefined) return null;
  switch (type) {
    case "TIMESTAMP": {
      const s = String(v);
      const iso = /^\d{4}-\d{2}-\d{2} /.test(s) ? s.replace(" ", "T").replace(/([+-]\d{2})$/, "$1:00") : s;
      return new Date(Date.parse(iso)).toISOString();
    }
    case "DATE":
      return String(v).slice(0, 10);
    case "NUMERIC": {
      const s = String(v);
      return s.includes(".") ? s.replace(/0+$/, "").replace(/\.$/, "") : s;
    }
    case "JSON":
      return typeof v === "string" ? JSON.parse(v) : v;
    case "INT64":
      return Number(v);
    case "BOOL":
      return Boolean(v);
    default:
      return String(v);
  }
}

/** Rows in the canonical form of README.md, sorted by the table's key. */
export function canonicalRows(table: string, rows: Row[]): Row[] {
  const fields = fieldsOf(table).filter((f) => !EXCLUDED_COLUMNS.has(f.name));
  const key = keyOf(table);
  const out = rows.map((r) => {
    const c: Row = {};
    for (const f of fields) c[f.name] = canonicalValue(f.type, r[f.name]);
    if (table === "ops.dead_letters" && typeof c.reason === "string") c.reason = c.reason.replace(/ is not JSON \(.*?\); /, " is not JSON (…); ");
    return c;
  });
  const k = (r: Row) => JSON.stringify(key.map((c) => r[c]));
  return out.sort((a, b) => (k(a) < k(b) ? -1 : k(a) > k(b) ? 1 : 0));
}

/** Runs a vector through the single-node engine into an in-memory DuckDB; canonical rows per table. */
export async function runSingleNode(v: Vector): Promise<Record<string, Row[]>> {
  const sink = await DuckDbSink.open(":memory:");
  try {
    await sink.init();
    for (const batch of v.batches) {
      await processMessages(sink, batch.map(messageOf), { mode: "live", batch: DEFAULT_BATCH_OPTIONS, now: () => v.now });
    }
    const out: Record<string, Row[]> = {};
    for (const t of TABLES) {
      const reader = await sink.con.runAndReadAll(`SELECT * FROM ${t}`);
      out[t] = canonicalRows(t, reader.getRowObjectsJson() as Row[]);
    }
    return out;
  } finally {
    await sink.close();
  }
}

/**
 * CDC apply: turns change events into the current state of core.customers/products/orders/order_items.
 * Per primary key, a change at or before the applied source position is ignored (older changes and
 * redeliveries), deletes and tombstones keep the row flagged `_deleted` with their position (so an
 * older create arriving later cannot revive it), and a primary-key change is a delete of the old key
 * plus a create of the new one. Tables are routed by `source_table` whatever the source schema.
 */
import { coreCustomers, coreOrderItems, coreOrders, coreProducts } from "../../contracts/tables.js";
import { columnsOf, type Column } from "../../contracts/generators/columns.js";
import type { CdcRecord } from "../../contracts/records.js";

export const CORE_TABLES = {
  customers: coreCustomers,
  products: coreProducts,
  orders: coreOrders,
  order_items: coreOrderItems,
} as const;
export type CoreTableName = keyof typeof CORE_TABLES;

/** Source columns of each core table (the CDC column contract of API.md), read from the contracts. */
export const CORE_COLUMNS: Record<CoreTableName, Column[]> = Object.fromEntries(
  Object.entries(CORE_TABLES).map(([name, spec]) => [name, columnsOf(spec.schema).filter((c) => !c.name.startsWith("_"))]),
) as Record<CoreTableName, Column[]>;

export function coreTableFor(sourceTable: string | null | undefined): CoreTableName | null {
  const t = (sourceTable ?? "").toLowerCase();
  return t in CORE_TABLES ? (t as CoreTableName) : null;
}

export interface AppliedPosition {
  position: string;
  deleted: boolean;
}

export interface CoreRow {
  table: CoreTableName;
  id: string;
  /** Source columns (null when the change carried no value, e.g. a tombstone). */
  values: Record<string, string | number | null>;
  _position: string;
  _source_ts: string;
  _deleted: boolean;
}

export interface CoreTruncate {
  table: CoreTableName;
  position: string;
  source_ts: string;
}

export interface CdcApplyResult {
  /** Final state per changed key, to upsert when its position is newer than the stored one. */
  rows: CoreRow[];
  truncates: CoreTruncate[];
  /** Changes that were older than or equal to what is applied. */
  ignored: number;
}

// Debezium encodes temporal columns by their type: io.debezium.time.Date (days), Timestamp (ms),
// MicroTimestamp (µs), NanoTimestamp (ns), ZonedTimestamp (ISO text). A plain number does not
// say which, so it is told apart by magnitude: every unit gives present-day values in its own band.
const DAYS_MAX = 1e6;
const SECONDS_MAX = 1e11;
const MILLIS_MAX = 1e14;
const MICROS_MAX = 1e17;

export function toTimestamp(v: unknown): string | null {
  if (v === null || v === undefined || v === "") return null;
  let n: number | null = null;
  if (typeof v === "number") n = v;
  else if (typeof v === "string" && /^-?\d+$/.test(v.trim())) n = Number(v);
  if (n !== null) {
    const a = Math.abs(n);
    const ms = a < DAYS_MAX ? n * 86_400_000 : a < SECONDS_MAX ? n * 1000 : a < MILLIS_MAX ? n : a < MICROS_MAX ? n / 1000 : n / 1e6;
    const d = new Date(Math.trunc(ms));
    return Number.isNaN(d.getTime()) ? null : d.toISOString();
  }
  if (typeof v !== "string") return null;
  const ms = Date.parse(v);
  return Number.isNaN(ms) ? null : new Date(ms).toISOString();
}

const DECIMAL_RE = /^-?\d+(\.\d+)?$/;

/** Amounts arrive as JSON numbers or decimal strings; kept as decimal text so nothing is rounded. */
export function toDecimal(v: unknown): string | null {
  if (typeof v === "number") {
    if (!Number.isFinite(v)) return null;
    const s = String(v);
    return DECIMAL_RE.test(s) ? s : v.toFixed(9);
  }
  if (typeof v === "string") {
    const s = v.trim();
    return DECIMAL_RE.test(s) ? s : null;
  }
  return null;
}

function toInt(v: unknown): number | null {
  if (typeof v === "number" && Number.isFinite(v)) return Math.trunc(v);
  if (typeof v === "string" && /^-?\d+$/.test(v.trim())) return Number(v);
  return null;
}

function toText(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "boolean" || typeof v === "bigint") return String(v);
  return JSON.stringify(v);
}

export function mapColumns(table: CoreTableName, src: Record<string, unknown> | null | undefined): Record<string, string | number | null> {
  const out: Record<string, string | number | null> = {};
  for (const c of CORE_COLUMNS[table]) {
    const v = src?.[c.name];
    out[c.name] = c.type === "TIMESTAMP" ? toTimestamp(v) : c.type === "NUMERIC" ? toDecimal(v) : c.type === "INT64" ? toInt(v) : toText(v);
  }
  return out;
}

const rowObject = (v: unknown): Record<string, unknown> | null =>
  typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null;

function idOf(row: Record<string, unknown> | null, key: unknown): string | null {
  const fromRow = row?.id;
  if (fromRow !== undefined && fromRow !== null) return toText(fromRow);
  const k = rowObject(key);
  if (k && k.id !== undefined && k.id !== null) return toText(k.id);
  return null;
}

interface Step {
  table: CoreTableName;
  id: string;
  position: string;
  sourceTs: string;
  deleted: boolean;
  values: Record<string, string | number | null>;
}

/** The per-key steps one change stands for (two for a primary-key change). */
function stepsOf(c: CdcRecord): Step[] {
  const table = coreTableFor(c.source_table);
  if (!table) return [];
  const before = rowObject(c.before);
  const after = rowObject(c.after);
  const base = { table, position: c.position, sourceTs: c.event_ts };
  if (c.op === "d" || c.op === "tombstone") {
    const id = idOf(before, c.key);
    return id === null ? [] : [{ ...base, id, deleted: true, values: mapColumns(table, before ?? { id }) }];
  }
  if (c.op === "t") return [];
  const newId = idOf(after, c.key);
  if (newId === null) return [];
  const steps: Step[] = [];
  const oldId = before ? idOf(before, null) : null;
  if (c.op === "u" && oldId !== null && oldId !== newId) {
    steps.push({ ...base, id: oldId, deleted: true, values: mapColumns(table, before) });
  }
  steps.push({ ...base, id: newId, deleted: false, values: mapColumns(table, after) });
  return steps;
}

export const keyOf = (table: string, id: string) => `${table}\u0000${id}`;

/**
 * @param changes fresh CDC records of the batch (any order, possibly with redeliveries)
 * @param applied positions stored in the warehouse for the keys the batch touches (keyOf(table, id))
 */
export function applyCdc(changes: CdcRecord[], applied: ReadonlyMap<string, AppliedPosition>): CdcApplyResult {
  const truncates = new Map<CoreTableName, CoreTruncate>();
  const steps: Step[] = [];
  for (const c of changes) {
    if (c.op === "t") {
      const table = coreTableFor(c.source_table);
      if (!table) continue;
      const cur = truncates.get(table);
      if (!cur || c.position > cur.position) truncates.set(table, { table, position: c.position, source_ts: c.event_ts });
      continue;
    }
    steps.push(...stepsOf(c));
  }
  // Source order: positions compare as text (the edge zero-pads them).
  steps.sort((a, b) => (a.position < b.position ? -1 : a.position > b.position ? 1 : 0));
  const state = new Map<string, Step>();
  let ignored = 0;
  for (const s of steps) {
    const k = keyOf(s.table, s.id);
    const cur = state.get(k);
    const curPos = cur?.position ?? applied.get(k)?.position;
    if (curPos !== undefined && s.position <= curPos) {
      ignored++;
      continue;
    }
    state.set(k, s);
  }
  const rows: CoreRow[] = [];
  for (const s of state.values()) {
    const t = truncates.get(s.table);
    const truncated = t !== undefined && s.position < t.position;
    rows.push({
      table: s.table,
      id: s.id,
      values: s.values,
      _position: truncated ? t.position : s.position,
      _source_ts: truncated ? t.source_ts : s.sourceTs,
      _deleted: truncated || s.deleted,
    });
  }
  return { rows, truncates: [...truncates.values()], ignored };
}

/** Keys (keyOf) the batch touches, for reading their applied positions from the warehouse. */
export function cdcKeysOf(changes: CdcRecord[]): { table: CoreTableName; id: string }[] {
  const out = new Map<string, { table: CoreTableName; id: string }>();
  for (const c of changes) for (const s of stepsOf(c)) out.set(keyOf(s.table, s.id), { table: s.table, id: s.id });
  return [...out.values()];
}

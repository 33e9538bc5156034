/**
 * Debezium change events (wrapped, unwrapped, keyed, tombstones) → CdcRecords, for the live route
 * and bulk uploads of the cdc stream alike: nesting checked first, source positions checked per
 * connector, and the configured PII columns of the source table pseudonymized in before and after.
 */
import { DebeziumPayload, type DebeziumPayloadT } from "../../../contracts/cdc.js";
import type { CdcRecord } from "../../../contracts/records.js";
import { stableId } from "../enrich/hash.js";
import { pseudonymizeValue } from "../enrich/pii.js";
import { jsonDepthError } from "../lib/json-limits.js";
import { describeIssues } from "../lib/zod-error.js";
import { MAX_FUTURE_POSITION_MS, PositionError, sourcePosition } from "./position.js";

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
/** Debezium's JSON converter with schemas enabled wraps every value as {schema, payload}. */
const unwrap = (v: unknown): unknown => (isObj(v) && "payload" in v && ("schema" in v || Object.keys(v).length === 1) ? v.payload : v);

/** Canonical text of a key: members sorted, so {b,a} and {a,b} give the same ordering key. */
export function canonicalKey(key: unknown): string {
  if (!isObj(key)) return JSON.stringify(key ?? null);
  return JSON.stringify(Object.fromEntries(Object.keys(key).sort().map((k) => [k, key[k]])));
}

/** Pub/Sub allows ordering keys of at most 1,024 bytes. */
const MAX_ORDERING_KEY_CHARS = 1000;

export type CdcItem =
  | { kind: "record"; record: CdcRecord }
  /** A tombstone that names no table: acknowledged, counted, not forwarded. */
  | { kind: "tombstone-unkeyed" }
  | { kind: "invalid"; error: string };

export interface RequestInfo {
  receivedAtIso: string;
  requestId: string;
  /** EdgeConfig's fields (written out so Node tools can build records without the Worker's types). */
  cfg: { CDC_PII_FIELDS: Record<string, string[][]>; PII_HASH_KEY?: string | undefined };
}

export function toCdcItem(item: unknown, info: RequestInfo): CdcItem {
  if (item === null) return { kind: "tombstone-unkeyed" };
  const deep = jsonDepthError(item, "the change event");
  if (deep) return { kind: "invalid", error: deep };
  let key: unknown;
  let value: unknown = item;
  if (isObj(item) && "key" in item && "value" in item && !("op" in item)) {
    key = unwrap(item.key);
    value = unwrap(item.value);
  } else {
    value = unwrap(item);
  }
  // A tombstone without its table cannot be applied by itself; Debezium always sends the delete
  // before it, so it is acknowledged (counted) and not forwarded.
  if (value === null) return { kind: "tombstone-unkeyed" };
  const parsed = DebeziumPayload.safeParse(value);
  if (!parsed.success) return { kind: "invalid", error: `not a Debezium change event: ${describeIssues(parsed.error)}` };
  return build(parsed.data, key, info);
}

/** Keyed tombstones with a source block (some bridges add it): forwarded as op "tombstone". */
export function keyedTombstone(item: unknown, info: RequestInfo): CdcItem | null {
  if (!isObj(item) || !("key" in item) || item.value !== null || !isObj(item.source)) return null;
  if (jsonDepthError(item, "the change event")) return null;
  const source = item.source as Obj;
  if (typeof source.table !== "string") return null;
  return build({ op: "d", before: null, after: null, source: source as DebeziumPayloadT["source"], ts_ms: typeof item.ts_ms === "number" ? item.ts_ms : undefined } as unknown as DebeziumPayloadT, unwrap(item.key), info, true);
}

function build(p: DebeziumPayloadT, explicitKey: unknown, info: RequestInfo, tombstone = false): CdcItem {
  const s = p.source;
  const table = s.table ?? s.collection ?? null;
  if (!table) return { kind: "invalid", error: "source.table is required" };
  let key: unknown = explicitKey;
  if (key === undefined || key === null) {
    const idValue = (p.after as Obj | null | undefined)?.id ?? (p.before as Obj | null | undefined)?.id;
    if (idValue !== undefined) key = { id: idValue };
    else if (p.op === "t") key = {};
    else return { kind: "invalid", error: "cannot find the primary key: send Debezium's record key ({key, value}) or rows with an `id` column" };
  }
  const keyString = canonicalKey(key);
  let position: string;
  let parts: Record<string, unknown>;
  try {
    ({ position, parts } = sourcePosition(p, Date.parse(info.receivedAtIso)));
  } catch (e) {
    if (e instanceof PositionError) return { kind: "invalid", error: `source position: ${e.message}` };
    throw e;
  }
  const connector = (s.connector ?? "unknown").toLowerCase();
  const name = s.name ?? "unknown";
  const db = s.db ?? null;
  const schema = s.schema ?? null;
  const receivedMs = Date.parse(info.receivedAtIso);
  const tsMs = p.ts_ms ?? s.ts_ms ?? receivedMs;
  // The change time becomes event_ts (a timestamp column and the partition): a number Date cannot
  // hold threw a RangeError (a 500, found by schemathesis), and one far ahead would fail the load.
  if (!Number.isInteger(tsMs) || tsMs < 0 || tsMs > receivedMs + MAX_FUTURE_POSITION_MS) {
    const which = p.ts_ms !== undefined ? "ts_ms" : "source.ts_ms";
    return { kind: "invalid", error: `${which} must be whole milliseconds since 1970-01-01, at most an hour ahead of the edge's clock (got ${String(tsMs).slice(0, 40)})` };
  }
  const op = tombstone ? "tombstone" : p.op;
  let orderingKey = `${db ?? ""}.${schema ?? ""}.${table}:${keyString}`;
  if (orderingKey.length > MAX_ORDERING_KEY_CHARS) orderingKey = `${db ?? ""}.${schema ?? ""}.${table}:#${stableId(keyString)}`;
  const snapshot = s.snapshot !== undefined && s.snapshot !== false && s.snapshot !== "false";
  return {
    kind: "record",
    record: {
      event_id: stableId(connector, name, db ?? "", schema ?? "", table, keyString, position, op),
      source_connector: connector,
      source_name: name,
      source_db: db,
      source_schema: schema,
      source_table: table,
      op,
      position,
      position_parts: parts,
      ts_ms: tsMs,
      key,
      key_string: keyString,
      ordering_key: orderingKey,
      before: pii((p.before as Obj | null | undefined) ?? null, table, info),
      after: pii((p.after as Obj | null | undefined) ?? null, table, info),
      tx_id: p.transaction?.id ?? (s.txId == null ? null : String(s.txId)),
      snapshot,
      event_ts: new Date(tsMs).toISOString(),
      received_at: info.receivedAtIso,
      request_id: info.requestId,
    },
  };
}

/** The row with the PII columns configured for its table (by table name, whatever the schema) hashed. */
function pii(row: Obj | null, table: string, info: RequestInfo): Obj | null {
  const fields = info.cfg.CDC_PII_FIELDS;
  const name = Object.hasOwn(fields, table) ? table : table.toLowerCase();
  if (!row || !Object.hasOwn(fields, name)) return row;
  return pseudonymizeValue(row, fields[name]!, info.cfg.PII_HASH_KEY);
}

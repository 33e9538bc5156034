/**
 * Debezium source positions made comparable as text: numeric parts are zero-padded to a fixed width,
 * so for the same table a later change has a greater `position` string. Per connector:
 * - postgresql: commit LSN (sequence[0], else lsn) : lsn               — 20 digits each
 * - mysql/mariadb: binlog file number : pos : row                       — 20 : 20 : 10
 * - sqlserver: commit_lsn : change_lsn : event_serial_no                — LSN as Debezium prints it (8:8:4 hex) : 10
 * - oracle/db2/informix: scn (or commit_scn)                            — 20
 * - mongodb: ts_ms : ord                                                — 20 : 10
 * - otherwise: ts_ms : transaction.total_order                          — 20 : 10
 *
 * Every part is checked against what its connector can produce (an unsigned 64-bit LSN, a binlog
 * name, an 8:8:4 hex LSN, a time not far in the future) and refused otherwise: a position is what
 * decides which change of a row wins, so an oversized one would pin the row against every later
 * real change.
 */
import type { DebeziumPayloadT } from "../../../contracts/cdc.js";

export interface Position {
  position: string;
  parts: Record<string, unknown>;
}

/** How far ahead of the edge's clock a time-based position may be (source clocks drift a little). */
export const MAX_FUTURE_POSITION_MS = 60 * 60 * 1000;

const U64_MAX = "18446744073709551615";
const SQLSERVER_LSN = /^[0-9a-f]{8}:[0-9a-f]{8}:[0-9a-f]{4}$/i;
const BINLOG_FILE = /^[\w.-]{1,255}$/;
const MAX_SEQUENCE_CHARS = 128;

export class PositionError extends Error {
  override name = "PositionError";
}

/** A non-negative integer (number or digit string) as digits, at most `width` digits and ≤ `max` when given. */
function digits(v: unknown, width: number, what: string, max?: string): string {
  let s: string;
  if (v == null) s = "0";
  else if (typeof v === "number") {
    if (!Number.isInteger(v) || v < 0) throw new PositionError(`${what} must be a non-negative integer`);
    s = BigInt(v).toString();
  } else if (typeof v === "string" && /^\d{1,64}$/.test(v)) s = v.replace(/^0+(?=\d)/, "");
  else throw new PositionError(`${what} must be a non-negative integer`);
  if (s.length > width || (max && s.length === max.length && s > max)) throw new PositionError(`${what} is larger than any ${what} the connector produces`);
  return s.padStart(width, "0");
}

function timeMs(v: unknown, nowMs: number, what: string): string {
  const s = digits(v, 20, what);
  if (Number(s) > nowMs + MAX_FUTURE_POSITION_MS) throw new PositionError(`${what} is more than an hour in the future`);
  return s;
}

/** The sortable position of a change, or a PositionError saying which part is out of range. */
export function sourcePosition(p: DebeziumPayloadT, nowMs: number): Position {
  const s = p.source;
  const connector = (s.connector ?? "").toLowerCase();
  const tsMs = p.ts_ms ?? s.ts_ms ?? 0;
  if (connector === "postgresql" || (s.lsn != null && !connector)) {
    let commit: unknown = s.lsn;
    let lsn: unknown = s.lsn;
    if (typeof s.sequence === "string") {
      if (s.sequence.length > MAX_SEQUENCE_CHARS) throw new PositionError(`source.sequence is longer than ${MAX_SEQUENCE_CHARS} characters`);
      try {
        const seq = JSON.parse(s.sequence) as unknown[];
        if (Array.isArray(seq) && seq.length === 2) {
          commit = seq[0] ?? s.lsn;
          lsn = seq[1] ?? s.lsn;
        }
      } catch {
        // malformed sequence: fall back to lsn
      }
    }
    return { position: `${digits(commit, 20, "commit LSN", U64_MAX)}:${digits(lsn, 20, "LSN", U64_MAX)}`, parts: { lsn: s.lsn ?? null, sequence: s.sequence ?? null, txId: s.txId ?? null } };
  }
  if (connector === "mysql" || connector === "mariadb" || (s.file != null && s.pos != null)) {
    if (s.file != null && !BINLOG_FILE.test(s.file)) throw new PositionError("source.file is not a binlog file name");
    const fileNo = /(\d+)$/.exec(s.file ?? "")?.[1] ?? "0";
    return {
      position: `${digits(fileNo, 20, "binlog file number", U64_MAX)}:${digits(s.pos, 20, "binlog position", U64_MAX)}:${digits(s.row ?? 0, 10, "binlog row")}`,
      parts: { file: s.file ?? null, pos: s.pos ?? null, row: s.row ?? null, gtid: s.gtid ?? null },
    };
  }
  if (connector === "sqlserver" || s.change_lsn != null || s.commit_lsn != null) {
    for (const [name, v] of [["commit_lsn", s.commit_lsn], ["change_lsn", s.change_lsn]] as const) {
      if (v != null && !SQLSERVER_LSN.test(v)) throw new PositionError(`source.${name} is not an LSN as Debezium writes it (xxxxxxxx:xxxxxxxx:xxxx)`);
    }
    return {
      position: `${(s.commit_lsn ?? s.change_lsn ?? "").toLowerCase()}:${(s.change_lsn ?? "").toLowerCase()}:${digits(s.event_serial_no ?? 0, 10, "event serial number")}`,
      parts: { commit_lsn: s.commit_lsn ?? null, change_lsn: s.change_lsn ?? null, event_serial_no: s.event_serial_no ?? null },
    };
  }
  if (s.scn != null) return { position: digits(s.scn, 20, "SCN", U64_MAX), parts: { scn: s.scn } };
  if (connector === "mongodb" || s.ord != null) {
    return { position: `${timeMs(tsMs, nowMs, "ts_ms")}:${digits(s.ord ?? 0, 10, "ord")}`, parts: { ts_ms: tsMs, ord: s.ord ?? null } };
  }
  const order = p.transaction?.total_order ?? 0;
  return { position: `${timeMs(tsMs, nowMs, "ts_ms")}:${digits(order, 10, "transaction order")}`, parts: { ts_ms: tsMs, total_order: order } };
}

/**
 * Debezium source positions made comparable as text: numeric parts are zero-padded to a fixed width,
 * so for the same table a later change has a greater `position` string. Per connector:
 * - postgresql: commit LSN (sequence[0], else lsn) : lsn               — 20 digits each
 * - mysql/mariadb: binlog file number : pos : row                       — 20 : 20 : 10
 * - sqlserver: commit_lsn : change_lsn : event_serial_no                — hex as sent (fixed width) : 10
 * - oracle/db2/informix: scn (or commit_scn)                            — 20
 * - mongodb: ts_ms : ord                                                — 20 : 10
 * - otherwise: ts_ms : transaction.total_order                          — 20 : 10
 */
import type { DebeziumPayloadT } from "../../../contracts/cdc.js";

const pad = (v: unknown, width: number) => {
  const s = typeof v === "bigint" ? v.toString() : typeof v === "number" && Number.isFinite(v) ? Math.trunc(v).toString() : typeof v === "string" && /^\d+$/.test(v) ? v.replace(/^0+(?=\d)/, "") : "0";
  return s.length >= width ? s : "0".repeat(width - s.length) + s;
};

export interface Position {
  position: string;
  parts: Record<string, unknown>;
}

export function sourcePosition(p: DebeziumPayloadT): Position {
  const s = p.source;
  const connector = (s.connector ?? "").toLowerCase();
  const tsMs = p.ts_ms ?? s.ts_ms ?? 0;
  if (connector === "postgresql" || (s.lsn != null && !connector)) {
    let commit: unknown = s.lsn;
    let lsn: unknown = s.lsn;
    if (typeof s.sequence === "string") {
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
    return { position: `${pad(commit, 20)}:${pad(lsn, 20)}`, parts: { lsn: s.lsn ?? null, sequence: s.sequence ?? null, txId: s.txId ?? null } };
  }
  if (connector === "mysql" || connector === "mariadb" || (s.file != null && s.pos != null)) {
    const fileNo = /(\d+)$/.exec(s.file ?? "")?.[1] ?? "0";
    return { position: `${pad(fileNo, 20)}:${pad(s.pos, 20)}:${pad(s.row ?? 0, 10)}`, parts: { file: s.file ?? null, pos: s.pos ?? null, row: s.row ?? null, gtid: s.gtid ?? null } };
  }
  if (connector === "sqlserver" || s.change_lsn != null || s.commit_lsn != null) {
    return {
      position: `${s.commit_lsn ?? s.change_lsn ?? ""}:${s.change_lsn ?? ""}:${pad(s.event_serial_no ?? 0, 10)}`,
      parts: { commit_lsn: s.commit_lsn ?? null, change_lsn: s.change_lsn ?? null, event_serial_no: s.event_serial_no ?? null },
    };
  }
  if (s.scn != null) return { position: pad(String(s.scn), 20), parts: { scn: s.scn } };
  if (connector === "mongodb" || s.ord != null) {
    return { position: `${pad(tsMs, 20)}:${pad(s.ord ?? 0, 10)}`, parts: { ts_ms: tsMs, ord: s.ord ?? null } };
  }
  const order = p.transaction?.total_order ?? 0;
  return { position: `${pad(tsMs, 20)}:${pad(order, 10)}`, parts: { ts_ms: tsMs, total_order: order } };
}

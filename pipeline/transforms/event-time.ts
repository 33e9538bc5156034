/**
 * Event time: per-stream watermark (max event time seen minus the allowed out-of-orderness),
 * lateness of each record against the watermark persisted before its batch, and the allowed-lateness
 * horizon beyond which a record goes to dead letters instead of the warehouse.
 *
 * The watermark of the batch start is used for every record of the batch so that flags do not
 * depend on the order messages happen to arrive in within one pull.
 */
import { DEDUP_DATE_SLACK_DAYS, DEFAULT_ALLOWED_LATENESS_DAYS, DEFAULT_OUT_OF_ORDERNESS_MS, MAX_FUTURE_EVENT_MS } from "../../contracts/limits.js";
import type { DeadLetterRecord } from "../../contracts/records.js";
import { pipelineDeadLetter } from "./dead-letter.js";
import { sourceStringOf } from "./parse.js";
import type { EventTimeColumns } from "./types.js";

export { DEFAULT_OUT_OF_ORDERNESS_MS };
export const DEFAULT_ALLOWED_LATENESS_MS = DEFAULT_ALLOWED_LATENESS_DAYS * 24 * 3600 * 1000;

export interface EventTimeOptions {
  outOfOrdernessMs: number;
  allowedLatenessMs: number;
  /** CDC is applied by source position, so old changes are never turned away for their age. */
  enforceHorizon: boolean;
}

export interface WatermarkState {
  stream: string;
  /** Epoch ms; null before the first record. */
  watermarkMs: number | null;
  maxEventMs: number | null;
}

export interface PartitionTouch {
  table_name: string;
  event_date: string;
  rows_loaded: number;
  late_rows: number;
}

export interface EventTimeResult<T> {
  rows: (T & EventTimeColumns)[];
  tooLate: DeadLetterRecord[];
  watermark: WatermarkState;
}

const UTC_ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

/** UTC date of an ISO instant; the edge writes UTC (`…Z`), which needs no date arithmetic. */
export const eventDate = (iso: string) => (UTC_ISO.test(iso) ? iso.slice(0, 10) : new Date(Date.parse(iso)).toISOString().slice(0, 10));

const shiftDate = (date: string, days: number) => new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);

/**
 * The event dates searched for stored dedup keys of rows dated [min, max]: a resent record keeps
 * its key but its event_ts may have moved a little (skew correction per request), even past midnight.
 */
export function dedupWindow(min: string, max: string): [string, string] {
  return [shiftDate(min, -DEDUP_DATE_SLACK_DAYS), shiftDate(max, DEDUP_DATE_SLACK_DAYS)];
}

/** [min, max] of the rows' dates (dateOf), widened to the dedup window; undefined for no rows. */
export function dedupWindowOf<T>(rows: readonly T[], dateOf: (r: T) => string): [string, string] | undefined {
  if (rows.length === 0) return undefined;
  let min = dateOf(rows[0]!);
  let max = min;
  for (const r of rows) {
    const d = dateOf(r);
    if (d < min) min = d;
    if (d > max) max = d;
  }
  return dedupWindow(min, max);
}

const fmtDuration = (ms: number) => {
  const h = ms / 3_600_000;
  return h >= 48 ? `${(h / 24).toFixed(1)} days` : h >= 1 ? `${h.toFixed(1)} hours` : `${Math.round(ms / 1000)} s`;
};

export function assignEventTime<T extends { event_id: string; event_ts: string }>(
  records: T[],
  state: WatermarkState,
  opts: EventTimeOptions,
  now: string,
): EventTimeResult<T> {
  const nowMs = Date.parse(now);
  const w = state.watermarkMs;
  const rows: (T & EventTimeColumns)[] = [];
  const tooLate: DeadLetterRecord[] = [];
  let max = state.maxEventMs;
  for (const r of records) {
    const ts = Date.parse(r.event_ts);
    const lateness = w !== null && ts < w ? w - ts : 0;
    if (opts.enforceHorizon && lateness > opts.allowedLatenessMs) {
      tooLate.push(
        pipelineDeadLetter({
          stream: state.stream,
          eventId: r.event_id,
          kind: "too-late",
          reason: `event_ts ${r.event_ts} is ${fmtDuration(lateness)} behind the ${state.stream} watermark ${new Date(w!).toISOString()}, beyond the allowed lateness of ${fmtDuration(opts.allowedLatenessMs)}; load it with a backfill (npx tideline backfill) if it must be kept`,
          payload: sourceStringOf(r) ?? JSON.stringify(r),
          now,
        }),
      );
      continue;
    }
    // A clock far in the future must not push everything else behind the watermark.
    const capped = Math.min(ts, nowMs + MAX_FUTURE_EVENT_MS);
    if (max === null || capped > max) max = capped;
    // Records are fresh objects from the parser, so the columns are added in place: copying
    // fifty-odd fields per record was the largest cost of this step.
    const row = r as T & EventTimeColumns;
    row.event_date = eventDate(r.event_ts);
    row.is_late = lateness > 0;
    row.lateness_ms = lateness;
    row.loaded_at = now;
    rows.push(row);
  }
  const candidate = max === null ? null : max - opts.outOfOrdernessMs;
  const watermarkMs = w === null ? candidate : candidate === null ? w : Math.max(w, candidate);
  return { rows, tooLate, watermark: { stream: state.stream, watermarkMs, maxEventMs: max } };
}

/** The ops.watermarks row of a stream's watermark (both sinks store it this way). */
export function watermarkRow(w: WatermarkState, updatedAt: string) {
  return {
    stream: w.stream,
    watermark_ts: new Date(w.watermarkMs!).toISOString(),
    max_event_ts: new Date(w.maxEventMs!).toISOString(),
    out_of_orderness_ms: w.maxEventMs! - w.watermarkMs!,
    updated_at: updatedAt,
  };
}

export function partitionsTouched(table: string, rows: { event_date: string; is_late?: boolean }[]): PartitionTouch[] {
  const by = new Map<string, PartitionTouch>();
  for (const r of rows) {
    let p = by.get(r.event_date);
    if (!p) by.set(r.event_date, (p = { table_name: table, event_date: r.event_date, rows_loaded: 0, late_rows: 0 }));
    p.rows_loaded++;
    if (r.is_late) p.late_rows++;
  }
  return [...by.values()].sort((a, b) => a.event_date.localeCompare(b.event_date));
}

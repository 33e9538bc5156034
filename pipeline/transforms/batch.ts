/**
 * One micro-batch through every pure step, in two halves around the only thing that needs the
 * warehouse: which dedup keys, CDC positions and watermarks it already holds.
 *   prepareBatch: parse + validate (bad → dead letters), dedup within the batch, list what to look up
 *   finishBatch:  drop stored keys, event time + lateness + horizon, CDC apply, partitions, metrics
 */
import type { CdcRecord, DeadLetterRecord, EventRecord, Stream, WebhookRecord } from "../../contracts/records.js";
import { applyCdc, cdcKeysOf, keyOf, type AppliedPosition, type CoreRow, type CoreTableName, type CoreTruncate } from "./cdc.js";
import { dedupWithinBatch, dropStored } from "./dedup.js";
import {
  assignEventTime,
  dedupWindowOf,
  DEFAULT_ALLOWED_LATENESS_MS,
  DEFAULT_OUT_OF_ORDERNESS_MS,
  eventDate,
  partitionsTouched,
  type EventTimeOptions,
  type PartitionTouch,
  type WatermarkState,
} from "./event-time.js";
import { minuteMetrics, type MetricDelta } from "./metrics.js";
import { parseMessage } from "./parse.js";
import type { CdcRow, EventCore, EventRow, EventTimeColumns, InboundMessage, WebhookRow } from "./types.js";

export interface BatchOptions {
  outOfOrdernessMs: number;
  allowedLatenessMs: number;
}
export const DEFAULT_BATCH_OPTIONS: BatchOptions = {
  outOfOrdernessMs: DEFAULT_OUT_OF_ORDERNESS_MS,
  allowedLatenessMs: DEFAULT_ALLOWED_LATENESS_MS,
};

export interface PreparedBatch {
  events: EventCore[];
  webhooks: WebhookRecord[];
  cdc: CdcRecord[];
  deadLetters: DeadLetterRecord[];
  duplicatesInBatch: number;
  messages: number;
  /**
   * A batch merged from several parts (a backfill's archive objects, one transaction): where each
   * part ends in events, webhooks and cdc (exclusive indexes). Lateness is judged part by part, as
   * the parts arrived, whatever the size of the transaction. Absent: one part.
   */
  parts?: PartEnds;
}

export interface PartEnds {
  events: number[];
  webhooks: number[];
  cdc: number[];
}

/** A run of a batch's event rows judged against one watermark: rows [previous end, end). */
export interface LatenessSegment {
  end: number;
  watermarkMs: number | null;
}

/** What finishBatch needs to know from the warehouse. */
export interface Lookup {
  eventIds: string[];
  webhookIds: string[];
  cdcIds: string[];
  cdcKeys: { table: CoreTableName; id: string }[];
  /** Event dates per stream to search for stored keys ([min, max] UTC, widened by dedupWindow): lets partitioned warehouses prune the key lookup. */
  dates: Partial<Record<Stream, [string, string]>>;
}

export interface StoredState {
  events: ReadonlySet<string>;
  webhooks: ReadonlySet<string>;
  cdc: ReadonlySet<string>;
  /** keyOf(table, id) → applied position. */
  cdcPositions: ReadonlyMap<string, AppliedPosition>;
  watermarks: ReadonlyMap<Stream, WatermarkState>;
}

export interface CommitBatch {
  events: EventRow[];
  webhooks: WebhookRow[];
  cdcChanges: CdcRow[];
  coreRows: CoreRow[];
  coreTruncates: CoreTruncate[];
  deadLetters: DeadLetterRecord[];
  watermarks: WatermarkState[];
  partitions: PartitionTouch[];
  metrics: MetricDelta[];
  stats: BatchStats;
  loadedAt: string;
  /**
   * The events watermarks (epoch ms) the batch's event rows were judged against, by runs of rows:
   * a row is late by the watermark minus its event time when that is positive (null: no watermark
   * yet, nothing late). Lets a warehouse derive the event-time columns from the rows' own text.
   */
  eventsLateAgainst: LatenessSegment[];
}

export interface BatchStats {
  messages: number;
  duplicates: number;
  loaded: number;
  late: number;
  deadLettered: number;
  cdcIgnored: number;
}

export function prepareBatch(messages: Iterable<InboundMessage>, now: string): PreparedBatch {
  const events: EventCore[] = [];
  const webhooks: WebhookRecord[] = [];
  const cdc: CdcRecord[] = [];
  const deadLetters: DeadLetterRecord[] = [];
  let count = 0;
  for (const m of messages) {
    count++;
    const r = parseMessage(m, now);
    if (!r.ok) {
      deadLetters.push(r.deadLetter);
      continue;
    }
    const p = r.parsed;
    if (p.stream === "events") events.push(p.record);
    else if (p.stream === "webhooks") webhooks.push(p.record);
    else if (p.stream === "cdc") cdc.push(p.record);
    else deadLetters.push(p.record);
  }
  const e = dedupWithinBatch(events);
  const w = dedupWithinBatch(webhooks);
  const c = dedupWithinBatch(cdc);
  return {
    events: e.unique,
    webhooks: w.unique,
    cdc: c.unique,
    deadLetters,
    duplicatesInBatch: e.duplicates + w.duplicates + c.duplicates,
    messages: count,
  };
}

/** One batch out of several prepared ones (a backfill commits a group of archive objects at once). */
export function mergePrepared(parts: PreparedBatch[]): PreparedBatch {
  if (parts.length === 1) return parts[0]!;
  // Deduplicated across the parts in order (the first delivery wins), keeping where each part ends.
  const merge = <T extends { event_id: string }>(pick: (p: PreparedBatch) => T[]) => {
    const seen = new Set<string>();
    const out: T[] = [];
    const ends: number[] = [];
    let duplicates = 0;
    for (const p of parts) {
      for (const r of pick(p)) {
        if (seen.has(r.event_id)) duplicates++;
        else {
          seen.add(r.event_id);
          out.push(r);
        }
      }
      ends.push(out.length);
    }
    return { out, ends, duplicates };
  };
  const e = merge((p) => p.events);
  const w = merge((p) => p.webhooks);
  const c = merge((p) => p.cdc);
  return {
    events: e.out,
    webhooks: w.out,
    cdc: c.out,
    deadLetters: parts.flatMap((p) => p.deadLetters),
    duplicatesInBatch: parts.reduce((n, p) => n + p.duplicatesInBatch, 0) + e.duplicates + w.duplicates + c.duplicates,
    messages: parts.reduce((n, p) => n + p.messages, 0),
    parts: { events: e.ends, webhooks: w.ends, cdc: c.ends },
  };
}

/**
 * Drop stored keys and assign event time part by part: each part is judged against the watermark
 * its predecessors left, as if it had been its own micro-batch.
 */
function eventTimeByPart<T extends { event_id: string; event_ts: string }>(
  records: T[],
  ends: number[] | undefined,
  storedKeys: ReadonlySet<string>,
  start: WatermarkState,
  opts: EventTimeOptions,
  now: string,
) {
  const rows: (T & EventTimeColumns)[] = [];
  const fresh: T[] = [];
  const tooLate: DeadLetterRecord[] = [];
  const segments: LatenessSegment[] = [];
  let alreadyStored = 0;
  let state = start;
  let from = 0;
  for (const end of ends ?? [records.length]) {
    const part = dropStored(records.slice(from, end), storedKeys);
    from = end;
    alreadyStored += part.alreadyStored;
    const t = assignEventTime(part.fresh, state, opts, now);
    for (const r of part.fresh) fresh.push(r);
    for (const r of t.rows) rows.push(r);
    for (const d of t.tooLate) tooLate.push(d);
    segments.push({ end: rows.length, watermarkMs: state.watermarkMs });
    state = t.watermark;
  }
  return { rows, fresh, tooLate, segments, alreadyStored, watermark: state };
}

const byEventTs = (r: { event_ts: string }) => eventDate(r.event_ts);

export function lookupOf(p: PreparedBatch): Lookup {
  return {
    eventIds: p.events.map((r) => r.event_id),
    webhookIds: p.webhooks.map((r) => r.event_id),
    cdcIds: p.cdc.map((r) => r.event_id),
    cdcKeys: cdcKeysOf(p.cdc),
    dates: { events: dedupWindowOf(p.events, byEventTs), webhooks: dedupWindowOf(p.webhooks, byEventTs), cdc: dedupWindowOf(p.cdc, byEventTs) },
  };
}

const emptyWatermark = (stream: Stream): WatermarkState => ({ stream, watermarkMs: null, maxEventMs: null });

export function finishBatch(p: PreparedBatch, stored: StoredState, opts: BatchOptions, now: string): CommitBatch {
  const base = { outOfOrdernessMs: opts.outOfOrdernessMs, allowedLatenessMs: opts.allowedLatenessMs };
  const start = (s: Stream) => stored.watermarks.get(s) ?? emptyWatermark(s);
  const evT = eventTimeByPart(p.events, p.parts?.events, stored.events, start("events"), { ...base, enforceHorizon: true }, now);
  const whT = eventTimeByPart(p.webhooks, p.parts?.webhooks, stored.webhooks, start("webhooks"), { ...base, enforceHorizon: true }, now);
  const cdT = eventTimeByPart(p.cdc, p.parts?.cdc, stored.cdc, start("cdc"), { ...base, enforceHorizon: false }, now);

  const webhooks: WebhookRow[] = whT.rows.map(({ is_late: _l, lateness_ms: _m, ...r }) => r);
  const cdcChanges: CdcRow[] = cdT.rows.map(({ is_late: _l, lateness_ms: _m, ...r }) => ({ ...r, event_date: eventDate(r.event_ts) }));
  const cdcApplied = applyCdc(cdT.fresh, stored.cdcPositions);

  const deadLetters = [...p.deadLetters, ...evT.tooLate, ...whT.tooLate];
  return {
    events: evT.rows,
    webhooks,
    cdcChanges,
    coreRows: cdcApplied.rows,
    coreTruncates: cdcApplied.truncates,
    deadLetters,
    watermarks: [evT.watermark, whT.watermark, cdT.watermark].filter((w) => w.watermarkMs !== null),
    partitions: [
      ...partitionsTouched("raw.events", evT.rows),
      ...partitionsTouched("raw.webhooks", whT.rows),
      ...partitionsTouched("raw.cdc_changes", cdT.rows),
    ],
    metrics: [...minuteMetrics("events", evT.rows), ...minuteMetrics("webhooks", whT.rows), ...minuteMetrics("cdc", cdT.rows)],
    stats: {
      messages: p.messages,
      duplicates: p.duplicatesInBatch + evT.alreadyStored + whT.alreadyStored + cdT.alreadyStored,
      loaded: evT.rows.length + webhooks.length + cdcChanges.length,
      late: evT.rows.filter((r) => r.is_late).length,
      deadLettered: deadLetters.length,
      cdcIgnored: cdcApplied.ignored,
    },
    loadedAt: now,
    eventsLateAgainst: evT.segments,
  };
}

export { keyOf };

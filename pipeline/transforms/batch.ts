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
  dedupWindow,
  DEFAULT_ALLOWED_LATENESS_MS,
  DEFAULT_OUT_OF_ORDERNESS_MS,
  eventDate,
  partitionsTouched,
  type PartitionTouch,
  type WatermarkState,
} from "./event-time.js";
import { minuteMetrics, type MetricDelta } from "./metrics.js";
import { parseMessage } from "./parse.js";
import type { CdcRow, EventCore, EventRow, InboundMessage, WebhookRow } from "./types.js";

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
   * The events watermark (epoch ms) the batch's lateness was judged against: an event row is late
   * by this minus its event time when that is positive (null: no watermark yet, nothing late).
   * Lets a warehouse derive the event-time columns from the rows' own text.
   */
  eventsLateAgainstMs: number | null;
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

function dateRange(records: { event_ts: string }[]): [string, string] | undefined {
  if (records.length === 0) return undefined;
  let min = "9999-12-31";
  let max = "0000-01-01";
  for (const r of records) {
    const d = eventDate(r.event_ts);
    if (d < min) min = d;
    if (d > max) max = d;
  }
  return dedupWindow(min, max);
}

/** One batch out of several prepared ones (a backfill commits a group of archive objects at once). */
export function mergePrepared(parts: PreparedBatch[]): PreparedBatch {
  if (parts.length === 1) return parts[0]!;
  const e = dedupWithinBatch(parts.flatMap((p) => p.events));
  const w = dedupWithinBatch(parts.flatMap((p) => p.webhooks));
  const c = dedupWithinBatch(parts.flatMap((p) => p.cdc));
  return {
    events: e.unique,
    webhooks: w.unique,
    cdc: c.unique,
    deadLetters: parts.flatMap((p) => p.deadLetters),
    duplicatesInBatch: parts.reduce((n, p) => n + p.duplicatesInBatch, 0) + e.duplicates + w.duplicates + c.duplicates,
    messages: parts.reduce((n, p) => n + p.messages, 0),
  };
}

export function lookupOf(p: PreparedBatch): Lookup {
  return {
    eventIds: p.events.map((r) => r.event_id),
    webhookIds: p.webhooks.map((r) => r.event_id),
    cdcIds: p.cdc.map((r) => r.event_id),
    cdcKeys: cdcKeysOf(p.cdc),
    dates: { events: dateRange(p.events), webhooks: dateRange(p.webhooks), cdc: dateRange(p.cdc) },
  };
}

const emptyWatermark = (stream: Stream): WatermarkState => ({ stream, watermarkMs: null, maxEventMs: null });

export function finishBatch(p: PreparedBatch, stored: StoredState, opts: BatchOptions, now: string): CommitBatch {
  const ev = dropStored(p.events, stored.events);
  const wh = dropStored(p.webhooks, stored.webhooks);
  const cd = dropStored(p.cdc, stored.cdc);
  const base = { outOfOrdernessMs: opts.outOfOrdernessMs, allowedLatenessMs: opts.allowedLatenessMs };

  const evT = assignEventTime(ev.fresh, stored.watermarks.get("events") ?? emptyWatermark("events"), { ...base, enforceHorizon: true }, now);
  const whT = assignEventTime(wh.fresh, stored.watermarks.get("webhooks") ?? emptyWatermark("webhooks"), { ...base, enforceHorizon: true }, now);
  const cdT = assignEventTime(cd.fresh, stored.watermarks.get("cdc") ?? emptyWatermark("cdc"), { ...base, enforceHorizon: false }, now);

  const webhooks: WebhookRow[] = whT.rows.map(({ is_late: _l, lateness_ms: _m, ...r }) => r);
  const cdcChanges: CdcRow[] = cdT.rows.map(({ is_late: _l, lateness_ms: _m, ...r }) => ({ ...r, event_date: eventDate(r.event_ts) }));
  const cdcApplied = applyCdc(cd.fresh, stored.cdcPositions);

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
      duplicates: p.duplicatesInBatch + ev.alreadyStored + wh.alreadyStored + cd.alreadyStored,
      loaded: evT.rows.length + webhooks.length + cdcChanges.length,
      late: evT.rows.filter((r) => r.is_late).length,
      deadLettered: deadLetters.length,
      cdcIgnored: cdcApplied.ignored,
    },
    loadedAt: now,
    eventsLateAgainstMs: stored.watermarks.get("events")?.watermarkMs ?? null,
  };
}

export { keyOf };

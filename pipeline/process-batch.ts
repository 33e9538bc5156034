/**
 * One micro-batch end to end against a sink: prepare (pure) → look up stored state → finish (pure)
 * → commit. Every path (the commit queue, the streaming loop, backfill) goes through this function.
 */
import type { Stream } from "../contracts/records.js";
import { DEFAULT_BATCH_OPTIONS, finishBatch, lookupOf, prepareBatch, type BatchOptions, type CommitBatch, type PreparedBatch } from "./transforms/batch.js";
import type { WatermarkState } from "./transforms/event-time.js";
import type { InboundMessage } from "./transforms/types.js";
import type { WarehouseSink } from "./warehouse-sink.js";

export interface ProcessOptions {
  batch?: BatchOptions;
  /**
   * live: lateness against the persisted watermarks, which the commit moves.
   * replay (backfill): lateness against watermarks built up by the replay itself in this map, so
   * archived data is judged as it was when it arrived and the live watermarks stay untouched.
   */
  mode: "live" | "replay";
  replayWatermarks?: Map<Stream, WatermarkState>;
  now?: () => string;
}

export async function processMessages(sink: WarehouseSink, messages: InboundMessage[], o: ProcessOptions): Promise<CommitBatch> {
  const now = (o.now ?? (() => new Date().toISOString()))();
  return applyPrepared(sink, prepareBatch(messages, now), o, now);
}

// Lookup → finish → commit must not interleave with another batch on the same sink (streaming and
// a backfill in one process): the lookup would miss rows the other commits, and metric increments
// would count them twice.
const sinkQueues = new WeakMap<WarehouseSink, Promise<unknown>>();

/** The warehouse half: look up what is stored, finish the batch (pure), commit. */
export function applyPrepared(sink: WarehouseSink, prepared: PreparedBatch, o: ProcessOptions, now: string): Promise<CommitBatch> {
  const previous = sinkQueues.get(sink) ?? Promise.resolve();
  const next = previous.then(
    () => applyNow(sink, prepared, o, now),
    () => applyNow(sink, prepared, o, now),
  );
  sinkQueues.set(sink, next.catch(() => undefined));
  return next;
}

async function applyNow(sink: WarehouseSink, prepared: PreparedBatch, o: ProcessOptions, now: string): Promise<CommitBatch> {
  const stored = await sink.lookup(lookupOf(prepared));
  const state = o.mode === "replay" ? { ...stored, watermarks: o.replayWatermarks ?? new Map() } : stored;
  const batch = finishBatch(prepared, state, o.batch ?? DEFAULT_BATCH_OPTIONS, now);
  await sink.commit(batch, { persistWatermarks: o.mode === "live" });
  if (o.mode === "replay" && o.replayWatermarks) for (const w of batch.watermarks) o.replayWatermarks.set(w.stream as Stream, w);
  return batch;
}

/**
 * The single-node engine's steps over micro-batches (pulled from the Pub/Sub subscriptions) and
 * archive objects (a backfill), in order: decode, then parse, validate and dedup (on the prepare
 * pool's worker threads when one is given), then the ordered commit queue. runLocal resolves only
 * when the warehouse has committed, so callers acknowledge messages (or report a backfill step
 * done) strictly after the commit. Production runs the Beam pipeline in Python (pipeline/beam).
 */
import { CommitQueue } from "./commit-queue.js";
import { decodeChunk, prepareChunk, type SourceChunk } from "./graph-fns.js";
import type { ProcessOptions } from "./process-batch.js";
import type { BatchStats } from "./transforms/batch.js";
import type { WarehouseSink } from "./warehouse-sink.js";
import type { PreparePool } from "./workers/prepare-pool.js";

export interface RunResult {
  stats: BatchStats;
  /** Warehouse transactions the run committed. */
  commits: number;
}

/**
 * Prepares the chunks and queues their commits in order; resolves when all are queued (the queue
 * may still be committing). A backfill keeps one queue across many calls so this thread prepares
 * the next objects while DuckDB's threads commit the previous group.
 */
export async function runGraph(chunks: SourceChunk[], queue: CommitQueue, now: string, pool?: PreparePool): Promise<void> {
  for (const c of chunks) {
    queue.enqueue(pool ? { id: c.id, prepared: pool.prepare(c, now) } : prepareChunk(decodeChunk(c), now));
  }
}

/** Prepare and commit; resolves only after the warehouse committed (then callers may ack). */
export async function runLocal(chunks: SourceChunk[], sink: WarehouseSink, options: ProcessOptions): Promise<RunResult> {
  const now = (options.now ?? (() => new Date().toISOString()))();
  const queue = new CommitQueue(sink, options, now);
  await runGraph(chunks, queue, now);
  await queue.drain();
  return { stats: queue.stats, commits: queue.committed };
}

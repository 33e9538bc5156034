/**
 * Backfill: replays archive objects of a date range through the same graph as streaming (batch
 * source), in arrival order (date, hour), with lateness judged against a watermark the replay
 * builds itself (the live watermarks stay untouched). Each group of objects is one warehouse
 * transaction; within it lateness is still judged object by object (mergePrepared keeps where each
 * object ends). Idempotent: stored keys are skipped before anything is counted, so a re-run leaves
 * every table as it was.
 */
import type { InputStream } from "./transforms/types.js";
import { runGraph } from "./run-local.js";
import { CommitQueue } from "./commit-queue.js";
import type { Stream } from "../contracts/records.js";
import type { BatchOptions, BatchStats } from "./transforms/batch.js";
import type { WatermarkState } from "./transforms/event-time.js";
import type { WarehouseSink } from "./warehouse-sink.js";
import { datesBetween, listArchive, type ArchiveReader } from "./sources/archive.js";
import { defaultPoolSize, PreparePool } from "./workers/prepare-pool.js";

/**
 * Records per warehouse transaction a backfill aims for: about 1.6 DuckDB row groups (122,880 rows
 * each). DuckDB writes every full row group of a large insert straight to its file, compressed,
 * and the transaction's last, partial one too; a checkpoint later merges adjacent row groups that
 * fit into fewer, rewriting them. Transactions of just over one row group (125,000 records) left a
 * small row group after each full one, and closing the warehouse after a million rows spent
 * 1.7-3 s rewriting them. A last row group over half full never fits with its neighbours
 * (measured: a 64 ms checkpoint instead of 2.9 s). Below one row group an insert goes through the
 * write-ahead log and is compressed at the next checkpoint instead. Lateness does not depend on
 * the transaction size (judged object by object).
 */
const TARGET_RECORDS_PER_TRANSACTION = 196_608;
const MAX_OBJECTS_PER_GROUP = 256;
const DOWNLOAD_CONCURRENCY = 4;

export interface BackfillOptions {
  from: string;
  to: string;
  streams?: InputStream[];
  reader: ArchiveReader;
  sink: WarehouseSink;
  batch?: BatchOptions;
  /** Objects per warehouse transaction (default: as many as hold about recordsPerTransaction records). */
  objectsPerRun?: number;
  /** Records a transaction's objects should hold at least (default TARGET_RECORDS_PER_TRANSACTION). */
  recordsPerTransaction?: number;
  /** Worker threads that prepare archive objects (default: one per core but one, at least one). */
  prepareThreads?: number;
  onProgress?: (p: { objectsDone: number; objectsTotal: number; stats: BatchStats }) => void;
}

export interface BackfillResult {
  objects: number;
  stats: BatchStats;
}

export async function runBackfill(o: BackfillOptions): Promise<BackfillResult> {
  const streams = o.streams ?? ["events", "webhooks", "cdc"];
  const objects = await listArchive(o.reader, datesBetween(o.from, o.to), streams);
  const stats: BatchStats = { messages: 0, duplicates: 0, loaded: 0, late: 0, deadLettered: 0, cdcIgnored: 0 };
  const replayWatermarks = new Map<Stream, WatermarkState>();
  // A group ends once its objects hold the target number of records by the average of the objects
  // prepared so far (the workers run a few objects ahead of the reader, so that is known from the
  // first group on).
  const groupIsFull = (held: number) => {
    if (o.objectsPerRun) return held >= o.objectsPerRun;
    if (held >= MAX_OBJECTS_PER_GROUP) return true;
    const p = pool.prepared;
    return p.objects > 0 && held * (p.messages / p.objects) >= (o.recordsPerTransaction ?? TARGET_RECORDS_PER_TRANSACTION);
  };
  const threads = Math.max(1, o.prepareThreads ?? defaultPoolSize());
  let done = 0;
  o.onProgress?.({ objectsDone: 0, objectsTotal: objects.length, stats });
  const now = new Date().toISOString();
  const queue = new CommitQueue(o.sink, { mode: "replay", replayWatermarks, ...(o.batch ? { batch: o.batch } : {}) }, now, true);
  // Downloads run a few objects ahead of the graph.
  const downloads = new Map<number, Promise<Uint8Array>>();
  const fetchAhead = (from: number) => {
    for (let j = from; j < Math.min(from + DOWNLOAD_CONCURRENCY, objects.length); j++) if (!downloads.has(j)) downloads.set(j, o.reader.read(objects[j]!.name));
  };
  const settle = async (flushing: Promise<void>, size: number) => {
    await flushing;
    Object.assign(stats, queue.stats);
    done += size;
    o.onProgress?.({ objectsDone: done, objectsTotal: objects.length, stats: { ...stats } });
  };
  // Objects are prepared on worker threads, a few ahead of the commits: on this one thread, parsing
  // the records took most of a backfill's time. This thread queues the prepared objects, runs the
  // ordered lookups and the commits. At most two groups wait
  // for their commit, so memory stays bounded however far the workers could run ahead.
  const pool = new PreparePool(threads);
  const restoreCores = await o.sink.shareCores?.(pool.size);
  try {
    const groups: { flushing: Promise<void>; size: number }[] = [];
    let held = 0;
    for (let i = 0; i < objects.length; i++) {
      await pool.whenPendingBelow(pool.size * 2 + 2);
      fetchAhead(i);
      const obj = objects[i]!;
      const gzip = await downloads.get(i)!;
      downloads.delete(i);
      await runGraph([{ kind: "archive", id: obj.name, stream: obj.stream, object: obj.name, gzip }], queue, now, pool);
      held++;
      if (groupIsFull(held) || i === objects.length - 1) {
        const flushing = queue.flush();
        flushing.catch(() => undefined); // awaited in settle; avoids an unhandled rejection meanwhile
        groups.push({ flushing, size: held });
        held = 0;
        while (groups.length > 2) {
          const g = groups.shift()!;
          await settle(g.flushing, g.size);
        }
      }
    }
    for (const g of groups) await settle(g.flushing, g.size);
  } finally {
    await pool.close();
    await restoreCores?.();
  }
  return { objects: objects.length, stats };
}

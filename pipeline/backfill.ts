/**
 * Backfill: replays archive objects of a date range through the same graph as streaming (batch
 * source), in arrival order (date, hour), with lateness judged against a watermark the replay
 * builds itself (the live watermarks stay untouched). Each group of objects is one warehouse
 * transaction, judged against the replay watermark at the start of the group. Idempotent: stored keys are skipped before
 * anything is counted, so a re-run leaves every table as it was.
 */
import type { InputStream } from "./transforms/types.js";
import type { SourceChunk } from "./graph-fns.js";
import { startLocal, type RunResult } from "./run-local.js";
import type { Stream } from "../contracts/records.js";
import type { BatchOptions, BatchStats } from "./transforms/batch.js";
import type { WatermarkState } from "./transforms/event-time.js";
import type { WarehouseSink } from "./warehouse-sink.js";
import { datesBetween, listArchive, type ArchiveReader } from "./sources/archive.js";

/** Objects per direct-runner run, and how many are downloaded at once. */
const OBJECTS_PER_RUN = 16;
const DOWNLOAD_CONCURRENCY = 4;

export interface BackfillOptions {
  from: string;
  to: string;
  streams?: InputStream[];
  reader: ArchiveReader;
  sink: WarehouseSink;
  batch?: BatchOptions;
  objectsPerRun?: number;
  onProgress?: (p: { objectsDone: number; objectsTotal: number; stats: BatchStats }) => void;
}

export interface BackfillResult {
  objects: number;
  stats: BatchStats;
}

async function mapLimit<T, R>(xs: T[], limit: number, fn: (x: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(xs.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, xs.length) }, async () => {
      while (next < xs.length) {
        const i = next++;
        out[i] = await fn(xs[i]!);
      }
    }),
  );
  return out;
}

export async function runBackfill(o: BackfillOptions): Promise<BackfillResult> {
  const streams = o.streams ?? ["events", "webhooks", "cdc"];
  const objects = await listArchive(o.reader, datesBetween(o.from, o.to), streams);
  const stats: BatchStats = { messages: 0, duplicates: 0, loaded: 0, late: 0, deadLettered: 0, cdcIgnored: 0 };
  const replayWatermarks = new Map<Stream, WatermarkState>();
  const per = o.objectsPerRun ?? OBJECTS_PER_RUN;
  let done = 0;
  o.onProgress?.({ objectsDone: 0, objectsTotal: objects.length, stats });
  const download = (group: typeof objects) =>
    mapLimit(group, DOWNLOAD_CONCURRENCY, async (obj): Promise<SourceChunk> => ({ kind: "archive", id: obj.name, stream: obj.stream, object: obj.name, gzip: await o.reader.read(obj.name) }));
  const account = (r: RunResult, objectsInGroup: number) => {
    for (const k of Object.keys(stats) as (keyof BatchStats)[]) stats[k] += r.stats[k];
    done += objectsInGroup;
    o.onProgress?.({ objectsDone: done, objectsTotal: objects.length, stats });
  };
  // One group commits while the next is downloaded and prepared; commits stay in order.
  let inflight: { committed: Promise<RunResult>; size: number } | null = null;
  for (let i = 0; i < objects.length; i += per) {
    const group = objects.slice(i, i + per);
    const chunks = await download(group);
    const started = await startLocal(chunks, o.sink, { mode: "replay", replayWatermarks, oneCommitPerRun: true, ...(o.batch ? { batch: o.batch } : {}) });
    if (inflight) account(await inflight.committed, inflight.size);
    inflight = { committed: started.committed, size: group.length };
  }
  if (inflight) account(await inflight.committed, inflight.size);
  return { objects: objects.length, stats };
}

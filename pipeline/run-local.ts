/**
 * Runs the graph of createPipeline on Beam's direct runner, one micro-batch per run: the runner
 * hands the batch in through a runtime handle, the graph parses, validates and dedups it and queues
 * the commit, and the run resolves only when the warehouse has committed, so callers acknowledge
 * messages (or report a backfill step done) strictly after the commit.
 */
// The SDK's CommonJS modules import each other in cycles; loading the package root first settles them.
import "apache-beam";
import directRunnerModule from "apache-beam/runners/direct_runner";
import { createPipeline } from "./create-pipeline.js";
import { CommitQueue } from "./commit-queue.js";
import type { SourceChunk } from "./graph-fns.js";
import type { ProcessOptions } from "./process-batch.js";
import { runtime } from "./runtime.js";
import type { BatchStats } from "./transforms/batch.js";
import type { WarehouseSink } from "./warehouse-sink.js";
import type { PreparePool } from "./workers/prepare-pool.js";

const { directRunner } = directRunnerModule as unknown as typeof import("apache-beam/runners/direct_runner");

export interface RunResult {
  stats: BatchStats;
  /** Warehouse transactions the run committed. */
  commits: number;
}

// The SDK logs every bundle at debug level ("Processing … for bundle_id"); one line per micro-batch is noise.
const quietDebug = <T>(fn: () => Promise<T>): Promise<T> => {
  const original = console.debug;
  console.debug = () => undefined;
  return fn().finally(() => {
    console.debug = original;
  });
};

/**
 * Runs the graph over the chunks, feeding the given commit queue; resolves when the graph has run
 * (the queue may still be committing). A backfill keeps one queue across many small runs so the
 * JavaScript thread prepares the next objects while DuckDB's threads commit the previous group.
 */
export async function runGraph(chunks: SourceChunk[], queue: CommitQueue, now: string, pool?: PreparePool): Promise<void> {
  const source = runtime.put(chunks, "source");
  const commitQueue = runtime.put(queue, "commit");
  const preparePool = pool ? runtime.put(pool, "pool") : undefined;
  try {
    await quietDebug(() => directRunner().run(createPipeline({ kind: "local", source, commitQueue, now, ...(preparePool ? { preparePool } : {}) })));
  } finally {
    runtime.drop(source);
    runtime.drop(commitQueue);
    if (preparePool) runtime.drop(preparePool);
  }
}

/** Graph run and commit; resolves only after the warehouse committed (then callers may ack). */
export async function runLocal(chunks: SourceChunk[], sink: WarehouseSink, options: ProcessOptions): Promise<RunResult> {
  const now = (options.now ?? (() => new Date().toISOString()))();
  const queue = new CommitQueue(sink, options, now);
  await runGraph(chunks, queue, now);
  await queue.drain();
  return { stats: queue.stats, commits: queue.committed };
}

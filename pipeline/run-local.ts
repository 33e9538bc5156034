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

const { directRunner } = directRunnerModule as unknown as typeof import("apache-beam/runners/direct_runner");

export interface RunResult {
  stats: BatchStats;
  chunks: number;
}

// The SDK logs every bundle at debug level ("Processing … for bundle_id"); one line per micro-batch is noise.
const quietDebug = <T>(fn: () => Promise<T>): Promise<T> => {
  const original = console.debug;
  console.debug = () => undefined;
  return fn().finally(() => {
    console.debug = original;
  });
};

export async function runLocal(chunks: SourceChunk[], sink: WarehouseSink, options: ProcessOptions): Promise<RunResult> {
  const now = (options.now ?? (() => new Date().toISOString()))();
  const queue = new CommitQueue(sink, options, now);
  const source = runtime.put(chunks, "source");
  const commitQueue = runtime.put(queue, "commit");
  try {
    await quietDebug(() => directRunner().run(createPipeline({ kind: "local", source, commitQueue, now })));
    await queue.drain();
    return { stats: queue.stats, chunks: queue.committed };
  } finally {
    runtime.drop(source);
    runtime.drop(commitQueue);
  }
}

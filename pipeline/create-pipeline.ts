/**
 * createPipeline(options) only builds the single-node engine's Beam graph (TypeScript SDK, direct
 * runner); run-local.ts runs it. Micro-batches (pulled from the Pub/Sub subscriptions, or archive
 * objects read for a backfill) are handed in through a runtime handle and committed through the
 * sink's commit queue. Production runs the Beam pipeline in Python (pipeline/beam).
 *
 * Every function below is serialized by Beam, so each one declares what it captures in
 * `__closure` (the ts-closure-transform convention the SDK's serializer reads): registered objects
 * (graphFns, runtime, beam) go by reference, option values by value.
 */
import beamModule from "apache-beam";
import type { PCollection, Root } from "apache-beam";
import { graphFns, type DecodedChunk, type PendingChunk, type PreparedChunk, type SourceChunk } from "./graph-fns.js";
import type { PreparePool } from "./workers/prepare-pool.js";
import { runtime } from "./runtime.js";
import type { CommitQueue } from "./commit-queue.js";

const beam = beamModule as unknown as typeof import("apache-beam");

export interface LocalGraphOptions {
  kind: "local";
  /** runtime handle of `SourceChunk[]` */
  source: string;
  /** runtime handle of the CommitQueue the WriteToWarehouse step feeds */
  commitQueue: string;
  /** Processing time of the run (ISO), stamped as loaded_at. */
  now: string;
  /**
   * runtime handle of a PreparePool: archive objects are then decoded, parsed, validated and
   * deduped on its worker threads (backfill), not on the runner's one thread.
   */
  preparePool?: string;
}

export type PipelineOptions = LocalGraphOptions;

type Fn<A, R> = ((a: A) => R) & { __closure?: () => Record<string, unknown> };
const closure = <A, R>(fn: Fn<A, R>, captured: Record<string, unknown>): Fn<A, R> => {
  fn.__closure = () => captured;
  return fn;
};

export function createPipeline(options: PipelineOptions): (root: Root) => PCollection<unknown> | Promise<PCollection<unknown>> {
  return localGraph(options);
}

function localGraph(o: LocalGraphOptions) {
  const { source, commitQueue, now, preparePool } = o;
  // Local aliases: the serialized function text must name what its __closure provides, and test or
  // bundler transforms may rename imported bindings in the source text, never local ones.
  const rt = runtime;
  const fns = graphFns;
  return (root: Root): PCollection<unknown> => {
    // impulse + flatMap instead of beam.create: the chunks stay in this process (no quadratic
    // serialization of the data into the graph).
    const chunks = root.apply(beam.impulse()).flatMap(beam.withName("ReadSource", closure((_: Uint8Array) => rt.get<SourceChunk[]>(source), { rt, source })));
    const prepared: PCollection<PreparedChunk | PendingChunk> = preparePool
      ? // Decode, parse, validate and dedup on the pool's worker threads; the step outputs the pending result.
        chunks.map(
          beam.withName(
            "PrepareOnWorkers",
            closure((c: SourceChunk) => ({ id: c.id, prepared: rt.get<PreparePool>(preparePool).prepare(c, now) }), { rt, preparePool, now }),
          ),
        )
      : chunks
          .map(beam.withName("DecodeRecords", closure((c: SourceChunk) => fns.decodeChunk(c), { fns })))
          .map(beam.withName("ParseValidateDedup", closure((c: DecodedChunk) => fns.prepareChunk(c, now), { fns, now })));
    // DoFns are synchronous in this SDK; the commit (lookup + event time + CDC apply + one warehouse
    // transaction) is queued in order and awaited by the runner before any message is acknowledged.
    return prepared.map(
      beam.withName("WriteToWarehouse", closure((p: PreparedChunk | PendingChunk) => rt.get<CommitQueue>(commitQueue).enqueue(p), { rt, commitQueue })),
    );
  };
}

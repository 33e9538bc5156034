/**
 * Worker threads that prepare archive objects (decode, parse, validate, dedup within the object)
 * while the main thread runs the ordered lookups and commits. Beam's direct runner runs every DoFn
 * on the one JavaScript thread, and JSON.parse of the records was most of a backfill's time; a
 * distributed runner would spread the same step over its workers instead.
 *
 * Results resolve per object, in any order; the commit queue keeps the graph's order.
 */
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import type { PreparedBatch } from "../transforms/batch.js";
import { decodeChunk, prepareChunk, type SourceChunk } from "../graph-fns.js";
import { unpackObject, type PackedObject } from "./transfer.js";
import type { PrepareTask } from "./prepare-worker.js";

type Reply = { seq: number; ok: true; packed: PackedObject } | { seq: number; ok: false; error: string };

/** One worker per core but the one the main thread and DuckDB share (at least one, at most four). */
export const defaultPoolSize = () => Math.max(1, Math.min(4, availableParallelism() - 1));


export class PreparePool {
  private readonly workers: { worker: Worker; busy: number }[] = [];
  private readonly waiting = new Map<number, { resolve: (p: PreparedBatch) => void; reject: (e: Error) => void; object: string; worker: number }>();
  private seq = 0;
  private failed: Error | null = null;
  private closing = false;
  private belowWaiters: { n: number; resolve: () => void }[] = [];

  constructor(readonly size = defaultPoolSize()) {
    for (let i = 0; i < size; i++) {
      const worker = new Worker(new URL("./ts-worker.mjs", import.meta.url));
      worker.on("message", (m: Reply) => this.settle(m));
      worker.on("error", (e) => this.fail(new Error(`a prepare worker thread failed: ${e.message}`)));
      worker.on("exit", (code) => {
        if (code !== 0 && !this.closing) this.fail(new Error(`a prepare worker thread exited with code ${code}`));
      });
      this.workers.push({ worker, busy: 0 });
    }
  }

  /** Objects prepared so far and the messages (lines) they held: how big objects run, known before their commit. */
  readonly prepared = { objects: 0, messages: 0 };

  /** Objects handed to the workers and not yet prepared. */
  get pending(): number {
    return this.waiting.size;
  }

  /** Resolves once fewer than n objects are pending (backpressure for a reader running ahead). */
  whenPendingBelow(n: number): Promise<void> {
    if (this.waiting.size < n || this.failed) return Promise.resolve();
    return new Promise((resolve) => this.belowWaiters.push({ n, resolve }));
  }

  private wakeWaiters(): void {
    const still: typeof this.belowWaiters = [];
    for (const w of this.belowWaiters) (this.waiting.size < w.n || this.failed ? w.resolve() : still.push(w));
    this.belowWaiters = still;
  }

  /** Prepares an archive object on a worker; message chunks (streaming) are prepared in this thread. */
  prepare(chunk: SourceChunk, now: string): Promise<PreparedBatch> {
    if (chunk.kind !== "archive") return Promise.resolve(prepareChunk(decodeChunk(chunk), now).prepared);
    if (this.failed) return Promise.reject(this.failed);
    const seq = ++this.seq;
    let index = 0;
    for (let i = 1; i < this.workers.length; i++) if (this.workers[i]!.busy < this.workers[index]!.busy) index = i;
    const w = this.workers[index]!;
    w.busy++;
    const object = chunk.object;
    const result = new Promise<PreparedBatch>((resolve, reject) => this.waiting.set(seq, { resolve, reject, object, worker: index }));
    w.worker.postMessage({ seq, chunk, now } satisfies PrepareTask);
    return result;
  }

  private settle(m: Reply): void {
    const w = this.waiting.get(m.seq);
    if (!w) return;
    this.waiting.delete(m.seq);
    this.workers[w.worker]!.busy--;
    if (m.ok) {
      this.prepared.objects++;
      this.prepared.messages += m.packed.messages;
      w.resolve(unpackObject(m.packed));
    }
    else w.reject(new Error(`could not read ${w.object}: ${m.error}`));
    this.wakeWaiters();
  }

  private fail(e: Error): void {
    this.failed ??= e;
    for (const w of this.waiting.values()) w.reject(e);
    this.waiting.clear();
    this.wakeWaiters();
  }

  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(this.workers.map((w) => w.worker.terminate()));
  }
}

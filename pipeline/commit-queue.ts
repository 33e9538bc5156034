/**
 * Serializes warehouse commits in the order batches are handed over: lookup of stored keys,
 * the pure finish step and the commit of one batch complete before the next batch's lookup, so
 * dedup against stored rows and metric increments stay exact with one writer.
 */
import type { PendingChunk, PreparedChunk } from "./graph-fns.js";
import { applyPrepared, type ProcessOptions } from "./process-batch.js";
import { mergePrepared, type BatchStats, type PreparedBatch } from "./transforms/batch.js";
import type { WarehouseSink } from "./warehouse-sink.js";

export class CommitQueue {
  private tail: Promise<void> = Promise.resolve();
  private failure: unknown = null;
  readonly stats: BatchStats = { messages: 0, duplicates: 0, loaded: 0, late: 0, deadLettered: 0, cdcIgnored: 0 };
  committed = 0;

  private held: (PreparedBatch | Promise<PreparedBatch>)[] = [];

  constructor(
    private readonly sink: WarehouseSink,
    private readonly options: ProcessOptions,
    private readonly now: string,
    /**
     * Hold chunks until `flush` (backfill: a group of archive objects per warehouse transaction,
     * which amortizes the per-commit work) instead of committing each chunk as it comes.
     */
    private readonly hold = false,
  ) {}

  /** Called synchronously, in order (run-local.ts); returns the chunk id. */
  enqueue(p: PreparedChunk | PendingChunk): string {
    // A pending preparation is awaited in order by the commit; a failure surfaces there, not as an
    // unhandled rejection while it waits in the queue.
    if (p.prepared instanceof Promise) p.prepared.catch(() => undefined);
    if (this.hold) {
      this.held.push(p.prepared);
      return p.id;
    }
    this.apply(p.prepared);
    return p.id;
  }

  private apply(prepared: PreparedBatch | Promise<PreparedBatch>): void {
    if (prepared instanceof Promise) prepared.catch(() => undefined); // awaited below, in order
    this.tail = this.tail.then(async () => {
      if (this.failure) return;
      try {
        const b = await applyPrepared(this.sink, await prepared, this.options, this.now);
        for (const k of Object.keys(this.stats) as (keyof BatchStats)[]) this.stats[k] += b.stats[k];
        this.committed++;
      } catch (e) {
        this.failure = e;
      }
    });
  }

  /** Commits the held chunks as one batch; resolves when that (and all before it) committed. */
  async flush(): Promise<void> {
    if (this.held.length) {
      const parts = this.held.splice(0);
      this.apply(parts.some((p) => p instanceof Promise) ? Promise.all(parts).then(mergePrepared) : mergePrepared(parts as PreparedBatch[]));
    }
    await this.tail;
    if (this.failure) throw this.failure;
  }

  /** Resolves when every queued batch is committed; rejects with the first failure. */
  drain(): Promise<void> {
    return this.flush();
  }
}

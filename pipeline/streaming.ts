/**
 * The streaming pipeline: take a micro-batch of buffered Pub/Sub messages, run it through the
 * engine's steps (parse, validate, dedup, event time, CDC apply, ONE warehouse commit),
 * THEN acknowledge. A failed batch is nacked and redelivered; a crash between commit and ack means
 * a redelivery that dedup turns into a no-op.
 */
import { runLocal } from "./run-local.js";
import type { PubSubSource, PulledMessage } from "./sources/pubsub.js";
import type { BatchOptions, BatchStats } from "./transforms/batch.js";
import type { WarehouseSink } from "./warehouse-sink.js";

export const DEFAULT_BATCH_INTERVAL_MS = 200;
export const DEFAULT_MAX_BATCH_MESSAGES = 5000;
const RETRY_BACKOFF_MS = 1000;

export interface StreamingOptions {
  sink: WarehouseSink;
  source: PubSubSource;
  batch?: BatchOptions;
  /** How long to gather messages after the first one arrives before running the batch. */
  batchIntervalMs?: number;
  maxBatchMessages?: number;
  /** Test hook: runs after the commit and before the ack; throwing leaves the batch unacknowledged. */
  afterCommit?: (batch: PulledMessage[]) => Promise<void> | void;
  log?: (line: string) => void;
}

export interface StreamingStatus {
  batches: number;
  failures: number;
  totals: BatchStats;
  lastBatchAt: string | null;
  lastError: string | null;
}

export class StreamingPipeline {
  private running = false;
  private loop: Promise<void> | null = null;
  readonly status: StreamingStatus = {
    batches: 0,
    failures: 0,
    totals: { messages: 0, duplicates: 0, loaded: 0, late: 0, deadLettered: 0, cdcIgnored: 0 },
    lastBatchAt: null,
    lastError: null,
  };

  constructor(private readonly o: StreamingOptions) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.o.source.start();
    this.loop = this.run();
  }

  private async run(): Promise<void> {
    const interval = this.o.batchIntervalMs ?? DEFAULT_BATCH_INTERVAL_MS;
    const max = this.o.maxBatchMessages ?? DEFAULT_MAX_BATCH_MESSAGES;
    while (this.running) {
      await this.o.source.waitForMessages(interval);
      for (const e of this.o.source.takeErrors()) this.o.log?.(`pipeline: Pub/Sub subscription error: ${e.message}`);
      if (!this.running) break;
      if (this.o.source.buffered === 0) continue;
      // Let a burst gather into one batch instead of committing message by message.
      if (this.o.source.buffered < max) await sleep(interval);
      const batch = this.o.source.take(max);
      await this.runBatch(batch);
    }
  }

  /** One batch: graph + commit, then ack. Public for tests that drive batches by hand. */
  async runBatch(batch: PulledMessage[]): Promise<boolean> {
    try {
      const r = await runLocal([{ kind: "messages", id: `pull-${this.status.batches + 1}`, messages: batch.map((m) => m.inbound) }], this.o.sink, {
        mode: "live",
        ...(this.o.batch ? { batch: this.o.batch } : {}),
      });
      await this.o.afterCommit?.(batch);
      this.o.source.ack(batch);
      this.status.batches++;
      this.status.lastBatchAt = new Date().toISOString();
      for (const k of Object.keys(this.status.totals) as (keyof BatchStats)[]) this.status.totals[k] += r.stats[k];
      return true;
    } catch (e) {
      this.status.failures++;
      this.status.lastError = (e as Error).message;
      this.o.log?.(`pipeline: batch of ${batch.length} messages not committed, left for redelivery: ${(e as Error).message}`);
      this.o.source.nack(batch);
      await sleep(RETRY_BACKOFF_MS);
      return false;
    }
  }

  /** Stops pulling, finishes the batch in flight, releases what was not committed. */
  async stop(): Promise<void> {
    this.running = false;
    this.o.source.takeErrors();
    await this.loop;
    await this.o.source.close();
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The one port between the pipeline and a warehouse. The pipeline asks what is already stored for
 * a batch (dedup keys, CDC positions, watermarks), computes the batch with the pure transforms, and
 * hands it to `commit`, which must store rows, dead letters, watermarks, touched partitions and
 * metric increments atomically (or idempotently) before the source messages are acknowledged.
 */
import type { CommitBatch, Lookup, StoredState } from "./transforms/batch.js";

export interface CommitOptions {
  /** Streaming moves the persisted watermarks; a backfill replays with its own and leaves them alone. */
  persistWatermarks: boolean;
}

export interface WarehouseSink {
  readonly kind: "duckdb" | "bigquery";
  /** Creates datasets/schemas and tables from contracts/ when missing. */
  init(): Promise<void>;
  lookup(l: Lookup): Promise<StoredState>;
  commit(batch: CommitBatch, opts: CommitOptions): Promise<void>;
  /**
   * A local warehouse that computes on this machine's cores leaves `threads` of them to the
   * pipeline's worker threads until the returned function is called (backfill).
   */
  shareCores?(threads: number): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

/**
 * What the operator API needs from the platform it serves, injected so that the app runs without a
 * pipeline (tests) and under another composition root (the GCP one) alike.
 */
import type { QueryLimits, QueryResult } from "../../warehouse/duckdb/query.js";
import type { RunResult } from "../../warehouse/models/run.js";
import type { BackfillProgress, BackfillRequest, BackfillResult, ModelsRunMessage, ModelsRunRequest, PipelineStatus, ReconcileRequest, ReconcileResult } from "./schemas.js";

export interface OperatorPorts {
  /** Names the warehouse in answers (the DuckDB file). */
  warehouse: string;
  /** Runs one read-only statement within the limits; throws QueryError for the caller's mistakes. */
  query(sql: string, limits: QueryLimits): Promise<QueryResult>;
  status(): PipelineStatus["status"];
  /** Replays the archive for a date range, reporting progress; resolves with the totals. */
  backfill(req: BackfillRequest, progress: (p: BackfillProgress) => void): Promise<BackfillResult>;
  /** Loads what the archive holds since a time and the warehouse lacks (idempotent); absent where no archive is at hand. */
  reconcile?(req: ReconcileRequest): Promise<ReconcileResult>;
  /** Builds the models; every message (progress lines, then done or error) goes to `emit`. */
  runModels(req: ModelsRunRequest, emit: (m: ModelsRunMessage) => void): Promise<void>;
  /** The last models run this process made, with its assertions (the dashboard shows them); absent where none runs. */
  lastModelsRun?(): { finishedAt: string; result: RunResult } | null;
}

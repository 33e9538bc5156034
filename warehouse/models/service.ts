/**
 * Running the models inside the process that holds the local warehouse (the pipeline, while
 * `npm start` runs: DuckDB allows one writer). The operator API exposes this as
 *   POST /api/models/run {"fullRefresh"?: boolean, "select"?: string, "exchangeRates"?: string}
 *   → NDJSON: {"line": "..."} progress lines, then {"done": true, "result": RunResult} or
 *     {"error": {"message", "model"?, "assertion"?}}
 * which `npx tideline models run` uses when an operator API answers.
 */
import type { DuckDBConnection } from "@duckdb/node-api";
import { duckDbExecutor } from "./executor.js";
import { ModelRunError, runModels, type RunResult } from "./run.js";

export interface ModelsRunRequest {
  fullRefresh?: boolean;
  select?: string;
  /** Path of the exchange-rates CSV (default: TIDELINE_EXCHANGE_RATES, else the project's). */
  exchangeRates?: string;
}

export type ModelsRunMessage = { line: string } | { done: true; result: RunResult } | { error: { message: string; model?: string; assertion?: string } };

/** Runs the graph on an open write connection; every message goes to `emit` (one NDJSON line each). */
export async function runModelsOnConnection(con: DuckDBConnection, req: ModelsRunRequest, emit: (m: ModelsRunMessage) => void): Promise<void> {
  const exec = await duckDbExecutor(con);
  try {
    const result = await runModels(exec, { fullRefresh: !!req.fullRefresh, select: req.select, exchangeRates: req.exchangeRates, log: (line) => emit({ line }) });
    emit({ done: true, result });
  } catch (e) {
    const err = e as Error;
    emit({ error: { message: err.message, ...(e instanceof ModelRunError ? { model: e.model, assertion: e.assertion } : {}) } });
  }
}

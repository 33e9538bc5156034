/** Limits of the operator API, in one place (named with their units); the query limits are the warehouse's. */
import { DEFAULT_QUERY_TIMEOUT_MS } from "../../warehouse/duckdb/query.js";

export { DEFAULT_QUERY_TIMEOUT_MS, MAX_QUERY_ROWS } from "../../warehouse/duckdb/query.js";

/** A query body: one SQL statement, generous for generated SQL. */
export const MAX_QUERY_BODY_BYTES = 256 * 1024;
/** Backfill and models-run bodies: a few small fields. */
export const MAX_COMMAND_BODY_BYTES = 16 * 1024;
/** How much longer than the query deadline a client waits for the answer to start (network, queueing). */
export const RESPONSE_HEAD_SLACK_MS = 10_000;

/** TIDELINE_QUERY_TIMEOUT_MS or the default; the server and the CLI read the same value. */
export function queryTimeoutMs(): number {
  const v = process.env.TIDELINE_QUERY_TIMEOUT_MS;
  if (v === undefined || v === "") return DEFAULT_QUERY_TIMEOUT_MS;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`TIDELINE_QUERY_TIMEOUT_MS=${v} is not a whole number of milliseconds`);
  return n;
}

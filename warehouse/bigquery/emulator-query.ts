/**
 * `npx tideline query --warehouse bigquery "<GoogleSQL>"`: one read-only statement against the local
 * BigQuery emulator (`npm start -- --engine beam`), in the same result shape as the DuckDB query.
 * Read-only as BigQuery itself judges it: a dry run first, and only a SELECT statement runs.
 */
import { BigQuery } from "@google-cloud/bigquery";
import { MAX_QUERY_ROWS, queryTimeoutMs } from "../../platform/api/limits.js";
import { localSettings } from "../../platform/local/settings.js";
import { QueryError, type QueryResult } from "../duckdb/query.js";

/** BigQuery's value wrappers (timestamps, dates, numerics, large integers) → JSON-safe values. */
function plain(v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if (typeof v === "bigint") return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
  if (Array.isArray(v)) return v.map(plain);
  if (typeof v === "object") {
    if (v instanceof Buffer) return v.toString("base64");
    if ("value" in v) {
      const inner = (v as { value: unknown }).value;
      if (typeof inner === "string" && /^-?\d+$/.test(inner)) return Number.isSafeInteger(Number(inner)) ? Number(inner) : inner;
      return inner;
    }
    if (typeof (v as { toFixed?: unknown }).toFixed === "function" && typeof (v as { toString?: unknown }).toString === "function") return String(v);
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  }
  return v;
}

export async function queryBigQueryEmulator(sql: string): Promise<QueryResult> {
  const s = localSettings();
  const endpoint = `http://127.0.0.1:${s.bigqueryPort}`;
  // The emulator takes no credentials; without this the client first probes for a metadata server.
  process.env.METADATA_SERVER_DETECTION ??= "none";
  const client = new BigQuery({ projectId: s.project, apiEndpoint: endpoint, autoRetry: false });
  const start = "start it with: npm start -- --engine beam";
  let statementType: string | undefined;
  try {
    const [job] = await client.createQueryJob({ query: sql, dryRun: true });
    statementType = job.metadata?.statistics?.query?.statementType;
  } catch (e) {
    const message = (e as Error).message;
    if (/ECONNREFUSED|fetch failed|ENOTFOUND|socket hang up/i.test(message)) {
      throw new QueryError(`the BigQuery emulator does not answer on ${endpoint}`, "unavailable", start);
    }
    throw new QueryError(`BigQuery refused the query: ${message}`, "sql", "fix the GoogleSQL; tables are `raw.events`, `core.orders`, `ops.dead_letters`, …");
  }
  if (statementType && statementType !== "SELECT") {
    throw new QueryError(`only a SELECT runs here; this is a ${statementType} statement`, "rejected", "send one SELECT (or WITH … SELECT) statement");
  }
  const [rows] = await client.query({ query: sql, jobTimeoutMs: queryTimeoutMs(), maxResults: MAX_QUERY_ROWS + 1, wrapIntegers: true });
  const truncated = rows.length > MAX_QUERY_ROWS;
  const kept = (truncated ? rows.slice(0, MAX_QUERY_ROWS) : rows).map((r: Record<string, unknown>) => plain(r) as Record<string, unknown>);
  const columns = Object.keys(kept[0] ?? {}).map((name) => ({ name, type: "" }));
  return { columns, rows: kept, truncated, ...(truncated ? { notice: `only the first ${MAX_QUERY_ROWS} rows` } : {}) };
}

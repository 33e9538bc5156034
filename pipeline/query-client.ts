/**
 * Read-only SQL from any process: through the running pipeline's operator API when one answers
 * (it holds DuckDB's write lock), else by opening the warehouse file read-only.
 */
import { dashboardPort } from "./operator-api.js";
import { QueryError, queryFile, type QueryResult } from "../warehouse/duckdb/query.js";
import { warehousePath } from "../warehouse/duckdb/sink.js";

const PROBE_TIMEOUT_MS = 30_000;

export async function queryWarehouse(sql: string, o: { port?: number; path?: string } = {}): Promise<QueryResult & { via: "api" | "file" }> {
  const port = o.port ?? dashboardPort();
  let res: Response | null = null;
  try {
    res = await fetch(`http://127.0.0.1:${port}/api/query`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ sql }),
      signal: AbortSignal.timeout(PROBE_TIMEOUT_MS),
    });
  } catch {
    res = null; // nothing listening: no pipeline running
  }
  if (res && (res.status === 200 || res.status === 400) && (res.headers.get("content-type") ?? "").includes("application/json")) {
    const body = (await res.json()) as QueryResult & { error?: { code: QueryError["code"]; message: string } };
    if (body.error) throw new QueryError(body.error.message, body.error.code);
    return { columns: body.columns, rows: body.rows, via: "api" };
  }
  const path = o.path ?? warehousePath();
  try {
    return { ...(await queryFile(path, sql)), via: "file" };
  } catch (e) {
    if (e instanceof QueryError) throw e;
    const msg = (e as Error).message;
    if (/lock/i.test(msg)) {
      throw new QueryError(
        `the warehouse ${path} is held by another process (DuckDB allows one writer) and no operator API answered on 127.0.0.1:${port}; set TIDELINE_DASHBOARD_PORT to the pipeline's port, or wait for the backfill to finish`,
        "unavailable",
      );
    }
    throw new QueryError(`could not open the warehouse ${path}: ${msg}`, "unavailable");
  }
}

/**
 * The operator API the pipeline process serves on 127.0.0.1 (TIDELINE_DASHBOARD_PORT, default 3000):
 * the pipeline holds DuckDB's only write lock, so other processes (npx tideline query) read the
 * warehouse through it.
 *   POST /api/query  {"sql": "..."} → 200 {columns, rows} | 400 {error: {code, message}}
 *   GET  /api/pipeline → streaming status (batches, totals, last error) and the warehouse path
 *   POST /api/backfill {"from","to","streams"?} → NDJSON progress lines, then {"done": true, …} or {"error": …}
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { DuckDBConnection } from "@duckdb/node-api";
import { QueryError, runReadOnly } from "../warehouse/duckdb/query.js";

export const DEFAULT_DASHBOARD_PORT = 3000;
const MAX_QUERY_BODY_BYTES = 1024 * 1024;

export const dashboardPort = () => Number(process.env.TIDELINE_DASHBOARD_PORT ?? DEFAULT_DASHBOARD_PORT);

export interface OperatorApiOptions {
  port?: number;
  /** The read connection of the warehouse held by this process. */
  connection: () => Promise<DuckDBConnection>;
  warehouse: string;
  status?: () => unknown;
  /** Runs a backfill in this process (the one holding the write lock), reporting progress. */
  backfill?: (req: { from: string; to: string; streams?: string[] }, progress: (p: unknown) => void) => Promise<unknown>;
  /** Other routes served on the same port (e.g. the dashboard); return false when not handled. */
  extraRoutes?: (req: IncomingMessage, res: ServerResponse) => boolean | Promise<boolean>;
}

async function readBody(req: IncomingMessage): Promise<string> {
  let size = 0;
  const parts: Buffer[] = [];
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > MAX_QUERY_BODY_BYTES) throw new QueryError(`request body over ${MAX_QUERY_BODY_BYTES} bytes`, "rejected");
    parts.push(c as Buffer);
  }
  return Buffer.concat(parts).toString("utf8");
}

// One query at a time on the read connection: a DuckDB connection runs one transaction.
let chain: Promise<unknown> = Promise.resolve();
const serialized = <T>(fn: () => Promise<T>): Promise<T> => {
  const next = chain.then(fn, fn);
  chain = next.catch(() => undefined);
  return next;
};

export async function startOperatorApi(o: OperatorApiOptions): Promise<{ server: Server; url: string; close(): Promise<void> }> {
  const server = createServer(async (req, res) => {
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { "content-type": "application/json; charset=utf-8" });
      res.end(JSON.stringify(body));
    };
    try {
      if (req.method === "POST" && req.url === "/api/query") {
        let sql: unknown;
        try {
          sql = (JSON.parse(await readBody(req)) as { sql?: unknown }).sql;
        } catch (e) {
          if (e instanceof QueryError) throw e;
          return send(400, { error: { code: "rejected", message: 'body must be JSON: {"sql": "SELECT …"}' } });
        }
        if (typeof sql !== "string" || !sql.trim()) return send(400, { error: { code: "rejected", message: 'body must be JSON with a non-empty "sql" string' } });
        const con = await o.connection();
        const result = await serialized(() => runReadOnly(con, sql as string));
        return send(200, { ...result, warehouse: o.warehouse });
      }
      if (req.method === "POST" && req.url === "/api/backfill" && o.backfill) {
        let body: { from?: unknown; to?: unknown; streams?: unknown };
        try {
          body = JSON.parse(await readBody(req)) as typeof body;
        } catch {
          return send(400, { error: { code: "rejected", message: 'body must be JSON: {"from": "YYYY-MM-DD", "to": "YYYY-MM-DD"}' } });
        }
        if (typeof body.from !== "string" || typeof body.to !== "string") return send(400, { error: { code: "rejected", message: "from and to are required (YYYY-MM-DD)" } });
        res.writeHead(200, { "content-type": "application/x-ndjson; charset=utf-8" });
        const line = (x: unknown) => res.write(JSON.stringify(x) + "\n");
        try {
          const result = await o.backfill({ from: body.from, to: body.to, ...(Array.isArray(body.streams) ? { streams: body.streams as string[] } : {}) }, (p) => line({ progress: p }));
          line({ done: true, result });
        } catch (e) {
          line({ error: { message: (e as Error).message } });
        }
        return res.end();
      }
      if (req.method === "GET" && req.url === "/api/pipeline") return send(200, { warehouse: o.warehouse, status: o.status?.() ?? null });
      if (req.method === "GET" && req.url === "/healthz") return send(200, { ok: true });
      if (o.extraRoutes && (await o.extraRoutes(req, res))) return;
      send(404, { error: { code: "not_found", message: "unknown route; see POST /api/query, GET /api/pipeline and POST /api/backfill" } });
    } catch (e) {
      if (e instanceof QueryError) return send(400, { error: { code: e.code, message: e.message } });
      send(500, { error: { code: "internal", message: (e as Error).message } });
    }
  });
  const port = o.port ?? dashboardPort();
  await new Promise<void>((resolve, reject) => {
    server.once("error", (e: NodeJS.ErrnoException) =>
      reject(e.code === "EADDRINUSE" ? new Error(`port ${port} on 127.0.0.1 is in use: stop what runs there or set TIDELINE_DASHBOARD_PORT`) : e),
    );
    server.listen(port, "127.0.0.1", resolve);
  });
  const actual = (server.address() as { port: number }).port;
  return {
    server,
    url: `http://127.0.0.1:${actual}`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/**
 * `npx tideline query [--json] "<SQL>"`: read-only SQL (DuckDB dialect) against the local warehouse,
 * through the running pipeline's operator API when `npm start` runs, else from the file read-only.
 * `--json` prints exactly one JSON array of row objects on stdout and nothing else.
 */
import { Command, Option } from "commander";
import { operatorClient, OperatorApiError, OperatorApiUnavailable, type OperatorClient } from "../../platform/api/client.js";
import { queryTimeoutMs, MAX_QUERY_ROWS } from "../../platform/api/limits.js";
import { QueryError, queryFile, type QueryResult } from "../../warehouse/duckdb/query.js";
import { warehousePath } from "../../warehouse/duckdb/sink.js";
import { queryBigQueryEmulator } from "../../warehouse/bigquery/emulator-query.js";

const MAX_CELL_CHARS = 60;

function cell(v: unknown): string {
  const s = v === null || v === undefined ? "NULL" : typeof v === "object" ? JSON.stringify(v) : String(v);
  return s.length > MAX_CELL_CHARS ? s.slice(0, MAX_CELL_CHARS - 1) + "…" : s;
}

export function formatTable(r: QueryResult): string {
  const names = r.columns.map((c) => c.name);
  const cells = r.rows.map((row) => names.map((n) => cell(row[n])));
  const widths = names.map((n, i) => Math.max(n.length, ...cells.map((c) => c[i]!.length)));
  const line = (xs: string[]) => xs.map((x, i) => x.padEnd(widths[i]!)).join(" │ ").trimEnd();
  return [line(names), widths.map((w) => "─".repeat(w)).join("─┼─"), ...cells.map(line), `(${r.rows.length} row${r.rows.length === 1 ? "" : "s"})`].join("\n");
}

/**
 * Through the running platform's operator API when it runs (it holds DuckDB's write lock), else from
 * the warehouse file opened read-only; the same deadline and row cap either way.
 */
export async function queryWarehouse(sql: string, o: { client?: OperatorClient; path?: string } = {}): Promise<QueryResult & { via: "api" | "file" }> {
  try {
    const r = await (o.client ?? operatorClient()).query(sql);
    return { columns: r.columns, rows: r.rows, truncated: r.truncated, ...(r.notice ? { notice: r.notice } : {}), via: "api" };
  } catch (e) {
    if (!(e instanceof OperatorApiUnavailable)) throw e;
  }
  return { ...(await queryFile(o.path ?? warehousePath(), sql, { timeoutMs: queryTimeoutMs(), maxRows: MAX_QUERY_ROWS })), via: "file" };
}

/** Exit 1 for what is wrong with the query; 3 when there was no warehouse to ask. */
const QUERY_MISTAKES = new Set(["rejected", "sql", "not_built", "timeout", "invalid_request", "payload_too_large"]);

/** "message" and, on its own line, what to do. */
export const explain = (e: Error & { hint?: string | undefined }) => `${e.message}${e.hint ? `\n  ${e.hint}` : ""}`;

export async function runQuery(
  sql: string,
  opts: { json?: boolean; warehouse?: "duckdb" | "bigquery" },
  out: NodeJS.WritableStream = process.stdout,
  err: NodeJS.WritableStream = process.stderr,
  client?: OperatorClient,
): Promise<number> {
  try {
    const r = opts.warehouse === "bigquery" ? await queryBigQueryEmulator(sql) : await queryWarehouse(sql, client ? { client } : {});
    out.write(opts.json ? JSON.stringify(r.rows) + "\n" : formatTable(r) + "\n");
    if (r.notice) err.write(`tideline query: ${r.notice}\n`);
    return 0;
  } catch (e) {
    if (e instanceof QueryError || e instanceof OperatorApiError) {
      err.write(`tideline query: ${explain(e)}\n`);
      return QUERY_MISTAKES.has(e.code) ? 1 : 3;
    }
    err.write(`tideline query: query failed: ${(e as Error).message}\n`);
    return 1;
  }
}

export function queryCommand(): Command {
  return new Command("query")
    .description("run read-only SQL (DuckDB dialect) against the local warehouse")
    .argument("<sql>", "one SELECT statement (also WITH, DESCRIBE, SHOW, SUMMARIZE)")
    .option("--json", "print one JSON array of row objects on stdout, nothing else")
    .addOption(
      new Option("--warehouse <warehouse>", "duckdb: the local DuckDB warehouse (DuckDB SQL); bigquery: the BigQuery emulator of --engine beam (GoogleSQL)")
        .choices(["duckdb", "bigquery"])
        .default("duckdb"),
    )
    .action(async (sql: string, opts: { json?: boolean; warehouse?: "duckdb" | "bigquery" }) => {
      process.exitCode = await runQuery(sql, opts);
    });
}

export default queryCommand;

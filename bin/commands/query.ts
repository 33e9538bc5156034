/**
 * `npx tideline query [--json] "<SQL>"`: read-only SQL (DuckDB dialect) against the local warehouse,
 * through the running pipeline's operator API when `npm start` runs, else from the file read-only.
 * `--json` prints exactly one JSON array of row objects on stdout and nothing else.
 */
import { Command } from "commander";
import { queryWarehouse } from "../../pipeline/query-client.js";
import { QueryError, type QueryResult } from "../../warehouse/duckdb/query.js";

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

export async function runQuery(sql: string, opts: { json?: boolean }, out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): Promise<number> {
  try {
    const r = await queryWarehouse(sql);
    out.write(opts.json ? JSON.stringify(r.rows) + "\n" : formatTable(r) + "\n");
    return 0;
  } catch (e) {
    const message = e instanceof QueryError ? e.message : `query failed: ${(e as Error).message}`;
    err.write(`tideline query: ${message}\n`);
    return e instanceof QueryError && e.code === "unavailable" ? 3 : 1;
  }
}

export function queryCommand(): Command {
  return new Command("query")
    .description("run read-only SQL (DuckDB dialect) against the local warehouse")
    .argument("<sql>", "one SELECT statement (also WITH, DESCRIBE, SHOW, SUMMARIZE)")
    .option("--json", "print one JSON array of row objects on stdout, nothing else")
    .action(async (sql: string, opts: { json?: boolean }) => {
      process.exitCode = await runQuery(sql, opts);
    });
}

export default queryCommand;

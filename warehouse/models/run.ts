/**
 * Runs the compiled Dataform graph in dependency order on an Executor (DuckDB locally, BigQuery in
 * production): tables are replaced, incremental models rebuild only the date partitions the pipeline
 * touched since the last successful run (ops.partitions_touched, plus the creation dates of orders
 * changed since then), and every assertion must return no rows.
 */
import { compileProject, type CompiledGraph, type Dialect, type Target } from "./compile.js";
import type { Executor } from "./executor.js";
import { assertionCountSql, plan, quoteTarget, select, tableStatements, toDuckDbSql, type Action } from "./graph.js";

/** An assertion's query as the user can paste it (`npx tideline query` speaks DuckDB). */
const inspectSql = (q: string, dialect: Dialect) => (dialect === "duckdb" ? toDuckDbSql(q) : q).trim().replace(/\s+/g, " ");

export interface RunOptions {
  fullRefresh?: boolean;
  select?: string;
  /** Progress lines (default: none). */
  log?: (line: string) => void;
  /** A graph compiled already for the executor's dialect (saves the ~1-2 s compile). */
  graph?: CompiledGraph;
  /** BigQuery: project id to compile for (default: workflow_settings.yaml) and dataset location. */
  project?: string;
  location?: string;
  /** Clock for the run record (tests). */
  now?: () => Date;
}

export interface ModelResult {
  name: string;
  kind: "table" | "incremental" | "view" | "assertion";
  mode: "create" | "incremental" | "skipped" | "check";
  seconds: number;
  rows: number | null;
}

export interface RunResult {
  results: ModelResult[];
  /** Assertions tagged "warn" that found rows (reported, not failing the run). */
  warnings: { assertion: string; rows: number }[];
  /** Partition dates the pipeline touched since the last run, and those widened by a day either side. */
  touchedDates: string[];
  rebuildDates: string[];
  fullRefresh: boolean;
  seconds: number;
}

export class ModelRunError extends Error {
  override name = "ModelRunError";
  constructor(
    message: string,
    readonly model: string,
    readonly assertion?: string,
  ) {
    super(message);
  }
}

/** Assertions with this tag report violations without failing the run (e.g. references that replication lag can break for a while). */
export const WARN_TAG = "warn";

/** Tables the pipeline loads; their touched partitions drive incremental rebuilds. */
const SOURCE_TABLES = ["raw.events", "raw.webhooks", "raw.cdc_changes"];

function opsName(dialect: Dialect, database: string | undefined, table: string): string {
  return dialect === "bigquery" ? `\`${database}.ops.${table}\`` : `ops.${table}`;
}

const sqlString = (s: string) => `'${s.replace(/'/g, "''")}'`;
const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));

export async function runModels(exec: Executor, opts: RunOptions = {}): Promise<RunResult> {
  const log = opts.log ?? (() => {});
  const dialect = exec.dialect;
  const started = performance.now();
  const graph = opts.graph ?? (await compileProject(dialect, { defaultDatabase: opts.project }));
  const db = graph.projectConfig.defaultDatabase;
  const runs = opsName(dialect, db, "model_runs");
  const rebuildTable = opsName(dialect, db, "model_rebuild_dates");
  const actions = select(plan(graph), opts.select);
  const ts = dialect === "bigquery" ? "TIMESTAMP" : "TIMESTAMPTZ";

  if (dialect === "duckdb") await exec.run("CREATE SCHEMA IF NOT EXISTS ops");
  await exec.run(
    `CREATE TABLE IF NOT EXISTS ${runs} (run_id ${dialect === "bigquery" ? "STRING" : "VARCHAR"}, started_at ${ts}, finished_at ${ts}, full_refresh ${dialect === "bigquery" ? "BOOL" : "BOOLEAN"}, loaded_through ${ts}, status ${dialect === "bigquery" ? "STRING" : "VARCHAR"})`,
  );

  const existing = new Set(
    (
      await exec.query(
        dialect === "bigquery"
          ? `SELECT CONCAT(table_schema, '.', table_name) AS t FROM \`${db}.region-${(opts.location ?? "US").toLowerCase()}.INFORMATION_SCHEMA.TABLES\``
          : "SELECT table_schema || '.' || table_name AS t FROM information_schema.tables",
      )
    ).map((r) => String(r.t)),
  );
  const missing = (graph.declarations ?? []).map((d) => `${d.target.schema}.${d.target.name}`).filter((t) => t !== "ops.model_rebuild_dates" && !existing.has(t));
  if (missing.length > 0) {
    throw new Error(
      `the warehouse has no ${missing.join(", ")}; the pipeline creates these tables: start the platform once (npm start) and send data, or load a workload with \`npx tideline generate --rows\``,
    );
  }

  // Everything loaded up to now is covered by this run; rows landing while it runs have a later
  // last_loaded_at and are picked up by the next run.
  const [through] = await exec.query(
    `SELECT CAST(GREATEST(COALESCE((SELECT MAX(last_loaded_at) FROM ${opsName(dialect, db, "partitions_touched")}), CAST('1970-01-01' AS ${ts})), COALESCE((SELECT MAX(_updated_at) FROM ${dialect === "bigquery" ? `\`${db}.core.orders\`` : "core.orders"}), CAST('1970-01-01' AS ${ts}))) AS ${dialect === "bigquery" ? "STRING" : "VARCHAR"}) AS loaded_through`,
  );
  const loadedThrough = String(through?.loaded_through);
  const [last] = await exec.query(`SELECT CAST(MAX(loaded_through) AS ${dialect === "bigquery" ? "STRING" : "VARCHAR"}) AS t FROM ${runs} WHERE status = 'success'`);
  const since = last?.t ? String(last.t) : null;
  const fullRefresh = !!opts.fullRefresh || since === null;

  let rebuildDates: string[] = [];
  let touchedDates: string[] = [];
  /** Rebuild dates and a day either side: what the rebuild days' sessions may read. */
  let inputDates: string[] = [];
  if (!fullRefresh) {
    const touched = await exec.query(
      `SELECT DISTINCT CAST(d AS ${dialect === "bigquery" ? "STRING" : "VARCHAR"}) AS d FROM (
         SELECT event_date AS d FROM ${opsName(dialect, db, "partitions_touched")} WHERE table_name IN (${SOURCE_TABLES.map(sqlString).join(", ")}) AND last_loaded_at > CAST(${sqlString(since)} AS ${ts})
         UNION ALL
         SELECT CAST(created_at AS DATE) AS d FROM ${dialect === "bigquery" ? `\`${db}.core.orders\`` : "core.orders"} WHERE _updated_at > CAST(${sqlString(since)} AS ${ts}) AND created_at IS NOT NULL
       ) AS t ORDER BY 1`,
    );
    // Sessions cross midnight: a change on day D can end or extend sessions of D-1 and D+1.
    touchedDates = touched.map((r) => String(r.d));
    const around = (k: number) => {
      const days = new Set<string>();
      for (const t of touchedDates) {
        const d = new Date(`${t}T00:00:00Z`).getTime();
        for (let off = -k; off <= k; off++) days.add(new Date(d + off * 86_400_000).toISOString().slice(0, 10));
      }
      return [...days].sort();
    };
    rebuildDates = around(1);
    inputDates = around(2);
  }
  const bool = dialect === "bigquery" ? "BOOL" : "BOOLEAN";
  await exec.run(`CREATE OR REPLACE TABLE ${rebuildTable} (partition_date DATE, touched ${bool}, rebuild ${bool})`);
  if (inputDates.length > 0) {
    await exec.run(
      `INSERT INTO ${rebuildTable} (partition_date, touched, rebuild) VALUES ${inputDates.map((d) => `(DATE ${sqlString(d)}, ${touchedDates.includes(d)}, ${rebuildDates.includes(d)})`).join(", ")}`,
    );
  }

  log(`models: ${actions.filter((a) => a.kind === "table").length} models, ${actions.filter((a) => a.kind === "assertion").length} assertions, ${fullRefresh ? "full refresh" : `incremental (${rebuildDates.length} partition dates: ${summarizeDates(rebuildDates)})`}`);
  const results: ModelResult[] = [];
  const warnings: { assertion: string; rows: number }[] = [];
  const builtIncrementally = new Map<string, { target: Target; partitionBy: string }>();
  const width = String(actions.length).length;
  let i = 0;
  for (const a of actions) {
    i++;
    const t0 = performance.now();
    const prefix = `[${String(i).padStart(width)}/${actions.length}]`;
    if (a.kind === "table") {
      const incremental = a.table.type === "incremental" && !fullRefresh && existing.has(a.name);
      const mode = incremental ? (rebuildDates.length === 0 ? "skipped" : "incremental") : "create";
      try {
        if (mode !== "skipped") for (const s of tableStatements(a.table, dialect, mode === "incremental" ? "incremental" : "create", rebuildTable)) await exec.run(s);
      } catch (e) {
        log(`${prefix} FAIL ${a.name}: ${(e as Error).message}`);
        const hint = opts.select ? " (--select builds only the chosen models: build their upstream models first, e.g. a run without --select)" : "";
        throw new ModelRunError(`model ${a.name} (${a.table.fileName}) failed: ${(e as Error).message}${hint}`, a.name);
      }
      if (mode === "incremental" && a.table.bigquery?.partitionBy) builtIncrementally.set(a.name, { target: a.table.target, partitionBy: a.table.bigquery.partitionBy });
      const [c] = await exec.query(`SELECT COUNT(*) AS n FROM ${quoteTarget(a.table.target, dialect, db)}`);
      const r: ModelResult = { name: a.name, kind: a.table.type, mode, seconds: (performance.now() - t0) / 1000, rows: num(c?.n) };
      results.push(r);
      log(`${prefix} ${a.name.padEnd(40)} ${mode.padEnd(11)} ${r.seconds.toFixed(2).padStart(7)} s ${String(r.rows).padStart(11)} rows`);
    } else {
      let failing: number;
      try {
        const [c] = await exec.query(assertionCountSql(a.assertion, dialect, a.parent ? builtIncrementally.get(a.parent) : undefined));
        failing = num(c?.failing_rows) ?? 0;
      } catch (e) {
        throw new ModelRunError(`assertion ${a.name} on ${a.parent ?? "?"} could not run: ${(e as Error).message}`, a.parent ?? a.name, a.name);
      }
      const r: ModelResult = { name: a.name, kind: "assertion", mode: "check", seconds: (performance.now() - t0) / 1000, rows: failing };
      results.push(r);
      if (failing > 0 && a.tags.includes(WARN_TAG)) {
        warnings.push({ assertion: a.name, rows: failing });
        log(`${prefix} WARN ${a.name}: ${failing} row(s) violate it (tagged ${WARN_TAG}: reported, not failing the run). Inspect with: SELECT * FROM (${inspectSql(a.assertion.query, dialect)})`);
        continue;
      }
      if (failing > 0) {
        log(`${prefix} FAIL ${a.name}: ${failing} failing row(s)`);
        await recordRun(exec, runs, opts, loadedThrough, fullRefresh, "failed", ts);
        throw new ModelRunError(
          `assertion ${a.name} failed${a.parent ? ` on model ${a.parent}` : ""}: ${failing} row(s) violate it. Inspect with: SELECT * FROM (${inspectSql(a.assertion.query, dialect)})`,
          a.parent ?? a.name,
          a.name,
        );
      }
      log(`${prefix} ${a.name.padEnd(40)} ${"ok".padEnd(11)} ${r.seconds.toFixed(2).padStart(7)} s`);
    }
  }
  // Leave the file checkpointed: otherwise the next run (or the pipeline's next commit) pays for
  // writing this run's tables out of the WAL. Best effort: DuckDB skips it while other
  // transactions are open (e.g. the pipeline mid-commit), and the auto-checkpoint catches up later.
  if (dialect === "duckdb") await exec.run("CHECKPOINT").catch(() => undefined);
  // A --select run leaves other incremental models behind, so it does not move the watermark.
  await recordRun(exec, runs, opts, loadedThrough, fullRefresh, opts.select ? "partial" : "success", ts);
  return { results, warnings, touchedDates, rebuildDates, fullRefresh, seconds: (performance.now() - started) / 1000 };
}

async function recordRun(exec: Executor, runs: string, opts: RunOptions, loadedThrough: string, fullRefresh: boolean, status: string, ts: string) {
  const now = (opts.now?.() ?? new Date()).toISOString();
  await exec.run(
    `INSERT INTO ${runs} (run_id, started_at, finished_at, full_refresh, loaded_through, status) VALUES (${sqlString(`run-${now}`)}, CAST(${sqlString(now)} AS ${ts}), CAST(${sqlString(now)} AS ${ts}), ${fullRefresh}, CAST(${sqlString(loadedThrough)} AS ${ts}), ${sqlString(status)})`,
  );
}

function summarizeDates(ds: string[]): string {
  if (ds.length === 0) return "none";
  return ds.length <= 4 ? ds.join(", ") : `${ds[0]} … ${ds[ds.length - 1]}`;
}

export type { Action };

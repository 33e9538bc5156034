/**
 * Runs the compiled Dataform graph in dependency order on an Executor (DuckDB locally, BigQuery in
 * production). A run first reads what the pipeline loaded since the last successful run
 * (ops.partitions_touched), turns it into run parameters (params.ts), then sends the statements
 * `runSteps` lists: datasets, the exchange rates, each model (tables replaced, incremental models
 * rebuilding only what the new loads can change) followed by its assertions, each of which must
 * return no rows.
 */
import { createHash } from "node:crypto";
import { compileProject, type CompiledGraph, type CompiledTable, type Dialect, type Target } from "./compile.js";
import type { Executor } from "./executor.js";
import { assertionCountSql, plan, quoteTarget, rebuildFilter, select, tableStatements, toDuckDbSql, type Action } from "./graph.js";
import { bindParams, runParams, type RunParams } from "./params.js";
import { exchangeRateStatements, exchangeRatesPath, loadExchangeRates, ratesDigest, type ExchangeRate } from "./seeds.js";

/** An assertion's query as the user can paste it (`npx tideline query` speaks DuckDB). */
const inspectSql = (q: string, dialect: Dialect, params: RunParams) => bindParams(dialect === "duckdb" ? toDuckDbSql(q) : q, dialect, params).trim().replace(/\s+/g, " ");

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
  /** The exchange-rates CSV (default: TIDELINE_EXCHANGE_RATES, else warehouse/dataform/seeds/exchange_rates.csv). */
  exchangeRates?: string;
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
  /** UTC partition dates of raw.events, raw.cdc_changes and raw.webhooks loaded since the last run. */
  touchedDates: string[];
  /** Run parameters bound into the models (what the incremental models rebuilt). */
  params: RunParams;
  fullRefresh: boolean;
  /** Why the run is a full refresh, when it is one. */
  fullRefreshReason: string | null;
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

const EPOCH = "1970-01-01 00:00:00+00";
const sqlString = (s: string) => `'${s.replace(/'/g, "''")}'`;
const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));

export interface RunContext {
  dialect: Dialect;
  /** BigQuery project of the compiled graph. */
  database?: string;
  location: string;
  params: RunParams;
  fullRefresh: boolean;
  /** Tables that exist already (schema.name); an incremental model that does not exist is created. */
  existing: Set<string>;
  /** Nothing was loaded since the last run: incremental models have nothing to rebuild. */
  nothingNew: boolean;
  rates: ExchangeRate[];
}

export type Step =
  | { kind: "setup"; sql: string }
  | { kind: "model"; action: Extract<Action, { kind: "table" }>; mode: "create" | "incremental" | "skipped"; statements: string[]; countSql: string; scope: { target: Target; filter: string } | null }
  | { kind: "assertion"; action: Extract<Action, { kind: "assertion" }>; sql: string };

/** Datasets the models write (BigQuery needs each created before first use; DuckDB schemas are created per model). */
function datasets(actions: Action[]): string[] {
  const out = new Set(["ops", "reference"]);
  for (const a of actions) if (a.kind === "table") out.add(a.table.target.schema);
  return [...out].sort();
}

/**
 * Everything a run sends after its initial reads, in order: one step per setup statement, model and
 * assertion. The BigQuery statements of a run are `runSteps(...)`'s SQL, so they can be replayed
 * against an emulator or reviewed as they are.
 */
export function runSteps(actions: Action[], ctx: RunContext): Step[] {
  const { dialect, database } = ctx;
  const steps: Step[] = [];
  if (dialect === "bigquery") {
    for (const ds of datasets(actions)) steps.push({ kind: "setup", sql: `CREATE SCHEMA IF NOT EXISTS \`${database}.${ds}\` OPTIONS(location = ${sqlString(ctx.location)})` });
  }
  for (const sql of exchangeRateStatements(ctx.rates, dialect, database)) steps.push({ kind: "setup", sql });
  const scopes = new Map<string, { target: Target; filter: string }>();
  for (const a of actions) {
    if (a.kind === "table") {
      const t = a.table;
      const incremental = t.type === "incremental" && !ctx.fullRefresh && ctx.existing.has(a.name);
      const mode = incremental ? (ctx.nothingNew ? "skipped" : "incremental") : "create";
      const statements = mode === "skipped" ? [] : tableStatements(t, dialect, mode, ctx.params, database);
      const scope = incremental ? { target: t.target, filter: rebuildFilter(t, dialect, ctx.params) } : null;
      if (scope) scopes.set(a.name, scope);
      steps.push({ kind: "model", action: a, mode, statements, countSql: `SELECT COUNT(*) AS n FROM ${quoteTarget(t.target, dialect, database)}`, scope });
    } else {
      const scope = a.parent ? scopes.get(a.parent) : undefined;
      steps.push({ kind: "assertion", action: a, sql: assertionCountSql(a.assertion, dialect, ctx.params, scope, database) });
    }
  }
  return steps;
}

/** What decides whether stored incremental tables are still valid: the models' SQL, their settings and the exchange rates. */
export function configDigest(graph: CompiledGraph, rates: ExchangeRate[]): string {
  const h = createHash("sha256");
  const tables = [...(graph.tables ?? [])].sort((a, b) => `${a.target.schema}.${a.target.name}`.localeCompare(`${b.target.schema}.${b.target.name}`));
  for (const t of tables as CompiledTable[]) h.update(JSON.stringify([t.target, t.type, t.query, t.incrementalQuery ?? null, t.uniqueKey ?? null, t.bigquery ?? null]));
  h.update(JSON.stringify(graph.projectConfig.vars ?? {}));
  h.update(ratesDigest(rates));
  return h.digest("hex").slice(0, 16);
}

export async function runModels(exec: Executor, opts: RunOptions = {}): Promise<RunResult> {
  const log = opts.log ?? (() => {});
  const dialect = exec.dialect;
  const started = performance.now();
  // The rates file is the user's to edit: read it first, so a mistake in it is reported at once.
  const rates = loadExchangeRates(exchangeRatesPath(opts.exchangeRates));
  const graph = opts.graph ?? (await compileProject(dialect, { defaultDatabase: opts.project }));
  const db = graph.projectConfig.defaultDatabase;
  const location = opts.location ?? "US";
  const name = (schema: string, table: string) => (dialect === "bigquery" ? `\`${db}.${schema}.${table}\`` : `${schema}.${table}`);
  const runs = name("ops", "model_runs");
  const actions = select(plan(graph), opts.select);
  const types = dialect === "bigquery" ? { ts: "TIMESTAMP", str: "STRING", bool: "BOOL" } : { ts: "TIMESTAMPTZ", str: "VARCHAR", bool: "BOOLEAN" };
  const digest = configDigest(graph, rates);

  if (dialect === "duckdb") await exec.run("CREATE SCHEMA IF NOT EXISTS ops");
  else await exec.run(`CREATE SCHEMA IF NOT EXISTS \`${db}.ops\` OPTIONS(location = ${sqlString(location)})`);
  await exec.run(
    `CREATE TABLE IF NOT EXISTS ${runs} (run_id ${types.str}, started_at ${types.ts}, finished_at ${types.ts}, full_refresh ${types.bool}, loaded_through ${types.ts}, status ${types.str}, config_digest ${types.str})`,
  );
  await exec.run(`ALTER TABLE ${runs} ADD COLUMN IF NOT EXISTS config_digest ${types.str}`);

  const existing = new Set(
    (
      await exec.query(
        dialect === "bigquery"
          ? `SELECT CONCAT(table_schema, '.', table_name) AS t FROM \`${db}.region-${location.toLowerCase()}.INFORMATION_SCHEMA.TABLES\``
          : "SELECT table_schema || '.' || table_name AS t FROM information_schema.tables",
      )
    ).map((r) => String(r.t)),
  );
  const missing = (graph.declarations ?? []).map((d) => `${d.target.schema}.${d.target.name}`).filter((t) => t !== "reference.exchange_rates" && !existing.has(t));
  if (missing.length > 0) {
    throw new Error(
      `the warehouse has no ${missing.join(", ")}; the pipeline creates these tables: start the platform once (npm start) and send data, or load a workload with \`npx tideline generate --rows\``,
    );
  }

  // Everything loaded up to now is covered by this run; rows landing while it runs have a later
  // last_loaded_at and are picked up by the next run.
  const touchedTable = name("ops", "partitions_touched");
  const [through] = await exec.query(`SELECT CAST(COALESCE(MAX(last_loaded_at), CAST('${EPOCH}' AS ${types.ts})) AS ${types.str}) AS loaded_through FROM ${touchedTable}`);
  const loadedThrough = String(through?.loaded_through);
  const [last] = await exec.query(`SELECT CAST(loaded_through AS ${types.str}) AS t, config_digest AS d FROM ${runs} WHERE status = 'success' ORDER BY finished_at DESC, loaded_through DESC LIMIT 1`);
  const since = last?.t ? String(last.t) : null;
  let fullRefreshReason: string | null = opts.fullRefresh ? "--full-refresh" : since === null ? "first run" : null;
  if (!fullRefreshReason && last?.d !== digest) fullRefreshReason = "the models, their settings or the exchange rates changed since the last run";
  const fullRefresh = fullRefreshReason !== null;

  let eventsDates: string[] = [];
  let cdcDates: string[] = [];
  let webhookDates: string[] = [];
  if (!fullRefresh) {
    const touched = await exec.query(
      `SELECT table_name AS t, CAST(event_date AS ${types.str}) AS d FROM ${touchedTable}
       WHERE table_name IN ('raw.events', 'raw.cdc_changes', 'raw.webhooks') AND last_loaded_at > CAST(${sqlString(since!)} AS ${types.ts}) ORDER BY 1, 2`,
    );
    eventsDates = touched.filter((r) => r.t === "raw.events").map((r) => String(r.d));
    cdcDates = touched.filter((r) => r.t === "raw.cdc_changes").map((r) => String(r.d));
    webhookDates = touched.filter((r) => r.t === "raw.webhooks").map((r) => String(r.d));
  }
  const params = runParams({ fullRefresh, since: since ?? EPOCH, loadedThrough, eventsDates, cdcDates, webhookDates });
  const nothingNew = !fullRefresh && loadedThrough === since;
  const touchedDates = [...new Set([...eventsDates, ...cdcDates, ...webhookDates])].sort();
  const steps = runSteps(actions, { dialect, database: db, location, params, fullRefresh, existing, nothingNew, rates });

  const modelCount = actions.filter((a) => a.kind === "table").length;
  log(
    `models: ${modelCount} models, ${actions.length - modelCount} assertions, ${fullRefresh ? `full refresh (${fullRefreshReason})` : nothingNew ? "incremental (nothing loaded since the last run)" : `incremental (loads since ${since}; touched partitions: ${summarizeDates(touchedDates)})`}`,
  );
  const results: ModelResult[] = [];
  const warnings: { assertion: string; rows: number }[] = [];
  const width = String(actions.length).length;
  let i = 0;
  for (const step of steps) {
    if (step.kind === "setup") {
      await exec.run(step.sql);
      continue;
    }
    i++;
    const t0 = performance.now();
    const prefix = `[${String(i).padStart(width)}/${actions.length}]`;
    if (step.kind === "model") {
      const a = step.action;
      try {
        await runAtomically(exec, step.statements);
      } catch (e) {
        log(`${prefix} FAIL ${a.name}: ${(e as Error).message}`);
        const hint = opts.select ? " (--select builds only the chosen models: build their upstream models first, e.g. a run without --select)" : "";
        throw new ModelRunError(`model ${a.name} (${a.table.fileName}) failed: ${(e as Error).message}${hint}`, a.name);
      }
      // A view's rows would be counted by running its query; its inputs were counted already.
      const [c] = a.table.type === "view" ? [undefined] : await exec.query(step.countSql);
      const r: ModelResult = { name: a.name, kind: a.table.type, mode: step.mode, seconds: (performance.now() - t0) / 1000, rows: num(c?.n) };
      results.push(r);
      log(`${prefix} ${a.name.padEnd(40)} ${step.mode.padEnd(11)} ${r.seconds.toFixed(2).padStart(7)} s ${String(r.rows).padStart(11)} rows`);
    } else {
      const a = step.action;
      let failing: number;
      try {
        const [c] = await exec.query(step.sql);
        failing = num(c?.failing_rows) ?? 0;
      } catch (e) {
        throw new ModelRunError(`assertion ${a.name} on ${a.parent ?? "?"} could not run: ${(e as Error).message}`, a.parent ?? a.name, a.name);
      }
      const r: ModelResult = { name: a.name, kind: "assertion", mode: "check", seconds: (performance.now() - t0) / 1000, rows: failing };
      results.push(r);
      if (failing > 0 && a.tags.includes(WARN_TAG)) {
        warnings.push({ assertion: a.name, rows: failing });
        log(`${prefix} WARN ${a.name}: ${failing} row(s) violate it (tagged ${WARN_TAG}: reported, not failing the run). Inspect with: SELECT * FROM (${inspectSql(a.assertion.query, dialect, params)})`);
        continue;
      }
      if (failing > 0) {
        log(`${prefix} FAIL ${a.name}: ${failing} failing row(s)`);
        await recordRun(exec, runs, opts, loadedThrough, fullRefresh, "failed", types.ts, digest);
        throw new ModelRunError(
          `assertion ${a.name} failed${a.parent ? ` on model ${a.parent}` : ""}: ${failing} row(s) violate it. Inspect with: SELECT * FROM (${inspectSql(a.assertion.query, dialect, params)})`,
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
  await recordRun(exec, runs, opts, loadedThrough, fullRefresh, opts.select ? "partial" : "success", types.ts, digest);
  return { results, warnings, touchedDates, params, fullRefresh, fullRefreshReason, seconds: (performance.now() - started) / 1000 };
}

/**
 * A model's statements as one unit: BigQuery builds each model in one statement (CREATE OR REPLACE
 * or MERGE); on DuckDB the statements run in one transaction, so a reader never sees a model half
 * rebuilt and a failure leaves the previous version in place.
 */
async function runAtomically(exec: Executor, statements: string[]): Promise<void> {
  if (exec.dialect === "bigquery" || statements.length <= 1) {
    for (const s of statements) await exec.run(s);
    return;
  }
  await exec.run("BEGIN TRANSACTION");
  try {
    for (const s of statements) await exec.run(s);
    await exec.run("COMMIT");
  } catch (e) {
    await exec.run("ROLLBACK").catch(() => undefined);
    throw e;
  }
}

async function recordRun(exec: Executor, runs: string, opts: RunOptions, loadedThrough: string, fullRefresh: boolean, status: string, ts: string, digest: string) {
  const now = (opts.now?.() ?? new Date()).toISOString();
  await exec.run(
    `INSERT INTO ${runs} (run_id, started_at, finished_at, full_refresh, loaded_through, status, config_digest) VALUES (${sqlString(`run-${now}`)}, CAST(${sqlString(now)} AS ${ts}), CAST(${sqlString(now)} AS ${ts}), ${fullRefresh}, CAST(${sqlString(loadedThrough)} AS ${ts}), ${sqlString(status)}, ${sqlString(digest)})`,
  );
}

function summarizeDates(ds: string[]): string {
  if (ds.length === 0) return "none";
  return ds.length <= 4 ? ds.join(", ") : `${ds[0]} … ${ds[ds.length - 1]}`;
}

export type { Action };

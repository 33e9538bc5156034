/**
 * `npx tideline models run [--full-refresh] [--select <tag or model>]`: compiles the Dataform project
 * (warehouse/dataform) and runs it in dependency order — on the local DuckDB warehouse by default
 * (through the running platform's operator API when `npm start` holds the file), or on BigQuery with
 * `--target bigquery`. Prints per-model time and rows; exits non-zero naming the failing model and assertion.
 */
import { Command } from "commander";
import { ndjsonMessages } from "./ndjson.js";
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { dashboardPort } from "../../pipeline/operator-api.js";
import { warehousePath } from "../../warehouse/duckdb/sink.js";
import { bigQueryExecutor, openDuckDbFile, type Executor } from "../../warehouse/models/executor.js";
import { CompileError } from "../../warehouse/models/compile.js";
import { SeedError } from "../../warehouse/models/seeds.js";
import { ModelRunError, runModels, type RunResult } from "../../warehouse/models/run.js";
import type { ModelsRunMessage } from "../../warehouse/models/service.js";

const API_HEADERS_TIMEOUT_MS = 15_000;

interface RunOpts {
  fullRefresh?: boolean;
  select?: string;
  exchangeRates?: string;
  target: "duckdb" | "bigquery";
  warehouse?: string;
  project?: string;
  location: string;
}

/** Runs inside the process holding the warehouse; null when no operator API offers /api/models/run. */
async function viaOperatorApi(body: object, log: (l: string) => void): Promise<RunResult | null> {
  let res: Response;
  // Only the wait for the response headers is bounded: the run itself may take minutes.
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), API_HEADERS_TIMEOUT_MS);
  try {
    res = await fetch(`http://127.0.0.1:${dashboardPort()}/api/models/run`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body), signal: abort.signal });
  } catch {
    return null;
  } finally {
    clearTimeout(timer);
  }
  if (res.status === 404 || !(res.headers.get("content-type") ?? "").includes("ndjson")) return null;
  for await (const m of ndjsonMessages<ModelsRunMessage>(res)) {
    if ("line" in m) log(m.line);
    else if ("done" in m) return m.result;
    else throw new ModelRunError(m.error.message, m.error.model ?? "?", m.error.assertion);
  }
  throw new Error("the operator API closed the models run without a result; see the `npm start` output");
}

function summary(r: RunResult): string {
  const models = r.results.filter((x) => x.kind !== "assertion");
  const checks = r.results.length - models.length;
  const warned = r.warnings?.length ?? 0;
  return `models: done in ${r.seconds.toFixed(2)} s — ${models.length} models (${models.filter((m) => m.mode === "skipped").length} unchanged), ${checks - warned} assertions passed${warned ? `, ${warned} warning(s): ${r.warnings.map((w) => w.assertion).join(", ")}` : ""}`;
}

export async function runModelsCommand(o: RunOpts, out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): Promise<number> {
  const log = (l: string) => out.write(l + "\n");
  try {
    let result: RunResult | null = null;
    const exchangeRates = o.exchangeRates ? resolve(o.exchangeRates) : undefined;
    if (o.target === "duckdb" && !o.warehouse) result = await viaOperatorApi({ fullRefresh: !!o.fullRefresh, select: o.select, exchangeRates }, log);
    if (!result) {
      let exec: Executor;
      if (o.target === "bigquery") {
        const { BigQuery } = await import("@google-cloud/bigquery");
        const client = new BigQuery(o.project ? { projectId: o.project } : {});
        exec = bigQueryExecutor(client as unknown as Parameters<typeof bigQueryExecutor>[0], o.location);
      } else {
        const path = o.warehouse ?? warehousePath();
        if (!existsSync(path)) throw new Error(`no warehouse at ${path}; start the platform (npm start) and send data, or load a workload with \`npx tideline generate --rows\``);
        exec = await openDuckDbFile(path);
      }
      try {
        result = await runModels(exec, { fullRefresh: o.fullRefresh, select: o.select, exchangeRates, log, project: o.project, location: o.location });
      } finally {
        await exec.close?.();
      }
    }
    log(summary(result));
    return 0;
  } catch (e) {
    if (e instanceof ModelRunError) err.write(`tideline models: ${e.message}\n  failing model: ${e.model}${e.assertion ? `\n  failing assertion: ${e.assertion}` : ""}\n`);
    else if (e instanceof CompileError || e instanceof SeedError) err.write(`tideline models: ${e.message}\n`);
    else err.write(`tideline models: ${(e as Error).message}\n`);
    return 1;
  }
}

export function modelsCommand(): Command {
  const models = new Command("models").description("build the warehouse models (Dataform project in warehouse/dataform)");
  models
    .command("run")
    .description("compile the Dataform project and run it in dependency order (incremental unless --full-refresh)")
    .option("--full-refresh", "rebuild every incremental model from scratch")
    .option("--select <tag or model>", "run only models with this tag or name (comma-separated), with their assertions")
    .option("--exchange-rates <file>", "CSV of dated exchange rates (rate_date,currency,rate) to convert amounts with (default: TIDELINE_EXCHANGE_RATES, else warehouse/dataform/seeds/exchange_rates.csv)")
    .option("--target <duckdb|bigquery>", "where to run: the local DuckDB warehouse or BigQuery", "duckdb")
    .option("--warehouse <path>", "DuckDB file to open directly (default: .data/warehouse.duckdb, via the running platform when it holds it)")
    .option("--project <id>", "BigQuery project (default: from the environment's credentials)")
    .option("--location <location>", "BigQuery location", "US")
    .action(async (opts: RunOpts) => {
      if (opts.target !== "duckdb" && opts.target !== "bigquery") {
        process.stderr.write(`tideline models: --target must be duckdb or bigquery, not ${String(opts.target)}\n`);
        process.exitCode = 2;
        return;
      }
      process.exitCode = await runModelsCommand(opts);
    });
  return models;
}

export default modelsCommand;

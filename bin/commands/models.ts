/**
 * `npx tideline models run [--full-refresh] [--select <tag or model>]`: compiles the Dataform project
 * (warehouse/dataform) and runs it in dependency order — on the local DuckDB warehouse by default
 * (through the running platform's operator API when `npm start` holds the file), or on BigQuery with
 * `--target bigquery`. Prints per-model time and rows; exits non-zero naming the failing model and assertion.
 */
import { Command } from "commander";
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { operatorClient, OperatorApiError, OperatorApiUnavailable, type OperatorClient } from "../../platform/api/client.js";
import { warehousePath } from "../../warehouse/duckdb/sink.js";
import { bigQueryExecutor, openDuckDbFile, type Executor } from "../../warehouse/models/executor.js";
import { CompileError } from "../../warehouse/models/compile.js";
import { SeedError } from "../../warehouse/models/seeds.js";
import { ModelRunError, runModels, type RunResult } from "../../warehouse/models/run.js";
import { explain } from "./query.js";

interface RunOpts {
  fullRefresh?: boolean;
  select?: string;
  exchangeRates?: string;
  target: "duckdb" | "bigquery";
  warehouse?: string;
  project?: string;
  location: string;
}

/** Runs inside the process holding the warehouse; null when no operator API runs. */
async function viaOperatorApi(client: OperatorClient, o: RunOpts, log: (l: string) => void): Promise<RunResult | null> {
  try {
    return await client.runModels({ fullRefresh: !!o.fullRefresh, ...(o.select ? { select: o.select } : {}), ...(o.exchangeRates ? { exchangeRates: o.exchangeRates } : {}) }, log);
  } catch (e) {
    if (e instanceof OperatorApiUnavailable) return null;
    if (e instanceof OperatorApiError && e.details.model) throw new ModelRunError(e.message, e.details.model, e.details.assertion);
    throw e;
  }
}

function summary(r: RunResult): string {
  const models = r.results.filter((x) => x.kind !== "assertion");
  const checks = r.results.length - models.length;
  const warned = r.warnings?.length ?? 0;
  return `models: done in ${r.seconds.toFixed(2)} s — ${models.length} models (${models.filter((m) => m.mode === "skipped").length} unchanged), ${checks - warned} assertions passed${warned ? `, ${warned} warning(s): ${r.warnings.map((w) => w.assertion).join(", ")}` : ""}`;
}

export async function runModelsCommand(
  o: RunOpts,
  out: NodeJS.WritableStream = process.stdout,
  err: NodeJS.WritableStream = process.stderr,
  client?: OperatorClient,
): Promise<number> {
  const log = (l: string) => out.write(l + "\n");
  try {
    let result: RunResult | null = null;
    const exchangeRates = o.exchangeRates ? resolve(o.exchangeRates) : undefined;
    if (o.target === "duckdb" && !o.warehouse) result = await viaOperatorApi(client ?? operatorClient(), { ...o, ...(exchangeRates ? { exchangeRates } : {}) }, log);
    if (!result) {
      let exec: Executor;
      if (o.target === "bigquery") {
        // Only for --target bigquery: loading the client takes 0.3–0.5 s (measured), which every other
        // `tideline` command would pay at start if it were imported statically.
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
    else if (e instanceof OperatorApiError) err.write(`tideline models: ${explain(e)}\n`);
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

/**
 * `npx tideline dags list` and `npx tideline dags test <dag_id> [--date YYYY-MM-DD] [--conf JSON]`:
 * the Composer DAGs of dags/, run by Airflow from .venv/airflow (built by `infra/local/setup.sh
 * airflow`) in the local profile (TIDELINE_ENV=local) against the running local platform, with
 * SQLite metadata under .data/airflow (migrated on first use).
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { Command } from "commander";
import { DAG_IDS } from "../../contracts/schedule.js";
import { REPO_ROOT } from "../../infra/local/settings.js";
import { localSettings } from "../../platform/local/settings.js";

export const AIRFLOW_VENV = join(REPO_ROOT, ".venv/airflow");

export class DagsError extends Error {
  override name = "DagsError";
}

/** The environment of every Airflow command: local profile, this checkout's DAGs, the platform's ports. */
export function airflowEnv(base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const s = localSettings();
  const home = join(s.dataDir, "airflow");
  return {
    ...base,
    AIRFLOW_HOME: home,
    AIRFLOW__CORE__DAGS_FOLDER: join(REPO_ROOT, "dags"),
    AIRFLOW__CORE__LOAD_EXAMPLES: "False",
    AIRFLOW__DATABASE__SQL_ALCHEMY_CONN: `sqlite:///${join(home, "airflow.db")}`,
    // dags test runs the tasks in this process; the logs of each task go to the terminal.
    AIRFLOW__LOGGING__LOGGING_LEVEL: base.AIRFLOW__LOGGING__LOGGING_LEVEL ?? "INFO",
    AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT: "120",
    TIDELINE_ENV: "local",
    TIDELINE_ROOT: REPO_ROOT,
    TIDELINE_PROJECT: s.project,
    TIDELINE_DASHBOARD_PORT: String(s.dashboardPort),
    PUBSUB_EMULATOR_HOST: base.PUBSUB_EMULATOR_HOST ?? `127.0.0.1:${s.pubsubPort}`,
    STORAGE_EMULATOR_HOST: base.STORAGE_EMULATOR_HOST ?? `http://127.0.0.1:${s.gcsPort}`,
    NO_PROXY: "127.0.0.1,localhost",
    // `dags list` and `dags test` need no graph rendering.
    PYTHONWARNINGS: base.PYTHONWARNINGS ?? "ignore:Could not import graphviz",
  };
}

export function airflowBin(venv = AIRFLOW_VENV): string {
  const bin = join(venv, "bin/airflow");
  if (!existsSync(bin)) {
    throw new DagsError(`the Airflow environment (.venv/airflow) is missing: build it with \`bash infra/local/setup.sh airflow\` (a few minutes; Python 3.11)`);
  }
  return bin;
}

/** Runs an Airflow command; `quiet` keeps its output unless it fails. */
function run(args: string[], env: NodeJS.ProcessEnv, quiet = false): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(airflowBin(), args, { cwd: REPO_ROOT, env, stdio: quiet ? ["ignore", "pipe", "pipe"] : "inherit" });
    const kept: Buffer[] = [];
    child.stdout?.on("data", (b: Buffer) => kept.push(b));
    child.stderr?.on("data", (b: Buffer) => kept.push(b));
    child.once("error", reject);
    child.once("exit", (code, signal) => {
      const status = code ?? (signal ? 1 : 0);
      if (quiet && status !== 0) process.stderr.write(Buffer.concat(kept));
      resolve(status);
    });
  });
}

/** Creates or upgrades the SQLite metadata database (idempotent; quick when up to date). */
async function ensureDb(env: NodeJS.ProcessEnv): Promise<void> {
  mkdirSync(env.AIRFLOW_HOME!, { recursive: true });
  if (existsSync(join(env.AIRFLOW_HOME!, "airflow.db"))) return;
  process.stderr.write(`tideline dags: creating Airflow's metadata database in ${env.AIRFLOW_HOME} (once)…\n`);
  const code = await run(["db", "migrate"], env, true);
  if (code !== 0) throw new DagsError(`\`airflow db migrate\` failed (exit ${code}); remove ${env.AIRFLOW_HOME} and try again`);
}

export async function dagsList(): Promise<number> {
  const env = airflowEnv();
  await ensureDb(env);
  return run(["dags", "list", "--output", "table"], env);
}

export async function dagsTest(dagId: string, o: { date?: string; conf?: string }): Promise<number> {
  if (!(DAG_IDS as readonly string[]).includes(dagId)) throw new DagsError(`unknown DAG ${dagId}; the DAGs are ${DAG_IDS.join(", ")}`);
  const date = o.date ?? new Date().toISOString().slice(0, 10);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date) || Number.isNaN(Date.parse(date))) throw new DagsError(`--date ${date} is not a date (YYYY-MM-DD)`);
  if (o.conf !== undefined) {
    try {
      const conf: unknown = JSON.parse(o.conf);
      if (typeof conf !== "object" || conf === null || Array.isArray(conf)) throw new Error("not an object");
    } catch {
      throw new DagsError(`--conf must be a JSON object, e.g. '{"from": "2026-01-01", "to": "2026-01-31"}'`);
    }
  }
  const env = airflowEnv();
  await ensureDb(env);
  const code = await run(["dags", "test", dagId, date, ...(o.conf ? ["--conf", o.conf] : [])], env);
  return code;
}

export function dagsCommand(): Command {
  const dags = new Command("dags").description("the Composer DAGs (dags/), run by Airflow locally against the running platform");
  dags
    .command("list")
    .description("list the DAGs Airflow finds in dags/ (local profile)")
    .action(async () => {
      process.exitCode = await report(dagsList());
    });
  dags
    .command("test <dag_id>")
    .description("run one DAG once, its tasks in this process, against the running local platform (npm start)")
    .option("--date <YYYY-MM-DD>", "logical date of the run (default: today, UTC)")
    .option("--conf <json>", 'run configuration, e.g. \'{"from": "2026-01-01", "to": "2026-01-31"}\' for tideline_backfill')
    .action(async (dagId: string, o: { date?: string; conf?: string }) => {
      process.exitCode = await report(dagsTest(dagId, o));
    });
  return dags;
}

async function report(p: Promise<number>): Promise<number> {
  try {
    return await p;
  } catch (e) {
    process.stderr.write(`tideline dags: ${(e as Error).message}\n`);
    return e instanceof DagsError ? 2 : 1;
  }
}

export default dagsCommand;

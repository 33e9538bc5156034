import { describe, expect, it } from "vitest";
import { join } from "node:path";
import { REPO_ROOT } from "../../infra/local/settings.js";
import { DagsError, airflowBin, airflowEnv, dagsTest } from "./dags.js";

describe("tideline dags", () => {
  it("names the command that builds a missing Airflow environment", () => {
    expect(() => airflowBin(join(REPO_ROOT, ".data/scratch/no-such-venv"))).toThrow(DagsError);
    expect(() => airflowBin(join(REPO_ROOT, ".data/scratch/no-such-venv"))).toThrow(/\.venv\/airflow\) is missing: build it with `bash infra\/local\/setup\.sh airflow`/);
  });

  it("runs Airflow in the local profile with this checkout's DAGs, SQLite under the data folder and the platform's ports", () => {
    const set = { TIDELINE_DATA_DIR: "/tmp/tl-data", TIDELINE_DASHBOARD_PORT: "3999", TIDELINE_PUBSUB_PORT: "8999" };
    const saved = Object.fromEntries(Object.keys(set).map((k) => [k, process.env[k]]));
    Object.assign(process.env, set);
    let env: NodeJS.ProcessEnv;
    try {
      env = airflowEnv({ PATH: process.env.PATH });
    } finally {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
    expect(env).toMatchObject({
      TIDELINE_ENV: "local",
      TIDELINE_ROOT: REPO_ROOT,
      AIRFLOW_HOME: "/tmp/tl-data/airflow",
      AIRFLOW__CORE__DAGS_FOLDER: join(REPO_ROOT, "dags"),
      AIRFLOW__DATABASE__SQL_ALCHEMY_CONN: "sqlite:////tmp/tl-data/airflow/airflow.db",
      AIRFLOW__CORE__LOAD_EXAMPLES: "False",
      TIDELINE_DASHBOARD_PORT: "3999",
      PUBSUB_EMULATOR_HOST: "127.0.0.1:8999",
    });
  });

  it("rejects an unknown DAG, a bad date and a conf that is not a JSON object before starting Airflow", async () => {
    await expect(dagsTest("tideline_nope", {})).rejects.toThrow(/unknown DAG tideline_nope; the DAGs are tideline_models, tideline_landing/);
    await expect(dagsTest("tideline_models", { date: "yesterday" })).rejects.toThrow(/--date yesterday is not a date/);
    await expect(dagsTest("tideline_backfill", { conf: "[1]" })).rejects.toThrow(/--conf must be a JSON object/);
  });
});

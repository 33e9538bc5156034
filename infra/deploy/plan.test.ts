/** `npx tideline deploy --dry-run`: the plan in order, every missing input named, no network. */
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "../local/settings.js";
import { edgeEnvironment } from "./edge.js";
import { dagFiles, deployPlan } from "./plan.js";

// The secrets wrangler.toml requires (the same in both environments), at least these.
const SECRETS = (await edgeEnvironment("production")).secrets;
const ORG_VARIABLES = { TF_VAR_access_policy: "123456789", TF_VAR_analysts_group: "analysts@example.com", TF_VAR_ml_group: "ml@example.com" };

/** The shell environment without any secret or TF_VAR_ the developer may have exported. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !SECRETS.includes(k) && !k.startsWith("TF_VAR_")));
  return { ...env, NO_COLOR: "1", WRANGLER_SEND_METRICS: "false", ...extra };
}

const cli = (args: string[], env: NodeJS.ProcessEnv) =>
  promisify(execFile)(process.execPath, ["--import", join(REPO_ROOT, "test/support/no-network.mjs"), "--import", "tsx", "bin/tideline.ts", ...args], {
    cwd: REPO_ROOT,
    env,
    maxBuffer: 16 * 1024 * 1024,
  }).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
  );

describe("tideline deploy --dry-run", () => {
  it("knows the secrets wrangler.toml requires", () => {
    expect(SECRETS).toEqual(expect.arrayContaining(["WRITE_KEYS", "SHOPIFY_SECRET", "HUBSPOT_SECRET", "WEBHOOK_SECRETS", "CDC_TOKEN", "IP_HASH_KEY", "PII_HASH_KEY", "GCP_SA_KEY"]));
  });

  it("prints Worker, Terraform, pipeline and DAG steps in order, names each missing secret and variable, and contacts nothing", { timeout: 300_000 }, async () => {
    const r = await cli(["deploy", "--dry-run", "--env", "production"], cleanEnv());
    expect(r.stderr).not.toContain("NETWORK ATTEMPT");
    const out = r.stdout;
    const steps = ["1. Edge Worker tideline-edge ", "2. Terraform", "3. Pipeline", "4. DAG files to gs://tideline-prod-composer/dags/"].map((s) => out.indexOf(s));
    expect(steps.every((i) => i >= 0), out).toBe(true);
    expect([...steps].sort((a, b) => a - b)).toEqual(steps);
    expect(out).toMatch(/bundle: [\d.]+ KiB, [\d.]+ KiB gzip/);
    expect(out).toContain("binding INGEST_QUEUE: Queue producer tideline-ingest");
    expect(out).toContain("google_pubsub_topic.topic ×6: events, webhooks, cdc, dead-letters, landing-notifications, undeliverable");
    expect(out).toContain("europe-west1-docker.pkg.dev/tideline-prod/tideline/pipeline:latest");
    const missing = out.slice(out.indexOf("Missing ("));
    for (const s of SECRETS) expect(missing).toContain(`Worker secret ${s} for production`);
    for (const v of ["access_policy", "analysts_group", "ml_group"]) expect(missing).toContain(`Terraform variable ${v} is not set for production`);
    expect(missing).toContain("KV namespace DEDUP in [env.production] of wrangler.toml has no real id");
    expect(r.code).toBe(1);
  });

  it("with the secrets and the organisation's variables provided, only the KV namespace id is left", { timeout: 120_000 }, async () => {
    const env = cleanEnv({ ...ORG_VARIABLES, ...Object.fromEntries(SECRETS.map((s) => [s, "x"])) });
    const plan = await deployPlan("staging", { bundle: false, environ: env });
    expect(plan.missing).toEqual([expect.stringContaining("KV namespace DEDUP in [env.staging]")]);
    expect(plan.project).toBe("tideline-staging");
    expect(plan.pipeline.launch.body.launchParameter.parameters).toMatchObject({ source: "pubsub", bigquery_project: "tideline-staging" });
    expect(plan.terraform.resources.find((x) => x.address === "google_dataflow_flex_template_job.pipeline")?.instances).toEqual([]);
  });

  it("refuses anything but a dry run and an unknown environment", { timeout: 120_000 }, async () => {
    const real = await cli(["deploy", "--env", "staging"], cleanEnv());
    expect(real.code).toBe(2);
    expect(real.stderr).toContain("only --dry-run is supported");
    const bad = await cli(["deploy", "--dry-run", "--env", "prod"], cleanEnv());
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/Allowed choices are staging, production/);
  });

  it("uploads DAG code only: no tests, locks or caches", () => {
    const root = mkdtempSync(join(tmpdir(), "tideline-dags-"));
    try {
      const files = ["tideline_models.py", "schedule.json", ".airflowignore", "requirements.lock", "requirements.in", "composer-3-airflow-2.10.5-build.10.txt", "relock.sh", "pyproject.toml", "README.md", "tests/test_dagbag.py", "tideline_dags/__init__.py", "tideline_dags/spec.py", "tideline_dags/__pycache__/spec.cpython-311.pyc"];
      for (const f of files) {
        mkdirSync(dirname(join(root, "dags", f)), { recursive: true });
        writeFileSync(join(root, "dags", f), "");
      }
      expect(dagFiles(root)).toEqual([".airflowignore", "schedule.json", "tideline_dags/__init__.py", "tideline_dags/spec.py", "tideline_models.py"]);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

/**
 * The edge's deploy, offline: `wrangler deploy --dry-run --outdir` per environment (size against
 * Cloudflare's limit), every setting the Worker reads declared in staging and production, and the
 * generated Env types in step with wrangler.toml.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "../local/settings.js";
import { buildBundle, DEPLOY_ENVIRONMENTS, edgeEnvironment, settingsTheCodeReads, WORKER_GZIP_BUDGET_BYTES, WORKER_GZIP_LIMIT_BYTES } from "./edge.js";

const placeholder = (m: string) => /has no real id \(REPLACE_WITH_/.test(m);

describe("edge deploy", () => {
  it.each(DEPLOY_ENVIRONMENTS)("%s: the bundle wrangler would upload stays under half of Cloudflare's gzip limit", { timeout: 300_000 }, async (env) => {
    const b = await buildBundle(env);
    console.log(`[edge bundle ${env}] ${(b.bytes / 1024).toFixed(1)} KiB, ${(b.gzipBytes / 1024).toFixed(1)} KiB gzip; limit ${WORKER_GZIP_LIMIT_BYTES / 1024} KiB`);
    expect(b.bytes).toBeGreaterThan(10_000);
    expect(b.gzipBytes).toBeLessThan(WORKER_GZIP_BUDGET_BYTES);
  });

  it("knows what the Worker reads: its bindings, vars and secrets", () => {
    const reads = settingsTheCodeReads();
    expect(reads.map((r) => r.name)).toEqual(expect.arrayContaining(["INGEST_QUEUE", "DLQ_QUEUE", "DEDUP", "RATE_LIMITER", "WRITE_KEYS", "GCP_SA_KEY", "GCP_PROJECT", "RAW_BUCKET"]));
    // Optional only where edge/src says so (it has a default), never because wrangler types made it optional.
    expect(reads.find((r) => r.name === "CONSENT_CATEGORY")?.optional).toBe(true);
    expect(reads.find((r) => r.name === "INGEST_QUEUE")?.optional).toBe(false);
  });

  it.each(DEPLOY_ENVIRONMENTS)("%s declares every binding and secret the Worker reads, and no emulator", { timeout: 120_000 }, async (env) => {
    const e = await edgeEnvironment(env);
    // KV ids are the operator's to fill in (docs/deploy.md); anything else missing is a mistake in wrangler.toml.
    expect(e.missing.filter((m) => !placeholder(m))).toEqual([]);
    expect(e.secrets).toEqual(expect.arrayContaining(["WRITE_KEYS", "GCP_SA_KEY", "CDC_TOKEN"]));
    expect(Object.keys(e.vars)).not.toContain("PUBSUB_EMULATOR_HOST");
    expect(e.vars.ENVIRONMENT).toBe(env);
  });

  it("names a setting the code reads that an environment does not declare", async () => {
    const e = await edgeEnvironment("production", [...settingsTheCodeReads(), { name: "NEW_PARTNER_SECRET", optional: false }, { name: "PUBSUB_EMULATOR_HOST", optional: true }]);
    expect(e.missing).toContainEqual(expect.stringContaining("NEW_PARTNER_SECRET is read by the Worker and not declared in [env.production]"));
    expect(e.missing.filter((m) => !placeholder(m))).toHaveLength(1);
  });

  it("has Env types generated from the current wrangler.toml (wrangler types --check)", { timeout: 120_000 }, async () => {
    const r = await promisify(execFile)(
      process.execPath,
      ["node_modules/wrangler/bin/wrangler.js", "types", "edge/worker-configuration.d.ts", "--include-runtime=false", "--strict-vars=false", "--check"],
      { cwd: REPO_ROOT, env: { ...process.env, WRANGLER_SEND_METRICS: "false" } },
    ).then(
      () => 0,
      (e: { code: number; stderr: string; stdout: string }) => `${e.code}: ${e.stdout}${e.stderr}`,
    );
    expect(r, "edge/worker-configuration.d.ts is stale: run npx wrangler types edge/worker-configuration.d.ts --include-runtime=false --strict-vars=false").toBe(0);
  });
});

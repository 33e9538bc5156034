/**
 * The edge Worker's side of a deploy, offline: what the code reads from its environment (the
 * `EdgeEnv` type, so `wrangler types` and the hand-written additions both count), what each
 * wrangler.toml environment declares (bindings, vars, `secrets.required`, read with Wrangler's own
 * config reader), what is missing, and the bundle `wrangler deploy --dry-run` would upload.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { gzipSync } from "node:zlib";
import ts from "typescript";
import { REPO_ROOT } from "../local/settings.js";

export const DEPLOY_ENVIRONMENTS = ["staging", "production"] as const;
export type DeployEnvironment = (typeof DEPLOY_ENVIRONMENTS)[number];

/** Cloudflare's limit on a Worker's compressed size (Workers Free; Paid allows 10 MB). */
export const WORKER_GZIP_LIMIT_BYTES = 3 * 1024 * 1024;
/** Fail well before the limit: half of it is the budget. */
export const WORKER_GZIP_BUDGET_BYTES = WORKER_GZIP_LIMIT_BYTES / 2;

/**
 * Local development only: the emulator endpoints (in staging or production they would divert
 * traffic) and the local queue journal's database (read only by the entry `npm start` runs,
 * edge/src/local; Cloudflare Queues keep messages durably themselves).
 */
export const DEV_ONLY_SETTINGS = ["PUBSUB_EMULATOR_HOST", "STORAGE_EMULATOR_HOST", "LOCAL_JOURNAL"];

export interface Setting {
  name: string;
  /** Declared optional in edge/src (the code has a default), not only by `wrangler types`. */
  optional: boolean;
}

/** The properties of `EdgeEnv` (edge/src/config.ts): every binding, var and secret the Worker reads. */
export function settingsTheCodeReads(): Setting[] {
  const configFile = ts.readConfigFile(join(REPO_ROOT, "edge/tsconfig.json"), ts.sys.readFile);
  const parsed = ts.parseJsonConfigFileContent(configFile.config, ts.sys, join(REPO_ROOT, "edge"));
  const entry = join(REPO_ROOT, "edge/src/config.ts");
  const program = ts.createProgram([entry, join(REPO_ROOT, "edge/worker-configuration.d.ts")], { ...parsed.options, noEmit: true });
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(entry);
  const moduleSymbol = source && checker.getSymbolAtLocation(source);
  const edgeEnv = moduleSymbol && checker.getExportsOfModule(moduleSymbol).find((s) => s.name === "EdgeEnv");
  if (!edgeEnv) throw new Error("edge/src/config.ts no longer exports EdgeEnv: the deploy check cannot tell what the Worker reads");
  const generated = join(REPO_ROOT, "edge/worker-configuration.d.ts");
  return checker
    .getPropertiesOfType(checker.getDeclaredTypeOfSymbol(edgeEnv))
    .map((p) => ({
      name: p.name,
      optional: (p.flags & ts.SymbolFlags.Optional) !== 0 && (p.declarations ?? []).every((d) => d.getSourceFile().fileName !== generated),
    }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

export interface EdgeEnvironment {
  env: DeployEnvironment;
  workerName: string;
  bindings: { name: string; kind: string; resource: string }[];
  vars: Record<string, string>;
  secrets: string[];
  /** Each problem as a sentence naming the setting and what to do. */
  missing: string[];
}

interface WranglerConfig {
  name?: string;
  vars: Record<string, unknown>;
  secrets?: { required?: string[] };
  kv_namespaces: { binding: string; id?: string }[];
  queues: { producers?: { binding: string; queue: string }[] };
  ratelimits?: { name: string; namespace_id: string }[];
  r2_buckets: { binding: string; bucket_name?: string }[];
  d1_databases: { binding: string; database_id?: string }[];
  services?: { binding: string; service: string }[];
}

async function readWranglerConfig(env: DeployEnvironment): Promise<WranglerConfig> {
  const wrangler = await import("wrangler");
  return wrangler.unstable_readConfig({ config: join(REPO_ROOT, "wrangler.toml"), env }, { hideWarnings: true }) as unknown as WranglerConfig;
}

export async function edgeEnvironment(env: DeployEnvironment, reads = settingsTheCodeReads()): Promise<EdgeEnvironment> {
  const c = await readWranglerConfig(env);
  const bindings = [
    ...c.kv_namespaces.map((b) => ({ name: b.binding, kind: "KV namespace", resource: b.id ?? "" })),
    ...(c.queues.producers ?? []).map((b) => ({ name: b.binding, kind: "Queue producer", resource: b.queue })),
    ...(c.ratelimits ?? []).map((b) => ({ name: b.name, kind: "Rate limit", resource: `namespace ${b.namespace_id}` })),
    ...c.r2_buckets.map((b) => ({ name: b.binding, kind: "R2 bucket", resource: b.bucket_name ?? "" })),
    ...c.d1_databases.map((b) => ({ name: b.binding, kind: "D1 database", resource: b.database_id ?? "" })),
    ...(c.services ?? []).map((b) => ({ name: b.binding, kind: "Service", resource: b.service })),
  ];
  const vars = Object.fromEntries(Object.entries(c.vars).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]));
  const secrets = c.secrets?.required ?? [];
  const declared = new Set([...bindings.map((b) => b.name), ...Object.keys(vars), ...secrets]);
  const missing: string[] = [];
  const where = `[env.${env}] of wrangler.toml`;
  for (const { name, optional } of reads) {
    if (DEV_ONLY_SETTINGS.includes(name)) {
      if (declared.has(name)) missing.push(`${name} is set in ${where}: it points the Worker at a local emulator; remove it`);
    } else if (!declared.has(name) && !optional) {
      missing.push(`${name} is read by the Worker and not declared in ${where}: add it to vars, secrets.required or the bindings`);
    }
  }
  for (const b of bindings) {
    if (!b.resource || /^REPLACE_WITH/i.test(b.resource)) {
      missing.push(`${b.kind} ${b.name} in ${where} has no real id (${b.resource || "empty"}): create it (docs/deploy.md) and put its id there`);
    }
  }
  for (const [k, v] of Object.entries(vars)) {
    if (/^local_/.test(v)) missing.push(`${k} in ${where} is a local development value (${v}); production values are secrets`);
  }
  return { env, workerName: c.name ?? "", bindings, vars, secrets, missing };
}

/** The secrets of an environment that the current shell cannot provide (a CI deploy sets them as variables). */
export function secretsMissingFromShell(e: EdgeEnvironment, environ: NodeJS.ProcessEnv = process.env): string[] {
  return e.secrets.filter((s) => !environ[s]);
}

export interface Bundle {
  bytes: number;
  gzipBytes: number;
  outdir: string;
}

/** `wrangler deploy --dry-run --outdir`: builds what would be uploaded, contacts nothing. */
export async function buildBundle(env: DeployEnvironment, opts: { keep?: boolean } = {}): Promise<Bundle> {
  const outdir = mkdtempSync(join(tmpdir(), `tideline-edge-${env}-`));
  const wrangler = join(REPO_ROOT, "node_modules/wrangler/bin/wrangler.js");
  try {
    await promisify(execFile)(process.execPath, [wrangler, "deploy", "--dry-run", "--outdir", outdir, "--env", env], {
      cwd: REPO_ROOT,
      env: { ...process.env, WRANGLER_SEND_METRICS: "false", CI: "true" },
      maxBuffer: 16 * 1024 * 1024,
    });
    const code = readFileSync(join(outdir, "index.js"));
    return { bytes: code.length, gzipBytes: gzipSync(code).length, outdir };
  } finally {
    if (!opts.keep) rmSync(outdir, { recursive: true, force: true });
  }
}

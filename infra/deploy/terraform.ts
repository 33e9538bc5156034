/**
 * The Terraform side of a deploy, offline: the variables an environment sets (envs/<env>.tfvars,
 * the uncommitted envs/<env>.local.tfvars, TF_VAR_* in the shell), the required ones it lacks, and
 * the resources the configuration declares with the instances its for_each/count expand to. The
 * expansion covers the expressions this configuration uses (lists from resources.json, the
 * contracts and the grant list; boolean switches); `tofu plan` is the authority once a provider is
 * at hand (docs/deploy.md).
 */
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { parse } from "@cdktf/hcl2json";
import { loadResources } from "../resources.js";
import { allResources, loadConfig, TERRAFORM_DIR, type Block, type TerraformConfig } from "../terraform/config.js";
import type { DeployEnvironment } from "./edge.js";

export interface TerraformEnvironment {
  env: DeployEnvironment;
  /** Variable values from the tfvars files and TF_VAR_*; defaults are not included. */
  values: Record<string, unknown>;
  files: string[];
  missing: string[];
  resources: { address: string; instances: string[] }[];
}

export async function tfvars(env: DeployEnvironment, environ: NodeJS.ProcessEnv = process.env): Promise<{ values: Record<string, unknown>; files: string[] }> {
  const values: Record<string, unknown> = {};
  const files: string[] = [];
  for (const f of [`envs/${env}.tfvars`, `envs/${env}.local.tfvars`]) {
    const path = join(TERRAFORM_DIR, f);
    if (!existsSync(path)) continue;
    Object.assign(values, (await parse(f, readFileSync(path, "utf8"))) as Record<string, unknown>);
    files.push(`infra/terraform/${f}`);
  }
  for (const [k, v] of Object.entries(environ)) if (k.startsWith("TF_VAR_") && v !== undefined) values[k.slice(7)] = v;
  return { values, files };
}

/** Variables without a default that no tfvars file or TF_VAR_ sets, each with its description. */
export function missingVariables(tf: TerraformConfig, values: Record<string, unknown>, env: DeployEnvironment): string[] {
  return Object.entries(tf.variables)
    .filter(([name, v]) => !("default" in v) && !(name in values))
    .map(([name, v]) => `Terraform variable ${name} is not set for ${env}: put it in infra/terraform/envs/${env}.local.tfvars or export TF_VAR_${name} (${String(v.description ?? "").replace(/\.$/, "")})`);
}

/** The literal list inside `${toset([...])}`, or null for any other expression. */
const literalSet = (expr: unknown): string[] | null => {
  const m = typeof expr === "string" ? /^\$\{toset\((\[[\s\S]*\])\)\}$/.exec(expr) : null;
  if (!m) return null;
  try {
    return JSON.parse(m[1]!.replace(/,\s*\]/, "]")) as string[];
  } catch {
    return null;
  }
};

function variableValue(tf: TerraformConfig, values: Record<string, unknown>, name: string): unknown {
  if (name in values) return values[name];
  return tf.variables[name]?.default;
}

interface Grant {
  who: string;
  role: string;
  on: string[];
}

function instancesOf(tf: TerraformConfig, values: Record<string, unknown>, body: Block, seen: Map<string, string[]>): string[] {
  const r = loadResources();
  const cmek = variableValue(tf, values, "cmek") !== false && variableValue(tf, values, "cmek") !== "false";
  const fe = body.for_each as string | undefined;
  if (fe !== undefined) {
    const grantsOf = /local\.grants_of\["([a-z_]+)"\]/.exec(fe);
    if (grantsOf) {
      const kind = grantsOf[1]!;
      if (kind === "kms_key" && !cmek) return [];
      return (tf.locals.grants as Grant[]).flatMap((g) => g.on.filter((o) => o.split(":")[0] === kind).map((o) => `${g.who} ${g.role} ${o}`));
    }
    const fixed: Record<string, () => string[]> = {
      "${local.topics}": () => r.topics.map((t) => t.name),
      "${local.subs}": () => r.subscriptions.map((s) => s.name),
      "${local.datasets}": () => [...new Set([...tables().map((t) => t.split(".")[0]!), ...Object.keys(r.modelDatasets)])],
      "${local.tables}": () => tables(),
      "${local.service_accounts}": () => Object.keys(tf.locals.service_accounts as object),
      "${local.required_apis}": () => literalSet(tf.locals.required_apis) ?? [],
      "${var.cmek ? local.kms_keys : toset([])}": () => (cmek ? (literalSet(tf.locals.kms_keys) ?? []) : []),
    };
    if (fixed[fe]) return fixed[fe]();
    const literal = literalSet(fe);
    if (literal) return literal;
    const ref = /^\$\{(google_[a-z_]+\.[a-z_]+)\}$/.exec(fe);
    if (ref && seen.has(ref[1]!)) return seen.get(ref[1]!)!;
    return [`(for_each = ${fe.slice(2, -1)})`];
  }
  const count = body.count as string | undefined;
  if (count !== undefined) {
    const m = /^\$\{var\.([a-z_]+) \? 1 : 0\}$/.exec(count);
    if (m) {
      const v = variableValue(tf, values, m[1]!);
      return v === true || v === "true" ? ["[0]"] : [];
    }
    return [`(count = ${count.slice(2, -1)})`];
  }
  return [""];
}

let tablesCache: string[] | null = null;
/** contracts/generated/bigquery/<dataset>.<table>.json, as Terraform's fileset() lists them. */
function tables(): string[] {
  tablesCache ??= readdirSync(join(TERRAFORM_DIR, "../../contracts/generated/bigquery"))
    .filter((f) => f.endsWith(".json"))
    .map((f) => f.replace(/\.json$/, ""))
    .sort();
  return tablesCache;
}

export async function terraformEnvironment(env: DeployEnvironment, environ: NodeJS.ProcessEnv = process.env): Promise<TerraformEnvironment> {
  const tf = await loadConfig();
  const { values, files } = await tfvars(env, environ);
  const seen = new Map<string, string[]>();
  const resources = allResources(tf).map(([type, name, body]) => {
    const instances = instancesOf(tf, values, body, seen);
    seen.set(`${type}.${name}`, instances);
    return { address: `${type}.${name}`, instances };
  });
  return { env, values, files, missing: missingVariables(tf, values, env), resources };
}

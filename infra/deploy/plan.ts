/**
 * `npx tideline deploy --dry-run [--env staging|production]`: the whole deploy in the order it
 * runs — Worker bundle and bindings, Terraform resources, the pipeline's Flex Template image and
 * launch, DAG files to Composer's bucket — built from the repository alone, calling no cloud API,
 * and every missing secret, binding and variable named.
 */
import { existsSync, readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { REPO_ROOT } from "../local/settings.js";
import { gcpRoot, launchRequest, PIPELINE_JOB_NAME, PIPELINE_WORKERS } from "../../platform/gcp/root.js";
import { buildBundle, edgeEnvironment, secretsMissingFromShell, WORKER_GZIP_BUDGET_BYTES, WORKER_GZIP_LIMIT_BYTES, type Bundle, type DeployEnvironment, type EdgeEnvironment } from "./edge.js";
import { terraformEnvironment, type TerraformEnvironment } from "./terraform.js";

/** Files under dags/ that are not DAG code: tests, lock files and their tooling (docs/orchestration.md). */
const NOT_DAG_FILES = /^(tests\/|requirements\.|composer-|relock\.sh$|pyproject\.toml$|README\.md$)|(^|\/)__pycache__\/|\.pyc$/;

export function dagFiles(root = REPO_ROOT): string[] {
  const dir = join(root, "dags");
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const path = join(d, name);
      const rel = relative(dir, path);
      if (statSync(path).isDirectory()) {
        if (!NOT_DAG_FILES.test(`${rel}/`)) walk(path);
      } else if (!NOT_DAG_FILES.test(rel)) out.push(rel);
    }
  };
  walk(dir);
  return out;
}

export interface DeployPlan {
  env: DeployEnvironment;
  project: string;
  region: string;
  edge: EdgeEnvironment & { bundle: Bundle | null; secretsFromShell: { name: string; set: boolean }[] };
  terraform: TerraformEnvironment;
  pipeline: { image: string; template: string; build: string[]; launch: ReturnType<typeof launchRequest> };
  dags: { destination: string; files: string[] };
  missing: string[];
}

export async function deployPlan(env: DeployEnvironment, opts: { bundle?: boolean; environ?: NodeJS.ProcessEnv } = {}): Promise<DeployPlan> {
  const environ = opts.environ ?? process.env;
  const [edge, terraform] = await Promise.all([edgeEnvironment(env), terraformEnvironment(env, environ)]);
  const bundle = opts.bundle === false ? null : await buildBundle(env);
  const project = String(terraform.values.project ?? edge.vars.GCP_PROJECT ?? "");
  const region = String(terraform.values.region ?? "");
  const gcp = gcpRoot({ project, region, datasetPrefix: String(terraform.values.dataset_prefix ?? ""), imageTag: String(terraform.values.pipeline_image_tag ?? "latest") });
  const { image, template } = gcp.pipeline;
  const launch = launchRequest({
    project,
    region,
    image,
    template,
    minWorkers: Number(terraform.values.pipeline_min_workers ?? PIPELINE_WORKERS.min),
    maxWorkers: Number(terraform.values.pipeline_max_workers ?? PIPELINE_WORKERS.max),
    datasetPrefix: String(terraform.values.dataset_prefix ?? ""),
    jobName: PIPELINE_JOB_NAME,
  });
  const secretsUnset = secretsMissingFromShell(edge, environ);
  const missing = [
    ...edge.missing,
    ...secretsUnset.map((s) => `Worker secret ${s} for ${env}: not in this shell's environment; export it for \`wrangler secret bulk\`, or set it once with \`npx wrangler secret put ${s} --env ${env}\``),
    ...terraform.missing,
  ];
  if (bundle && bundle.gzipBytes > WORKER_GZIP_BUDGET_BYTES) {
    missing.push(`the Worker bundle is ${kib(bundle.gzipBytes)} gzip, over the budget of ${kib(WORKER_GZIP_BUDGET_BYTES)} (Cloudflare's limit: ${kib(WORKER_GZIP_LIMIT_BYTES)})`);
  }
  if (edge.vars.GCP_PROJECT && terraform.values.project && edge.vars.GCP_PROJECT !== terraform.values.project) {
    missing.push(`wrangler.toml's [env.${env}] GCP_PROJECT is ${edge.vars.GCP_PROJECT} and envs/${env}.tfvars' project is ${String(terraform.values.project)}: make them the same project`);
  }
  return {
    env,
    project,
    region,
    edge: { ...edge, bundle, secretsFromShell: edge.secrets.map((name) => ({ name, set: !secretsUnset.includes(name) })) },
    terraform,
    pipeline: {
      image,
      template,
      build: [
        `docker build -f pipeline/beam/flex/Dockerfile -t ${image} .`,
        `docker push ${image}`,
        `gcloud dataflow flex-template build ${template} --image ${image} --sdk-language PYTHON --metadata-file pipeline/beam/flex/metadata.json --project ${project}`,
      ],
      launch,
    },
    dags: { destination: gcp.composer.dagsDestination, files: dagFiles() },
    missing,
  };
}

const kib = (n: number) => `${(n / 1024).toFixed(1)} KiB`;

export function formatPlan(p: DeployPlan): string {
  const out: string[] = [];
  const line = (s = "") => out.push(s);
  line(`tideline deploy --env ${p.env} (dry run: nothing was sent anywhere) — project ${p.project || "(unset)"}, region ${p.region || "(unset)"}`);
  line();
  line(`1. Edge Worker ${p.edge.workerName} (npx wrangler deploy --env ${p.env})`);
  if (p.edge.bundle) line(`   bundle: ${kib(p.edge.bundle.bytes)}, ${kib(p.edge.bundle.gzipBytes)} gzip (Cloudflare's limit ${kib(WORKER_GZIP_LIMIT_BYTES)})`);
  for (const b of p.edge.bindings) line(`   binding ${b.name}: ${b.kind} ${b.resource}`);
  for (const [k, v] of Object.entries(p.edge.vars)) line(`   var ${k} = ${v.length > 60 ? `${v.slice(0, 57)}…` : v}`);
  for (const s of p.edge.secretsFromShell) line(`   secret ${s.name}: ${s.set ? "set in this shell" : "MISSING in this shell"}`);
  line();
  line(`2. Terraform (tofu -chdir=infra/terraform init -backend-config=envs/${p.env}.gcs.tfbackend; tofu apply ${p.terraform.files.map((f) => `-var-file=${f.replace("infra/terraform/", "")}`).join(" ")})`);
  const total = p.terraform.resources.reduce((n, r) => n + r.instances.length, 0);
  line(`   ${total} resources in ${p.terraform.resources.length} blocks:`);
  for (const r of p.terraform.resources) {
    if (!r.instances.length) line(`   ${r.address}: none (switched off)`);
    else if (r.instances.length === 1 && !r.instances[0]) line(`   ${r.address}`);
    else line(`   ${r.address} ×${r.instances.length}: ${r.instances.slice(0, 6).join(", ")}${r.instances.length > 6 ? ", …" : ""}`);
  }
  line();
  line(`3. Pipeline: Flex Template image and launch`);
  for (const c of p.pipeline.build) line(`   $ ${c}`);
  line(`   launch (Terraform's google_dataflow_flex_template_job with deploy_pipeline = true, or \`npx tideline deploy pipeline\`):`);
  const lp = p.pipeline.launch.body.launchParameter;
  line(`   job ${lp.jobName}, template ${lp.containerSpecGcsPath}`);
  line(`   parameters ${Object.entries(lp.parameters).map(([k, v]) => `${k}=${v}`).join(" ")}`);
  line(`   workers ${lp.environment.numWorkers}..${lp.environment.maxWorkers}, streaming engine, service account ${lp.environment.serviceAccountEmail}`);
  line();
  line(`4. DAG files to ${p.dags.destination} (gcloud storage rsync)`);
  if (!p.dags.files.length) line("   (no dags/ folder in this checkout)");
  for (const f of p.dags.files) line(`   dags/${f}`);
  line();
  if (p.missing.length) {
    line(`Missing (${p.missing.length}) — fix these before a real deploy:`);
    for (const m of p.missing) line(`  - ${m}`);
  } else line("Nothing missing.");
  return out.join("\n");
}

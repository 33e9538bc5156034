/** The GCP root names what Terraform creates and the DAGs read: the same names as infra/resources.json and infra/terraform. */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { bucketName } from "../../contracts/defaults.js";
import { REPO_ROOT } from "../../infra/local/settings.js";
import { loadResources } from "../../infra/resources.js";
import { loadConfig, type TerraformConfig } from "../../infra/terraform/config.js";
import { gcpRoot, launchRequest } from "./root.js";

const target = { project: "acme-prod", region: "europe-west1", datasetPrefix: "prod_", imageTag: "v7" };
const root = gcpRoot(target);
const resources = loadResources();

let tf: TerraformConfig;
beforeAll(async () => {
  tf = await loadConfig();
});

/**
 * Terraform's value of a string with `${…}` interpolations, for the references a deployment of
 * `target` resolves (hcl2json keeps expressions as text; this evaluates only the ones listed).
 */
function evaluate(expr: string): string {
  const refs: Record<string, () => string> = {
    "var.project": () => target.project,
    "var.region": () => target.region,
    "var.dataset_prefix": () => target.datasetPrefix,
    "var.pipeline_image_tag": () => target.imageTag,
    "local.pipeline_template": () => evaluate(tf.locals.pipeline_template as string),
    "local.pipeline_image": () => evaluate(tf.locals.pipeline_image as string),
    "google_artifact_registry_repository.tideline.repository_id": () => tf.resources.google_artifact_registry_repository!.tideline!.repository_id as string,
    "google_dataform_repository.tideline.name": () => tf.resources.google_dataform_repository!.tideline!.name as string,
    'google_service_account.sa["pipeline"].email': () => `${(tf.resources.google_service_account!.sa!.account_id as string).replace("${each.key}", "pipeline")}@${target.project}.iam.gserviceaccount.com`,
    ...Object.fromEntries(Object.entries(resources.buckets).map(([k, v]) => [`local.buckets.${k}`, () => bucketName(v, target.project)])),
  };
  return expr.replace(/\$\{([^}]+)\}/g, (_, ref: string) => {
    const value = refs[ref];
    if (!value) throw new Error(`no value for the Terraform reference ${ref} in ${expr}`);
    return value();
  });
}

describe("platform/gcp: the production wiring", () => {
  it("names the topics, subscriptions and buckets of infra/resources.json", () => {
    expect(root.topics).toEqual(resources.topics.map((t) => t.name));
    expect(root.subscriptions.map(({ name, topic }) => ({ name, topic }))).toEqual(resources.subscriptions.map(({ name, topic }) => ({ name, topic })));
    expect(root.subscriptions[0]!.path).toBe(`projects/acme-prod/subscriptions/${resources.subscriptions[0]!.name}`);
    expect(root.buckets).toEqual(Object.fromEntries(Object.entries(resources.buckets).map(([k, v]) => [k, bucketName(v, "acme-prod")])));
    for (const s of root.pipeline.subscriptions) expect(resources.subscriptions.map((x) => x.name)).toContain(s);
  });

  it("names the BigQuery datasets Terraform creates: the ingest ones of contracts/generated/bigquery and the model ones", () => {
    const generated = readdirSync(join(REPO_ROOT, "contracts/generated/bigquery")).map((f) => f.split(".")[0]!);
    expect(root.datasets.ingest.sort()).toEqual([...new Set(generated)].map((d) => `prod_${d}`).sort());
    expect(root.datasets.models).toEqual(Object.keys(resources.modelDatasets).map((d) => `prod_${d}`));
    const dataset = tf.resources.google_bigquery_dataset!.dataset!;
    expect(dataset.for_each).toBe("${local.datasets}");
    expect(dataset.dataset_id).toBe("${var.dataset_prefix}${each.key}");
  });

  it("launches the Dataflow job Terraform declares, with its image, template, locations and service account", () => {
    const job = tf.resources.google_dataflow_flex_template_job!.pipeline!;
    expect(job.name).toBe(root.pipeline.jobName);
    expect(evaluate(job.container_spec_gcs_path as string)).toBe(root.pipeline.template);
    expect(evaluate(job.sdk_container_image as string)).toBe(root.pipeline.image);
    expect(root.pipeline.image).toBe("europe-west1-docker.pkg.dev/acme-prod/tideline/pipeline:v7");
    expect(evaluate(job.temp_location as string)).toBe(root.pipeline.tempLocation);
    expect(evaluate(job.staging_location as string)).toBe(root.pipeline.stagingLocation);
    expect(evaluate(job.service_account_email as string)).toBe(root.pipeline.serviceAccount);
    const env = launchRequest({ ...target, minWorkers: 1, maxWorkers: 5, jobName: root.pipeline.jobName }).body.launchParameter.environment;
    expect([env.tempLocation, env.stagingLocation, env.serviceAccountEmail]).toEqual([root.pipeline.tempLocation, root.pipeline.stagingLocation, root.pipeline.serviceAccount]);
  });

  it("gives Composer the Airflow Variables Terraform sets and the DAGs read, with the same values", () => {
    const tfVars = tf.locals.airflow_variables as Record<string, string>;
    expect(Object.keys(root.composer.variables).sort()).toEqual(Object.keys(tfVars).sort());
    for (const [name, expr] of Object.entries(tfVars)) expect(root.composer.variables[name as keyof typeof root.composer.variables], name).toBe(evaluate(expr));
    const settings = join(REPO_ROOT, "dags/tideline_dags/settings.py");
    if (existsSync(settings)) {
      const read = [...readFileSync(settings, "utf8").matchAll(/Setting\(\s*"(tideline_\w+)"/g)].map((m) => m[1]!);
      for (const name of Object.keys(root.composer.variables)) expect(read, name).toContain(name);
    }
    expect(root.composer.dagsDestination).toBe("gs://acme-prod-composer/dags/");
  });
});

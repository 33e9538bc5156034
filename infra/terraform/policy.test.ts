/**
 * Policies on the parsed Terraform (infra/terraform/*.tf through hcl2json): where resources come
 * from, CMEK on every store, no public bucket, lifecycle ages, the perimeter, private networking,
 * and agreement with wrangler.toml, the pipeline's launch and the DAGs' settings.
 */
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { parse } from "@cdktf/hcl2json";
import { beforeAll, describe, expect, it } from "vitest";
import { launchRequest } from "../../platform/gcp/root.js";
import { REPO_ROOT } from "../local/settings.js";
import { bucketName } from "../../contracts/defaults.js";
import { loadResources } from "../resources.js";
import { allResources, block, loadConfig, TERRAFORM_DIR, type Block, type TerraformConfig } from "./config.js";

let tf: TerraformConfig;
beforeAll(async () => {
  tf = await loadConfig();
});

const res = (type: string, name: string): Block => {
  const b = tf.resources[type]?.[name];
  if (!b) throw new Error(`no ${type}.${name} in infra/terraform`);
  return b;
};
const ofType = (type: string) => Object.entries(tf.resources[type] ?? {});
const cmekBlock = (b: Block, name: string, key: string) => {
  const d = block(b.dynamic, name);
  return d && d.for_each === `\${var.cmek ? [local.kms.${key}] : []}`;
};

describe("one source for every name", () => {
  it("reads topics, subscriptions and buckets from resources.json, tables from the generated contracts", () => {
    expect(tf.locals.resources).toBe('${jsondecode(file("${path.module}/../resources.json"))}');
    expect(tf.locals.contracts_dir).toBe("${path.module}/../../contracts/generated/bigquery");
    expect(res("google_pubsub_topic", "topic").for_each).toBe("${local.topics}");
    expect(res("google_pubsub_subscription", "subscription").for_each).toBe("${local.subs}");
    expect(res("google_bigquery_table", "table").for_each).toBe("${local.tables}");
    expect(res("google_bigquery_table", "table").schema).toBe("${jsonencode(each.value.schema.fields)}");
    expect(res("google_bigquery_dataset", "dataset").for_each).toBe("${local.datasets}");
    for (const [name, b] of ofType("google_storage_bucket")) {
      if (name !== "access_logs") expect(b.name, name).toBe(`\${local.buckets.${name}}`);
    }
    expect(Object.keys(loadResources().buckets).sort()).toEqual(ofType("google_storage_bucket").map(([n]) => n).filter((n) => n !== "access_logs").sort());
  });

  it("creates the datasets the Dataform models write to (resources.json's modelDatasets)", () => {
    const dir = join(REPO_ROOT, "warehouse/dataform");
    const settings = readFileSync(join(dir, "workflow_settings.yaml"), "utf8");
    const schemas = new Set([/^defaultDataset:\s*(\w+)/m, /^defaultAssertionDataset:\s*(\w+)/m].map((re) => re.exec(settings)![1]!));
    const walk = (d: string): string[] => readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(d, e.name)) : [join(d, e.name)]));
    for (const f of walk(join(dir, "definitions")).filter((f) => f.endsWith(".sqlx"))) {
      const m = /\bschema:\s*"(\w+)"/.exec(readFileSync(f, "utf8"));
      if (m) schemas.add(m[1]!);
    }
    // `ops` is a pipeline dataset (created from the contracts) where the models also write their data-quality tables.
    const pipelineDatasets = new Set(["raw", "core", "ops"]);
    expect(new Set(Object.keys(loadResources().modelDatasets))).toEqual(new Set([...schemas].filter((s) => !pipelineDatasets.has(s))));
    const iam = readFileSync(join(REPO_ROOT, "infra/terraform/iam.tf"), "utf8");
    const dataformWrites = /who = "dataform", role = "roles\/bigquery\.dataEditor", on = \[([^\]]*)\]/.exec(iam)![1]!;
    for (const s of schemas) expect(dataformWrites, `Dataform writes dataset ${s}`).toContain(`"dataset:${s}"`);
  });

  it("gives every subscription a dead-letter policy except the dead-letter topic's own, and keeps CDC ordered", () => {
    const r = loadResources();
    const sub = res("google_pubsub_subscription", "subscription");
    const dlp = block(sub.dynamic, "dead_letter_policy")!;
    expect(dlp.for_each).toBe("${try(each.value.noDeadLetter, false) ? [] : [local.resources.deadLetter]}");
    const held = r.subscriptions.filter((s) => s.topic === r.deadLetter.topic);
    expect(held.length, "a topic without a subscription drops what is published to it").toBeGreaterThan(0);
    expect(held.every((s) => s.noDeadLetter)).toBe(true);
    expect(r.subscriptions.filter((s) => s.noDeadLetter).every((s) => s.topic === r.deadLetter.topic)).toBe(true);
    expect(r.subscriptions.find((s) => s.name === "pipeline-cdc")?.enableMessageOrdering).toBe(true);
    expect(sub.enable_message_ordering).toBe("${try(each.value.enableMessageOrdering, false)}");
    expect(sub.enable_exactly_once_delivery).toBe("${try(each.value.enableExactlyOnceDelivery, false)}");
    expect(block(sub, "expiration_policy")?.ttl, "subscriptions never expire").toBe("");
  });
});

describe("encryption at rest with CMEK (var.cmek)", () => {
  it("is on by default and rotates keys within 90 days", () => {
    expect(tf.variables.cmek!.default).toBe(true);
    expect(res("google_kms_crypto_key", "key").rotation_period).toBe("${var.kms_rotation_period}");
    expect(tf.variables.kms_rotation_period!.default).toBe("7776000s");
  });

  it("covers every store: buckets, datasets, tables, topics, the pipeline, Composer, Artifact Registry", () => {
    const stores = ["google_storage_bucket", "google_bigquery_dataset", "google_bigquery_table", "google_pubsub_topic", "google_dataflow_flex_template_job", "google_composer_environment", "google_artifact_registry_repository"];
    for (const type of stores) expect(ofType(type).length, type).toBeGreaterThan(0);
    for (const [n, b] of ofType("google_storage_bucket")) {
      expect(cmekBlock(b, "encryption", "storage"), `bucket ${n}`).toBe(true);
      expect(block(block(b.dynamic, "encryption")!.content, "default_kms_key_name") ?? block(b.dynamic, "encryption")!.content[0].default_kms_key_name).toBe("${encryption.value}");
    }
    for (const [n, b] of ofType("google_bigquery_dataset")) expect(cmekBlock(b, "default_encryption_configuration", "bigquery"), `dataset ${n}`).toBe(true);
    for (const [n, b] of ofType("google_bigquery_table")) expect(cmekBlock(b, "encryption_configuration", "bigquery"), `table ${n}`).toBe(true);
    for (const [n, b] of ofType("google_pubsub_topic")) expect(b.kms_key_name, `topic ${n}`).toBe("${local.kms.pubsub}");
    for (const [n, b] of ofType("google_dataflow_flex_template_job")) expect(b.kms_key_name, `job ${n}`).toBe("${local.kms.dataflow}");
    for (const [n, b] of ofType("google_artifact_registry_repository")) expect(b.kms_key_name, `repository ${n}`).toBe("${local.kms.artifacts}");
    for (const [n, b] of ofType("google_composer_environment")) expect(cmekBlock(block(b, "config")!, "encryption_config", "composer"), `composer ${n}`).toBe(true);
    // Every key a store names exists, and local.kms switches them all with var.cmek.
    expect(tf.locals.kms).toBe("${var.cmek ? { for k in local.kms_keys : k => google_kms_crypto_key.key[k].id } : { for k in local.kms_keys : k => null }}");
    for (const k of ["storage", "bigquery", "pubsub", "dataflow", "composer", "artifacts"]) expect(tf.locals.kms_keys).toContain(`"${k}"`);
  });
});

describe("no public data", () => {
  it("enforces public access prevention and uniform access on every bucket", () => {
    for (const [n, b] of ofType("google_storage_bucket")) {
      expect(b.public_access_prevention, n).toBe("enforced");
      expect(b.uniform_bucket_level_access, n).toBe(true);
    }
  });

  it("grants nothing to allUsers or allAuthenticatedUsers anywhere", async () => {
    const text = JSON.stringify(tf);
    expect(text).not.toMatch(/allUsers|allAuthenticatedUsers/);
    expect(ofType("google_bigquery_dataset").every(([, b]) => !b.access), "dataset access blocks would bypass iam.tf").toBe(true);
  });
});

describe("lifecycle and retention", () => {
  it("ages the raw archive Standard → Nearline 30 d → Coldline 90 d → Archive 365 d by default, from a variable", () => {
    expect(tf.variables.archive_lifecycle!.default).toEqual([
      { age_days: 30, storage_class: "NEARLINE" },
      { age_days: 90, storage_class: "COLDLINE" },
      { age_days: 365, storage_class: "ARCHIVE" },
    ]);
    const rules = res("google_storage_bucket", "raw").dynamic.lifecycle_rule as Block[];
    const transitions = rules.find((r) => r.for_each === "${var.archive_lifecycle}")!;
    const content = transitions.content[0];
    expect(block(content, "condition")!.age).toBe("${lifecycle_rule.value.age_days}");
    expect(block(content, "action")).toEqual({ type: "SetStorageClass", storage_class: "${lifecycle_rule.value.storage_class}" });
    expect(rules.find((r) => r.for_each === "${var.archive_delete_after_days > 0 ? [var.archive_delete_after_days] : []}")).toBeDefined();
    expect(block(res("google_storage_bucket", "raw").dynamic, "retention_policy")!.for_each).toBe("${var.archive_retention_days > 0 ? [var.archive_retention_days] : []}");
  });

  it("expires landing uploads and announces new ones on landing-notifications", () => {
    const landing = res("google_storage_bucket", "landing");
    expect(block(landing, "lifecycle_rule")).toEqual({ condition: [{ age: "${var.landing_expire_days}" }], action: [{ type: "Delete" }] });
    expect(tf.variables.landing_expire_days!.default).toBe(7);
    const n = res("google_storage_notification", "landing");
    expect(n.event_types).toEqual(["OBJECT_FINALIZE"]);
    expect(n.topic).toBe('${google_pubsub_topic.topic["landing-notifications"].id}');
  });

  it("expires table partitions by the maintenance DAG's policy", () => {
    const policy = tf.variables.partition_expiration_days!.default as Record<string, number>;
    for (const t of Object.keys(policy)) expect(existsSync(join(REPO_ROOT, `contracts/generated/bigquery/${t}.json`)), t).toBe(true);
    expect(policy["raw.cdc_changes"], "the CDC log is kept").toBeUndefined();
    const schedule = join(REPO_ROOT, "dags/schedule.json");
    if (existsSync(schedule)) {
      const spec = JSON.parse(readFileSync(schedule, "utf8")) as { dags: { tideline_maintenance: { maintenance: { partitionExpiryDays: Record<string, number> } } } };
      expect(policy).toEqual(spec.dags.tideline_maintenance.maintenance.partitionExpiryDays);
    }
  });
});

describe("the perimeter and the private network", () => {
  it("restricts BigQuery, Storage, Pub/Sub, Dataflow and Composer around the project", () => {
    expect(tf.locals.perimeter_services).toEqual(expect.arrayContaining(["bigquery.googleapis.com", "storage.googleapis.com", "pubsub.googleapis.com", "dataflow.googleapis.com", "composer.googleapis.com"]));
    const p = res("google_access_context_manager_service_perimeter", "tideline");
    for (const which of ["status", "spec"]) {
      const d = block(p.dynamic, which)!;
      const c = d.content[0];
      expect(c.restricted_services, which).toBe(`\${${which}.value.restricted_services}`);
      expect(block(c, "vpc_accessible_services"), which).toEqual({ enable_restriction: true, allowed_services: ["RESTRICTED-SERVICES"] });
      expect(block(c.dynamic, "ingress_policies")!.for_each, which).toBe(`\${${which}.value.ingress}`);
    }
    expect(tf.locals.perimeter).toEqual({ resources: ["projects/${local.number}"], restricted_services: "${local.perimeter_services}", ingress: "${local.perimeter_ingress}" });
  });

  it("lets the edge in only from Cloudflare's ranges, only to publish and create objects", () => {
    const ingress = tf.locals.perimeter_ingress as string;
    expect(ingress).toContain('identities   = [local.members.edge]');
    expect(ingress).toContain("access_level = google_access_context_manager_access_level.edge.name");
    expect(ingress).toContain('operations   = { "pubsub.googleapis.com" = ["Publisher.Publish"], "storage.googleapis.com" = ["google.storage.objects.create"] }');
    const level = block(res("google_access_context_manager_access_level", "edge"), "basic")!;
    expect(block(level, "conditions")!.ip_subnetworks).toBe("${var.edge_egress_cidrs}");
    expect((tf.variables.edge_egress_cidrs!.default as string[]).length).toBeGreaterThan(10);
  });

  it("runs Dataflow and Composer on the private subnet without public IPs or a route to the internet", () => {
    const job = res("google_dataflow_flex_template_job", "pipeline");
    expect(job.ip_configuration).toBe("WORKER_IP_PRIVATE");
    expect(job.subnetwork).toBe("${google_compute_subnetwork.private.self_link}");
    const config = block(res("google_composer_environment", "tideline"), "config")!;
    expect(config.enable_private_environment).toBe(true);
    expect(block(config, "node_config")!.subnetwork).toBe("${google_compute_subnetwork.private.id}");
    expect(res("google_compute_subnetwork", "private").private_ip_google_access).toBe(true);
    expect(tf.resources.google_compute_router_nat, "no NAT: nothing inside talks to the internet").toBeUndefined();
    expect(res("google_compute_firewall", "deny_egress").destination_ranges).toEqual(["0.0.0.0/0"]);
    expect(res("google_compute_network", "tideline").auto_create_subnetworks).toBe(false);
  });
});

describe("agreement with the other deploy targets", () => {
  it("has staging and production tfvars for wrangler.toml's environments, with the same project and buckets", async () => {
    const wrangler = await import("wrangler");
    const raw = wrangler.experimental_readRawConfig({ config: join(REPO_ROOT, "wrangler.toml") }).rawConfig as { env: Record<string, unknown> };
    const envs = Object.keys(raw.env).sort();
    expect(readdirSync(join(TERRAFORM_DIR, "envs")).filter((f) => f.endsWith(".tfvars") && !f.includes(".local.")).map((f) => f.replace(".tfvars", "")).sort()).toEqual(envs);
    const r = loadResources();
    for (const env of envs) {
      const vars = (await parse(`${env}.tfvars`, readFileSync(join(TERRAFORM_DIR, `envs/${env}.tfvars`), "utf8"))) as Record<string, string>;
      const w = wrangler.unstable_readConfig({ config: join(REPO_ROOT, "wrangler.toml"), env }, { hideWarnings: true }) as unknown as { vars: Record<string, string> };
      expect(vars.environment).toBe(env);
      expect(w.vars.GCP_PROJECT, env).toBe(vars.project);
      expect(w.vars.RAW_BUCKET, env).toBe(bucketName(r.buckets.raw, vars.project!));
      expect(w.vars.LANDING_BUCKET, env).toBe(bucketName(r.buckets.landing, vars.project!));
      expect(existsSync(join(TERRAFORM_DIR, `envs/${env}.gcs.tfbackend`)), `${env} state backend`).toBe(true);
    }
  });

  it("launches the pipeline as `tideline deploy pipeline` would", () => {
    const job = res("google_dataflow_flex_template_job", "pipeline");
    const request = launchRequest({ project: "p", region: "r", minWorkers: 1, maxWorkers: 5, datasetPrefix: "", jobName: "tideline-pipeline" }).body.launchParameter;
    expect(job.name).toBe(request.jobName);
    expect(tf.locals.pipeline_template).toBe("gs://${local.buckets.dataflow}/templates/tideline-pipeline.json");
    expect(request.containerSpecGcsPath).toBe(`gs://${bucketName(loadResources().buckets.dataflow, "p")}/templates/tideline-pipeline.json`);
    expect(tf.locals.pipeline_parameters).toContain('{ source = "pubsub", warehouse = "bigquery", bigquery_project = var.project }');
    expect(request.parameters).toEqual({ source: "pubsub", warehouse: "bigquery", bigquery_project: "p" });
    expect(job.enable_streaming_engine).toBe(request.environment.enableStreamingEngine);
    expect(job.additional_experiments).toEqual(request.environment.additionalExperiments);
    expect(job.autoscaling_algorithm).toBe(request.environment.autoscalingAlgorithm);
    expect(job.temp_location).toBe("gs://${local.buckets.dataflow}/tmp");
    expect(request.environment.tempLocation).toBe("gs://p-dataflow/tmp");
    expect(job.service_account_email).toBe('${google_service_account.sa["pipeline"].email}');
    expect(request.environment.serviceAccountEmail).toBe("tideline-pipeline@p.iam.gserviceaccount.com");
  });

  it("sets every Airflow Variable the DAGs need in Composer", () => {
    const vars = Object.keys(tf.locals.airflow_variables as object);
    const settings = join(REPO_ROOT, "dags/tideline_dags/settings.py");
    const needed = existsSync(settings)
      ? [...readFileSync(settings, "utf8").matchAll(/Setting\(\s*"(tideline_\w+)"/g)].map((m) => m[1]!).filter((n) => n !== "tideline_dataform_workspace" && n !== "tideline_dataform_git_commitish")
      : ["tideline_project", "tideline_region", "tideline_dataform_repository", "tideline_flex_template_path", "tideline_dataflow_temp_location"];
    expect(vars).toEqual(expect.arrayContaining(needed));
    expect(block(block(res("google_composer_environment", "tideline"), "config"), "software_config")!.env_variables).toBe(
      '${{ for k, v in local.airflow_variables : "AIRFLOW_VAR_${upper(k)}" => v }}',
    );
  });

  it("declares no resource twice and every variable without a default is documented", () => {
    expect(allResources(tf).length).toBeGreaterThan(30);
    for (const [name, v] of Object.entries(tf.variables)) {
      if (!("default" in v)) expect(String(v.description ?? ""), `variable ${name}`).toMatch(/\S+ \S+ \S+ \S+/);
    }
  });
});

/**
 * The GCP composition root: what runs where in the production deployment, written once. The edge
 * publishes to the Pub/Sub topics; the Beam pipeline runs on Dataflow as a Flex Template job
 * reading the pipeline's subscriptions into BigQuery; Dataform builds the model datasets; Composer
 * runs dags/ with the Airflow Variables below. Built from contracts/defaults.ts and
 * contracts/tables.ts (the same source as infra/resources.json and Terraform); pure data and
 * functions — nothing here calls a cloud API, at import or later. `tideline deploy` and its plan
 * read their production wiring here; platform/local is the same wiring for `npm start`.
 */
import { readFileSync } from "node:fs";
import { BUCKET_TEMPLATES, bucketName, MODEL_DATASETS, PIPELINE_LANDING_SUBSCRIPTION, PIPELINE_SUBSCRIPTIONS, SUBSCRIPTIONS, TOPICS, AIRFLOW_LANDING_SUBSCRIPTION } from "../../contracts/defaults.js";
import { TABLES } from "../../contracts/tables.js";

const METADATA = new URL("../../pipeline/beam/flex/metadata.json", import.meta.url);
const DATAFLOW_API = "https://dataflow.googleapis.com/v1b3";

/** Names Terraform gives the same resources (infra/terraform; platform/gcp/root.test.ts compares them). */
export const PIPELINE_JOB_NAME = "tideline-pipeline";
export const ARTIFACT_REPOSITORY = "tideline";
export const DATAFORM_REPOSITORY = "tideline";
export const PIPELINE_TEMPLATE_OBJECT = "templates/tideline-pipeline.json";
/** The autoscaling bounds of the streaming job when neither flags nor tfvars set them. */
export const PIPELINE_WORKERS = { min: 1, max: 5 } as const;

export const serviceAccountEmail = (role: string, project: string) => `tideline-${role}@${project}.iam.gserviceaccount.com`;

export interface GcpTarget {
  project: string;
  region: string;
  /** Prefix of every BigQuery dataset (Terraform's dataset_prefix). */
  datasetPrefix?: string;
  /** Tag of the pipeline image in Artifact Registry (Terraform's pipeline_image_tag). */
  imageTag?: string;
}

/** Every resource name of one deployment. */
export function gcpRoot(t: GcpTarget) {
  const prefix = t.datasetPrefix ?? "";
  const buckets = Object.fromEntries(Object.entries(BUCKET_TEMPLATES).map(([k, v]) => [k, bucketName(v, t.project)])) as Record<keyof typeof BUCKET_TEMPLATES, string>;
  const dataflow = `gs://${buckets.dataflow}`;
  const pipeline = {
    jobName: PIPELINE_JOB_NAME,
    image: `${t.region}-docker.pkg.dev/${t.project}/${ARTIFACT_REPOSITORY}/pipeline:${t.imageTag ?? "latest"}`,
    template: `${dataflow}/${PIPELINE_TEMPLATE_OBJECT}`,
    tempLocation: `${dataflow}/tmp`,
    stagingLocation: `${dataflow}/staging`,
    serviceAccount: serviceAccountEmail("pipeline", t.project),
    /** The subscriptions the job reads (pipeline/beam reads the same names from infra/resources.json). */
    subscriptions: [...Object.values(PIPELINE_SUBSCRIPTIONS), PIPELINE_LANDING_SUBSCRIPTION],
  };
  const ingest = [...new Set(TABLES.map((x) => x.dataset))];
  return {
    project: t.project,
    region: t.region,
    buckets,
    topics: TOPICS.map((x) => x.name),
    subscriptions: SUBSCRIPTIONS.map((s) => ({ name: s.name, topic: s.topic, path: `projects/${t.project}/subscriptions/${s.name}` })),
    /** BigQuery datasets: the pipeline writes the ingest ones, Dataform the model ones. */
    datasets: { ingest: ingest.map((d) => `${prefix}${d}`), models: Object.keys(MODEL_DATASETS).map((d) => `${prefix}${d}`) },
    pipeline,
    composer: {
      dagsDestination: `gs://${buckets.composer}/dags/`,
      /** The subscription the landing DAG pulls upload notifications from. */
      landingSubscription: AIRFLOW_LANDING_SUBSCRIPTION,
      /** Airflow Variables of dags/tideline_dags/settings.py; Terraform sets them as AIRFLOW_VAR_<NAME>. */
      variables: {
        tideline_project: t.project,
        tideline_region: t.region,
        tideline_dataform_repository: DATAFORM_REPOSITORY,
        tideline_flex_template_path: pipeline.template,
        tideline_dataflow_temp_location: pipeline.tempLocation,
        tideline_dataflow_service_account: pipeline.serviceAccount,
        tideline_dataset_prefix: prefix,
        tideline_raw_bucket: buckets.raw,
        tideline_landing_bucket: buckets.landing,
      },
    },
  };
}
export type GcpRoot = ReturnType<typeof gcpRoot>;

export interface PipelineLaunch {
  project: string;
  region: string;
  /** gs:// path of the template spec written by `gcloud dataflow flex-template build`. */
  template?: string;
  /** The image built from pipeline/beam/flex/Dockerfile (launcher and workers). */
  image?: string;
  serviceAccount?: string;
  tempLocation?: string;
  stagingLocation?: string;
  minWorkers: number;
  maxWorkers: number;
  datasetPrefix: string;
  jobName: string;
  allowedLatenessDays?: number;
}

/** The request body of flexTemplates.launch for the streaming pipeline (Terraform's google_dataflow_flex_template_job launches the same). */
export function launchRequest(l: PipelineLaunch) {
  const p = gcpRoot({ project: l.project, region: l.region, datasetPrefix: l.datasetPrefix }).pipeline;
  const parameters: Record<string, string> = { source: "pubsub", warehouse: "bigquery", bigquery_project: l.project };
  if (l.datasetPrefix) parameters.dataset_prefix = l.datasetPrefix;
  if (l.allowedLatenessDays !== undefined) parameters.allowed_lateness_days = String(l.allowedLatenessDays);
  const known = new Set((JSON.parse(readFileSync(METADATA, "utf8")) as { parameters: { name: string }[] }).parameters.map((x) => x.name));
  for (const name of Object.keys(parameters)) if (!known.has(name)) throw new Error(`internal error: ${name} is not a parameter of pipeline/beam/flex/metadata.json`);
  return {
    method: "POST",
    url: `${DATAFLOW_API}/projects/${l.project}/locations/${l.region}/flexTemplates:launch`,
    body: {
      launchParameter: {
        jobName: l.jobName,
        containerSpecGcsPath: l.template ?? p.template,
        parameters,
        environment: {
          numWorkers: l.minWorkers,
          maxWorkers: l.maxWorkers,
          // Throughput-based autoscaling between numWorkers and maxWorkers.
          autoscalingAlgorithm: "AUTOSCALING_ALGORITHM_BASIC",
          enableStreamingEngine: true,
          additionalExperiments: ["use_runner_v2"],
          serviceAccountEmail: l.serviceAccount ?? p.serviceAccount,
          tempLocation: l.tempLocation ?? p.tempLocation,
          stagingLocation: l.stagingLocation ?? p.stagingLocation,
          sdkContainerImage: l.image ?? p.image,
        },
      },
    },
  };
}

/**
 * Production launch: the same createPipeline graph (its "dataflow" variant) on Google Cloud Dataflow,
 * streaming from the pipeline's Pub/Sub subscriptions and writing BigQuery through Beam's
 * cross-language IO. Usage (with Application Default Credentials for the project):
 *
 *   tsx pipeline/launch-dataflow.ts --project my-proj --region europe-west1 \
 *     --temp-location gs://my-proj-dataflow/tmp [--dataset-prefix ""] [--max-workers 5]
 *
 * What it needs that a laptop offline lacks: see docs/pipeline.md ("Dataflow").
 */
import { fileURLToPath } from "node:url";
import { Command } from "commander";
import "apache-beam";
import dataflowModule from "apache-beam/runners/dataflow";
import { createPipeline, type DataflowGraphOptions } from "./create-pipeline.js";
import { PIPELINE_SUBSCRIPTIONS } from "./sources/pubsub.js";

const { dataflowRunner } = dataflowModule as unknown as typeof import("apache-beam/runners/dataflow");

export interface DataflowLaunch {
  project: string;
  region: string;
  tempLocation: string;
  maxWorkers?: number;
  serviceAccount?: string;
  /** Prepended to the dataset names raw/core/ops, e.g. "prod_" → prod_raw.events. */
  datasetPrefix?: string;
}

/** The graph options: every subscription the pipeline owns, every raw table as project:dataset.table. */
export function dataflowGraphOptions(l: DataflowLaunch): DataflowGraphOptions {
  const p = l.datasetPrefix ?? "";
  return {
    kind: "dataflow",
    project: l.project,
    subscriptions: Object.fromEntries(
      PIPELINE_SUBSCRIPTIONS.filter((s) => s.stream !== "dead-letters").map((s) => [s.stream, `projects/${l.project}/subscriptions/${s.subscription}`]),
    ),
    tables: { events: `${l.project}:${p}raw.events`, webhooks: `${l.project}:${p}raw.webhooks`, cdc: `${l.project}:${p}raw.cdc_changes` },
    deadLetterTable: `${l.project}:${p}ops.dead_letters`,
  };
}

/** Dataflow pipeline options (Beam's portable option names). */
export function dataflowPipelineOptions(l: DataflowLaunch) {
  return {
    project: l.project,
    region: l.region,
    tempLocation: l.tempLocation,
    streaming: true,
    // Pub/Sub reads need Runner v2 and Streaming Engine; the TS SDK runs as a sibling SDK worker.
    experiments: ["use_runner_v2", "enable_streaming_engine"],
    maxNumWorkers: l.maxWorkers ?? 5,
    autoscalingAlgorithm: "THROUGHPUT_BASED",
    jobName: `tideline-pipeline-${new Date().toISOString().slice(0, 10)}`,
    ...(l.serviceAccount ? { serviceAccountEmail: l.serviceAccount } : {}),
  };
}

export async function launchDataflow(l: DataflowLaunch) {
  const runner = dataflowRunner({ project: l.project, tempLocation: l.tempLocation, region: l.region });
  return runner.runAsync(createPipeline(dataflowGraphOptions(l)), dataflowPipelineOptions(l));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const program = new Command("launch-dataflow")
    .requiredOption("--project <id>", "Google Cloud project")
    .requiredOption("--region <region>", "Dataflow region, e.g. europe-west1")
    .requiredOption("--temp-location <gs://…>", "Cloud Storage path for Dataflow temp files")
    .option("--max-workers <n>", "autoscaling limit", (v) => Number(v), 5)
    .option("--service-account <email>", "worker service account")
    .option("--dataset-prefix <prefix>", "prefix of the raw/core/ops datasets", "")
    .parse();
  const o = program.opts<{ project: string; region: string; tempLocation: string; maxWorkers: number; serviceAccount?: string; datasetPrefix: string }>();
  launchDataflow(o).then(
    () => console.log(`Dataflow job submitted in ${o.project}/${o.region}`),
    (e) => {
      console.error(
        `launch-dataflow: ${(e as Error).message}\nIt needs Application Default Credentials, Python with apache-beam[gcp] (the Dataflow job service) and Java with the Beam GCP IO expansion service (fetched from Maven); see docs/pipeline.md.`,
      );
      process.exit(1);
    },
  );
}

/**
 * `npx tideline deploy --dry-run [--env staging|production]`: the ordered plan of a whole deploy
 * (infra/deploy/plan.ts; docs/deploy.md).
 * `npx tideline deploy pipeline --dry-run --project P --region R`: the Dataflow Flex Template launch
 * of the Beam pipeline (pipeline/beam/flex), printed exactly as it would be sent to
 * projects.locations.flexTemplates.launch, without calling any API. The template spec and image are
 * built with `gcloud dataflow flex-template build` (docs/pipeline.md).
 */
import { readFileSync } from "node:fs";
import { Command, InvalidArgumentError, Option } from "commander";
import { bucketName } from "../../contracts/defaults.js";
import { loadResources } from "../../infra/resources.js";

const METADATA = new URL("../../pipeline/beam/flex/metadata.json", import.meta.url);
const DATAFLOW_API = "https://dataflow.googleapis.com/v1b3";

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

/** The request body of flexTemplates.launch for the streaming pipeline. */
export function launchRequest(l: PipelineLaunch) {
  const bucket = `gs://${bucketName(loadResources().buckets.dataflow, l.project)}`;
  const parameters: Record<string, string> = { source: "pubsub", warehouse: "bigquery", bigquery_project: l.project };
  if (l.datasetPrefix) parameters.dataset_prefix = l.datasetPrefix;
  if (l.allowedLatenessDays !== undefined) parameters.allowed_lateness_days = String(l.allowedLatenessDays);
  const known = new Set((JSON.parse(readFileSync(METADATA, "utf8")) as { parameters: { name: string }[] }).parameters.map((p) => p.name));
  for (const name of Object.keys(parameters)) if (!known.has(name)) throw new Error(`internal error: ${name} is not a parameter of pipeline/beam/flex/metadata.json`);
  const image = l.image ?? `${l.region}-docker.pkg.dev/${l.project}/tideline/pipeline:latest`;
  return {
    method: "POST",
    url: `${DATAFLOW_API}/projects/${l.project}/locations/${l.region}/flexTemplates:launch`,
    body: {
      launchParameter: {
        jobName: l.jobName,
        containerSpecGcsPath: l.template ?? `${bucket}/templates/tideline-pipeline.json`,
        parameters,
        environment: {
          numWorkers: l.minWorkers,
          maxWorkers: l.maxWorkers,
          // Throughput-based autoscaling between numWorkers and maxWorkers.
          autoscalingAlgorithm: "AUTOSCALING_ALGORITHM_BASIC",
          enableStreamingEngine: true,
          additionalExperiments: ["use_runner_v2"],
          serviceAccountEmail: l.serviceAccount ?? `tideline-pipeline@${l.project}.iam.gserviceaccount.com`,
          tempLocation: l.tempLocation ?? `${bucket}/tmp`,
          stagingLocation: l.stagingLocation ?? `${bucket}/staging`,
          sdkContainerImage: image,
        },
      },
    },
  };
}

const positiveInt = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError("must be a whole number of at least 1");
  return n;
};

export function deployCommand(): Command {
  const deploy = new Command("deploy")
    .description("the deploy plan of an environment: Worker, Terraform, pipeline, DAGs (docs/deploy.md)")
    .option("--dry-run", "print the plan; nothing is sent (the only mode: the plan names the commands to run)")
    .addOption(new Option("--env <environment>", "wrangler.toml and Terraform environment").choices(["staging", "production"]).default("staging"))
    .option("--json", "the plan as JSON")
    .option("--no-bundle", "skip building the Worker bundle (wrangler deploy --dry-run)")
    // `deploy pipeline --dry-run`: options after the subcommand are the subcommand's own.
    .enablePositionalOptions()
    .action(async (o: { dryRun?: boolean; env: "staging" | "production"; json?: boolean; bundle: boolean }) => {
      if (!o.dryRun) {
        console.error("tideline deploy: only --dry-run is supported; it prints each step's command (docs/deploy.md). Run: npx tideline deploy --dry-run --env " + o.env);
        process.exitCode = 2;
        return;
      }
      const { deployPlan, formatPlan } = await import("../../infra/deploy/plan.js");
      const plan = await deployPlan(o.env, { bundle: o.bundle });
      console.log(o.json ? JSON.stringify(plan, null, 2) : formatPlan(plan));
      // Something missing: the plan is printed, and the exit status stops a script that would go on.
      if (plan.missing.length) process.exitCode = 1;
    });
  deploy
    .command("pipeline")
    .description("launch the Beam pipeline as a Dataflow Flex Template job (streaming from Pub/Sub into BigQuery)")
    .requiredOption("--project <id>", "Google Cloud project")
    .requiredOption("--region <region>", "Dataflow region, e.g. europe-west1")
    .option("--dry-run", "print the launch request instead of sending it")
    .option("--template <gs://…>", "template spec (default gs://<project>-dataflow/templates/tideline-pipeline.json)")
    .option("--image <image>", "pipeline image (default <region>-docker.pkg.dev/<project>/tideline/pipeline:latest)")
    .option("--service-account <email>", "worker service account (default tideline-pipeline@<project>.iam.gserviceaccount.com)")
    .option("--temp-location <gs://…>", "Dataflow temp files (default gs://<project>-dataflow/tmp)")
    .option("--staging-location <gs://…>", "Dataflow staging files (default gs://<project>-dataflow/staging)")
    .option("--min-workers <n>", "workers at start, the autoscaling floor", positiveInt, 1)
    .option("--max-workers <n>", "autoscaling ceiling", positiveInt, 5)
    .option("--dataset-prefix <prefix>", "prefix of the raw/core/ops datasets", "")
    .option("--allowed-lateness-days <days>", "horizon of late data (default 3)", (v) => Number(v))
    .option("--job-name <name>", "Dataflow job name", "tideline-pipeline")
    .action((o: PipelineLaunch & { dryRun?: boolean }) => {
      if (o.minWorkers > o.maxWorkers) {
        console.error(`tideline deploy pipeline: --min-workers ${o.minWorkers} is above --max-workers ${o.maxWorkers}`);
        process.exitCode = 2;
        return;
      }
      const request = launchRequest(o);
      if (!o.dryRun) {
        console.error(
          "tideline deploy pipeline: this command only prints the launch request (--dry-run); send it with credentials of the project, e.g.\n" +
            `  gcloud dataflow flex-template run ${o.jobName} --project ${o.project} --region ${o.region} --template-file-gcs-location ${request.body.launchParameter.containerSpecGcsPath} …\n` +
            "(docs/pipeline.md lists every flag).",
        );
        process.exitCode = 2;
        return;
      }
      console.log(JSON.stringify(request, null, 2));
    });
  return deploy;
}
export default deployCommand;

/**
 * `npx tideline deploy --dry-run [--env staging|production]`: the ordered plan of a whole deploy
 * (infra/deploy/plan.ts; docs/deploy.md).
 * `npx tideline deploy pipeline --dry-run --project P --region R`: the Dataflow Flex Template launch
 * of the Beam pipeline (pipeline/beam/flex), printed exactly as it would be sent to
 * projects.locations.flexTemplates.launch, without calling any API. The template spec and image are
 * built with `gcloud dataflow flex-template build` (docs/pipeline.md). What runs where in GCP is
 * platform/gcp/root.ts; this file only reads flags.
 */
import { Command, InvalidArgumentError, Option } from "commander";
import { launchRequest, PIPELINE_JOB_NAME, PIPELINE_WORKERS, type PipelineLaunch } from "../../platform/gcp/root.js";

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
    .option("--min-workers <n>", "workers at start, the autoscaling floor", positiveInt, PIPELINE_WORKERS.min)
    .option("--max-workers <n>", "autoscaling ceiling", positiveInt, PIPELINE_WORKERS.max)
    .option("--dataset-prefix <prefix>", "prefix of the raw/core/ops datasets", "")
    .option("--allowed-lateness-days <days>", "horizon of late data (default 3)", (v) => Number(v))
    .option("--job-name <name>", "Dataflow job name", PIPELINE_JOB_NAME)
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

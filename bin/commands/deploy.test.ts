import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const run = promisify(execFile);
const cli = (...args: string[]) => run(process.execPath, ["--import", "tsx", "bin/tideline.ts", ...args], { env: { ...process.env, NO_COLOR: "1" } });

describe("tideline deploy pipeline --dry-run", () => {
  it("prints the Flex Template launch request and calls no API", async () => {
    const { stdout } = await cli("deploy", "pipeline", "--dry-run", "--project", "acme-prod", "--region", "europe-west1", "--max-workers", "8", "--dataset-prefix", "prod_");
    expect(JSON.parse(stdout)).toEqual({
      method: "POST",
      url: "https://dataflow.googleapis.com/v1b3/projects/acme-prod/locations/europe-west1/flexTemplates:launch",
      body: {
        launchParameter: {
          jobName: "tideline-pipeline",
          containerSpecGcsPath: "gs://acme-prod-dataflow/templates/tideline-pipeline.json",
          parameters: { source: "pubsub", warehouse: "bigquery", bigquery_project: "acme-prod", dataset_prefix: "prod_" },
          environment: {
            numWorkers: 1,
            maxWorkers: 8,
            autoscalingAlgorithm: "AUTOSCALING_ALGORITHM_BASIC",
            enableStreamingEngine: true,
            additionalExperiments: ["use_runner_v2"],
            serviceAccountEmail: "tideline-pipeline@acme-prod.iam.gserviceaccount.com",
            tempLocation: "gs://acme-prod-dataflow/tmp",
            stagingLocation: "gs://acme-prod-dataflow/staging",
            sdkContainerImage: "europe-west1-docker.pkg.dev/acme-prod/tideline/pipeline:latest",
          },
        },
      },
    });
  });

  it("says what is wrong with bounds that cannot autoscale", async () => {
    const r = cli("deploy", "pipeline", "--dry-run", "--project", "p", "--region", "r", "--min-workers", "6", "--max-workers", "2");
    await expect(r).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining("--min-workers 6 is above --max-workers 2") });
  });
});

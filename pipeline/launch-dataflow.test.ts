import { describe, expect, it } from "vitest";
import { dataflowGraphOptions, dataflowPipelineOptions } from "./launch-dataflow.js";

describe("Dataflow launch options", () => {
  const l = { project: "acme-prod", region: "europe-west1", tempLocation: "gs://acme-df/tmp", datasetPrefix: "prod_" };

  it("reads every stream subscription the pipeline owns and writes the contract's tables", () => {
    expect(dataflowGraphOptions(l)).toEqual({
      kind: "dataflow",
      project: "acme-prod",
      subscriptions: {
        events: "projects/acme-prod/subscriptions/pipeline-events",
        webhooks: "projects/acme-prod/subscriptions/pipeline-webhooks",
        cdc: "projects/acme-prod/subscriptions/pipeline-cdc",
      },
      tables: { events: "acme-prod:prod_raw.events", webhooks: "acme-prod:prod_raw.webhooks", cdc: "acme-prod:prod_raw.cdc_changes" },
      deadLetterTable: "acme-prod:prod_ops.dead_letters",
    });
  });

  it("runs streaming on Runner v2 with Streaming Engine and bounded autoscaling", () => {
    expect(dataflowPipelineOptions({ ...l, maxWorkers: 3 })).toMatchObject({
      project: "acme-prod",
      region: "europe-west1",
      tempLocation: "gs://acme-df/tmp",
      streaming: true,
      experiments: ["use_runner_v2", "enable_streaming_engine"],
      maxNumWorkers: 3,
    });
  });
});

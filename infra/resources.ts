/**
 * Typed access to infra/resources.json, the topics, subscriptions and buckets Terraform reads;
 * it is generated from contracts/defaults.ts (`npm run generate`), and read here to check it.
 */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";

const Resources = z.object({
  /** Attributes the edge sets on every message (API.md). */
  messageAttributes: z.record(z.string(), z.string()),
  topics: z.array(z.object({ name: z.string().regex(/^[A-Za-z][\w.~+%-]{2,254}$/), description: z.string() })),
  subscriptions: z.array(
    z.object({
      name: z.string().regex(/^[A-Za-z][\w.~+%-]{2,254}$/),
      topic: z.string(),
      ackDeadlineSeconds: z.int().min(10).max(600),
      retentionSeconds: z.int(),
      enableMessageOrdering: z.boolean().optional(),
      /** Production only (the emulator ignores it): Pub/Sub redelivers nothing twice within the ack deadline. */
      enableExactlyOnceDelivery: z.boolean().optional(),
      /** The subscription of the dead-letter topic itself has no dead-letter policy. */
      noDeadLetter: z.boolean().optional(),
    }),
  ),
  /** Production only: the dead-letter policy of every subscription (Terraform). */
  deadLetter: z.object({ topic: z.string(), maxDeliveryAttempts: z.int().min(5).max(100) }),
  /** BigQuery datasets of the Dataform models (warehouse/dataform); raw, core and ops come from contracts/generated/bigquery. */
  modelDatasets: z.record(z.string().regex(/^[a-z_]+$/), z.string()),
  buckets: z.object({ raw: z.string(), landing: z.string(), dataflow: z.string(), composer: z.string() }),
});
export type Resources = z.infer<typeof Resources>;

export function loadResources(): Resources {
  const path = join(dirname(fileURLToPath(import.meta.url)), "resources.json");
  const r = Resources.parse(JSON.parse(readFileSync(path, "utf8")));
  for (const s of r.subscriptions) {
    if (!r.topics.some((t) => t.name === s.topic)) throw new Error(`infra/resources.json: subscription ${s.name} names unknown topic ${s.topic}`);
  }
  if (!r.topics.some((t) => t.name === r.deadLetter.topic)) throw new Error(`infra/resources.json: deadLetter names unknown topic ${r.deadLetter.topic}`);
  return r;
}

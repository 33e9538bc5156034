/**
 * Typed access to infra/resources.json, the topics, subscriptions and buckets Terraform reads;
 * it is generated from contracts/defaults.ts (`npm run generate`), and read here to check it.
 */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";

const Resources = z.object({
  topics: z.array(z.object({ name: z.string().regex(/^[A-Za-z][\w.~+%-]{2,254}$/), description: z.string() })),
  subscriptions: z.array(
    z.object({
      name: z.string().regex(/^[A-Za-z][\w.~+%-]{2,254}$/),
      topic: z.string(),
      ackDeadlineSeconds: z.int().min(10).max(600),
      retentionSeconds: z.int(),
      enableMessageOrdering: z.boolean().optional(),
    }),
  ),
  buckets: z.object({ raw: z.string(), landing: z.string() }),
});
export type Resources = z.infer<typeof Resources>;

export function loadResources(): Resources {
  const path = join(dirname(fileURLToPath(import.meta.url)), "resources.json");
  const r = Resources.parse(JSON.parse(readFileSync(path, "utf8")));
  for (const s of r.subscriptions) {
    if (!r.topics.some((t) => t.name === s.topic)) throw new Error(`infra/resources.json: subscription ${s.name} names unknown topic ${s.topic}`);
  }
  return r;
}

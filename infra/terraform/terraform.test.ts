/** Terraform is not runnable here: parse the HCL and check what it declares and grants. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "@cdktf/hcl2json";
import { expect, it } from "vitest";
import { loadResources } from "../resources.js";

const dir = join(import.meta.dirname, ".");
const hcl = async () => (await parse("main.tf", readFileSync(join(dir, "main.tf"), "utf8"))) as Record<string, any>;

it("reads topics, subscriptions and buckets from the same resources.json as the local launcher", async () => {
  const tf = await hcl();
  expect(tf.locals[0].resources).toBe('${jsondecode(file("${path.module}/../resources.json"))}');
  expect(tf.resource.google_pubsub_topic.topic[0].for_each).toBe("${local.topics}");
  expect(tf.resource.google_pubsub_subscription.subscription[0].for_each).toBe("${local.subs}");
  const r = loadResources();
  expect(r.topics.map((t) => t.name)).toEqual(expect.arrayContaining(["events", "webhooks", "cdc", "dead-letters"]));
  expect(r.subscriptions.find((s) => s.topic === "cdc")?.enableMessageOrdering).toBe(true);
});

it("ages the raw archive Standard → Nearline (30 d) → Coldline (90 d) → Archive (365 d)", async () => {
  const raw = (await hcl()).resource.google_storage_bucket.raw[0];
  const rules = raw.lifecycle_rule.map((r: any) => [r.condition[0].age, r.action[0].storage_class ?? r.action[0].type]);
  expect(rules).toEqual([
    [30, "NEARLINE"],
    [90, "COLDLINE"],
    [365, "ARCHIVE"],
  ]);
  expect(raw.public_access_prevention).toBe("enforced");
  expect(raw.uniform_bucket_level_access).toBe(true);
});

it("gives the edge only publish and object-create rights (least privilege)", async () => {
  const tf = await hcl();
  const grants = [
    ...tf.resource.google_pubsub_topic_iam_member.edge_publish.map((g: any) => g.role),
    ...tf.resource.google_storage_bucket_iam_member.edge_raw_create.map((g: any) => g.role),
    ...tf.resource.google_storage_bucket_iam_member.edge_landing_create.map((g: any) => g.role),
  ];
  expect(new Set(grants)).toEqual(new Set(["roles/pubsub.publisher", "roles/storage.objectCreator"]));
  const text = readFileSync(join(dir, "main.tf"), "utf8");
  expect(text).not.toMatch(/roles\/(owner|editor|storage\.admin|pubsub\.admin|storage\.objectAdmin)/);
});

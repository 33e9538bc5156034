/** The defaults written once in contracts/defaults.ts are the ones the other files carry. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { DEV_CREDENTIALS, DEV_WEBHOOK_SOURCE, DEV_WRITE_KEY_SOURCE, LOCAL_PORTS, LOCAL_PROJECT, landingBucket, rawBucket, resourcesDocument } from "./defaults.js";
import { repoFiles } from "./generate.js";

const ROOT = join(import.meta.dirname, "..");

/** The top-level [vars] of wrangler.toml (local development), as written: KEY = "…" or '…'. */
function wranglerDevVars(): Record<string, string> {
  const text = readFileSync(join(ROOT, "wrangler.toml"), "utf8");
  const section = text.split(/^\[vars\]\s*$/m)[1]!.split(/^\[/m)[0]!;
  const vars: Record<string, string> = {};
  for (const m of section.matchAll(/^(\w+)\s*=\s*(?:"([^"]*)"|'([^']*)')\s*$/gm)) vars[m[1]!] = m[2] ?? m[3]!;
  return vars;
}

describe("contracts/defaults.ts", () => {
  it("wrangler.toml's development vars carry the same credentials, project, emulator ports and buckets", () => {
    const v = wranglerDevVars();
    expect(JSON.parse(v.WRITE_KEYS!)).toEqual({ [DEV_CREDENTIALS.writeKey.value]: DEV_WRITE_KEY_SOURCE });
    expect(JSON.parse(v.WEBHOOK_SECRETS!)).toEqual({ [DEV_WEBHOOK_SOURCE]: DEV_CREDENTIALS.webhookSecret.value });
    expect(Object.keys(JSON.parse(v.BULK_TOKENS!)).sort()).toEqual([DEV_CREDENTIALS.bulkShopifyToken.value, DEV_CREDENTIALS.bulkToken.value].sort());
    expect(v.SHOPIFY_SECRET).toBe(DEV_CREDENTIALS.shopifySecret.value);
    expect(v.HUBSPOT_SECRET).toBe(DEV_CREDENTIALS.hubspotSecret.value);
    expect(v.CDC_TOKEN).toBe(DEV_CREDENTIALS.cdcToken.value);
    expect(v.GCP_PROJECT).toBe(LOCAL_PROJECT);
    expect(v.PUBSUB_EMULATOR_HOST).toBe(`127.0.0.1:${LOCAL_PORTS.pubsub.port}`);
    expect(v.STORAGE_EMULATOR_HOST).toBe(`http://127.0.0.1:${LOCAL_PORTS.gcs.port}`);
    expect(v.RAW_BUCKET).toBe(rawBucket(LOCAL_PROJECT));
    expect(v.LANDING_BUCKET).toBe(landingBucket(LOCAL_PROJECT));
  });

  it("infra/resources.json (Terraform's list) and the Dataform declarations are generated from contracts/", () => {
    for (const [name, content] of repoFiles()) expect(readFileSync(join(ROOT, name), "utf8"), name).toBe(content);
    expect(JSON.parse(repoFiles().get("infra/resources.json")!)).toEqual(resourcesDocument());
  });
});

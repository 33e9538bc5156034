/**
 * The least-privilege matrix: infra/terraform/iam.tf's local.grants and the table in
 * docs/security.md ("Google Cloud: least privilege") must be the same rows, and every IAM resource
 * of the configuration must grant from that list.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { loadResources } from "../resources.js";
import { allResources, loadConfig, type TerraformConfig } from "./config.js";

interface Grant {
  who: string;
  role: string;
  on: string[];
}

const SECURITY_MD = join(import.meta.dirname, "../../docs/security.md");
const HEADING = "## Google Cloud: least privilege";

/** Roles that exist only at project level (jobs and workers are project resources). */
const PROJECT_ONLY_ROLES = new Set(["roles/bigquery.jobUser", "roles/dataflow.worker", "roles/dataflow.developer", "roles/composer.worker"]);
const PRIMITIVE = /^roles\/(owner|editor|viewer)$/;

const triples = (grants: Grant[]) => grants.flatMap((g) => g.on.map((o) => `${g.who} | ${g.role} | ${o}`));

/** The rows of the first table under HEADING. */
export function matrixFromDocs(markdown: string): Grant[] {
  const start = markdown.indexOf(HEADING);
  if (start < 0) throw new Error(`docs/security.md has no section "${HEADING}"`);
  const lines = markdown.slice(start).split("\n");
  const first = lines.findIndex((l) => l.startsWith("| principal |"));
  const rows: Grant[] = [];
  for (const line of lines.slice(first + 2)) {
    if (!line.startsWith("|")) break;
    const [who, role, on] = line.split("|").slice(1, 4).map((c) => c.trim());
    rows.push({ who: who!, role: role!, on: on!.split(",").map((s) => s.trim()) });
  }
  return rows;
}

describe("least privilege (iam.tf ⇔ docs/security.md)", () => {
  let tf: TerraformConfig;
  let grants: Grant[];
  beforeAll(async () => {
    tf = await loadConfig();
    grants = tf.locals.grants as Grant[];
  });

  it("grants exactly the documented roles: none missing from the docs, none extra in Terraform", () => {
    const documented = triples(matrixFromDocs(readFileSync(SECURITY_MD, "utf8")));
    const granted = triples(grants);
    expect(new Set(documented).size, "a row of the docs' matrix is repeated").toBe(documented.length);
    expect(new Set(granted).size, "a grant in iam.tf is repeated").toBe(granted.length);
    expect(granted.filter((g) => !documented.includes(g)), "granted in iam.tf, missing in docs/security.md").toEqual([]);
    expect(documented.filter((d) => !granted.includes(d)), "in docs/security.md, not granted by iam.tf").toEqual([]);
  });

  it("has no primitive or admin roles, and no project grant where a resource grant serves", () => {
    for (const g of grants) {
      expect(g.role, `${g.who}`).not.toMatch(PRIMITIVE);
      expect(g.role, `${g.who}`).not.toMatch(/\.admin$|^roles\/iam\.(securityAdmin|serviceAccountAdmin|serviceAccountKeyAdmin)$/);
      if (g.on.includes("project")) expect(PROJECT_ONLY_ROLES.has(g.role), `${g.who} gets ${g.role} on the whole project`).toBe(true);
      if (g.role === "roles/iam.serviceAccountUser" || g.role === "roles/iam.serviceAccountTokenCreator") {
        expect(g.on.every((o) => o.startsWith("service_account:")), `${g.who}: ${g.role} only on named service accounts`).toBe(true);
      }
    }
  });

  it("names only principals and resources that exist", () => {
    const members = tf.locals.members as Record<string, string>;
    const r = loadResources();
    const known: Record<string, string[]> = {
      topic: r.topics.map((t) => t.name),
      subscription: r.subscriptions.map((s) => s.name),
      bucket: Object.keys(tf.locals.bucket_names as object),
      dataset: ["raw", "core", "ops", ...Object.keys(r.modelDatasets)],
      service_account: Object.keys(tf.locals.service_accounts as object),
      kms_key: JSON.parse((tf.locals.kms_keys as string).replace(/^\$\{toset\((.*)\)\}$/s, "$1")) as string[],
      artifact_repository: ["tideline"],
      dataform_repository: ["tideline"],
      project: [""],
    };
    for (const g of grants) {
      expect(members[g.who], `principal ${g.who}`).toBeDefined();
      for (const o of g.on) {
        const [kind, name = ""] = o.split(":");
        expect(known[kind!], `kind ${kind} (${o})`).toBeDefined();
        expect(known[kind!], `${g.who} ${g.role} on ${o}`).toContain(name);
      }
    }
    // Every principal is a service account or a group, never a user or everyone.
    for (const m of Object.values(members)) expect(m).toMatch(/^(serviceAccount|group):/);
  });

  it("has one IAM resource per kind, each granting from local.grants and nothing else", () => {
    const iam = allResources(tf).filter(([type]) => /_iam_(member|binding|policy)$/.test(type));
    expect(iam.length).toBeGreaterThan(5);
    for (const [type, name, body] of iam) {
      expect(type, "authoritative bindings and policies would remove grants made elsewhere").toMatch(/_iam_member$/);
      expect(body.for_each, `${type}.${name}`).toMatch(/^\$\{(try\()?local\.grants_of\["[a-z_]+"\]/);
      expect(body.member, `${type}.${name}`).toBe("${local.members[each.value.who]}");
      expect(body.role, `${type}.${name}`).toBe("${each.value.role}");
    }
    const kinds = iam.map(([, , b]) => /grants_of\["([a-z_]+)"\]/.exec(b.for_each as string)![1]);
    expect(new Set(kinds)).toEqual(new Set(grants.flatMap((g) => g.on.map((o) => o.split(":")[0]))));
  });

  it("creates one service account per component and no keys (the edge's key is made by hand, docs/deploy.md)", () => {
    expect(Object.keys(tf.locals.service_accounts as object).sort()).toEqual(["composer", "dataform", "edge", "pipeline"]);
    expect(tf.resources.google_service_account_key).toBeUndefined();
  });
});

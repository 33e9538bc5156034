/**
 * OpenTofu (built from the Go module proxy: infra/tools/opentofu) over infra/terraform: formatting,
 * and validation as far as it goes without the Google provider. The provider cannot be built here
 * (the module proxy serves terraform-provider-google at v1.20.0 from 2018 only; docs/deploy.md), so
 * validation stops at "Missing required provider" once the configuration has loaded: syntax, block
 * structure, duplicate names, type specifications and variable declarations are checked by then.
 */
import { execFile } from "node:child_process";
import { copyFileSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { TERRAFORM_DIR } from "./config.js";
import { TOFU, tofuProblem } from "./tofu.js";

const run = (args: string[], cwd = TERRAFORM_DIR) =>
  promisify(execFile)(TOFU, args, { cwd, env: { ...process.env, TF_CLI_CONFIG_FILE: "/dev/null", TF_IN_AUTOMATION: "1" } }).then(
    (r) => ({ code: 0, ...r }),
    (e: { code: number; stdout: string; stderr: string }) => e,
  );

interface Validation {
  valid: boolean;
  diagnostics: { severity: string; summary: string; detail: string }[];
}

/** A copy of the configuration with one file added, to show that validation catches what it should. */
function copyWith(name: string, text: string): string {
  const dir = mkdtempSync(join(tmpdir(), "tideline-tf-"));
  for (const f of readdirSync(TERRAFORM_DIR).filter((f) => f.endsWith(".tf"))) copyFileSync(join(TERRAFORM_DIR, f), join(dir, f));
  writeFileSync(join(dir, name), text);
  return dir;
}

describe("OpenTofu over infra/terraform", () => {
  beforeAll(() => {
    const problem = tofuProblem();
    if (problem) throw new Error(problem);
  });

  it("is formatted (tofu fmt -check)", async () => {
    const r = await run(["fmt", "-check", "-recursive", "-no-color"]);
    expect(r.stdout, "these files need `tofu fmt`").toBe("");
    expect(r.code).toBe(0);
  });

  it("loads: validate reports nothing but the two providers it cannot install here", async () => {
    const r = await run(["validate", "-json", "-no-color"]);
    const v = JSON.parse(r.stdout) as Validation;
    expect(v.diagnostics.map((d) => `${d.summary}: ${d.detail.split("\n")[0]}`)).toEqual([
      expect.stringMatching(/^Missing required provider: .*hashicorp\/google,/),
      expect.stringMatching(/^Missing required provider: .*hashicorp\/google-beta,/),
    ]);
  });

  it("would report a broken configuration before the providers (so the check above can fail)", async () => {
    const dir = copyWith("broken.tf", 'variable "x" {\n  type = strin\n}\nresource "google_pubsub_topic" "topic" {\n  name = "again"\n}\n');
    try {
      const v = JSON.parse((await run(["validate", "-json", "-no-color"], dir)).stdout) as Validation;
      const summaries = v.diagnostics.map((d) => d.summary);
      expect(summaries).toContain("Invalid type specification");
      expect(summaries).not.toContain("Missing required provider");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

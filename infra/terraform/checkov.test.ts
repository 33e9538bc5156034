/**
 * checkov (pinned in infra/requirements.lock, venv .venv/infra from `bash infra/local/setup.sh infra`)
 * over infra/: no failed check, no parsing error, and every skip carries its reason in the code
 * (`#checkov:skip=<id>:<reason>` next to the resource).
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { expect, it } from "vitest";
import { REPO_ROOT } from "../local/settings.js";

const CHECKOV = join(REPO_ROOT, ".venv/infra/bin/checkov");

interface CheckovReport {
  check_type: string;
  summary: { passed: number; failed: number; skipped: number; parsing_errors: number };
  results: {
    failed_checks: { check_id: string; resource: string; file_path: string; check_name: string }[];
    skipped_checks: { check_id: string; resource: string; check_result: { suppress_comment?: string } }[];
  };
}

it("passes every check over infra/, skips only with a reason", { timeout: 600_000 }, async () => {
  expect(existsSync(CHECKOV), "checkov is not installed: run `bash infra/local/setup.sh infra`").toBe(true);
  // --skip-download: no calls to Prisma Cloud for guidelines (offline, and nothing to send).
  const { stdout } = await promisify(execFile)(CHECKOV, ["-d", "infra", "-o", "json", "--skip-download", "--compact"], {
    cwd: REPO_ROOT,
    maxBuffer: 64 * 1024 * 1024,
    env: { ...process.env, LOG_LEVEL: "ERROR" },
  }).catch((e: { stdout?: string; code?: number }) => {
    // Exit 1 means failed checks: still a report to show.
    if (e.code === 1 && e.stdout) return { stdout: e.stdout };
    throw e;
  });
  const parsed = JSON.parse(stdout) as CheckovReport | CheckovReport[];
  const reports = Array.isArray(parsed) ? parsed : [parsed];
  const tf = reports.find((r) => r.check_type === "terraform");
  expect(tf?.summary.passed, "checkov found no Terraform to check").toBeGreaterThan(50);
  for (const r of reports) {
    expect(r.summary.parsing_errors, r.check_type).toBe(0);
    expect(r.results.failed_checks.map((f) => `${f.check_id} ${f.resource} (${f.file_path}): ${f.check_name}`)).toEqual([]);
    for (const s of r.results.skipped_checks) expect(s.check_result.suppress_comment ?? "", `${s.check_id} on ${s.resource} is skipped without a reason`).toMatch(/\w{3,}.*\w{3,}/);
  }
});

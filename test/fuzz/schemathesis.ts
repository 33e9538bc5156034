/**
 * schemathesis (PyPI, pinned in test/fuzz/requirements.lock, built into .venv/fuzz by
 * `infra/local/setup.sh fuzz`) against the running edge's /v1/openapi.json: every operation, with
 * the checks for server errors and for answers that do not match the document. The operations are
 * run once per credential the document names (the SDK write key, the CDC token, the bulk token) so
 * the fuzzer gets past authentication; webhook routes need a signature over the body the fuzzer
 * makes up, so they are fuzzed unauthenticated (their refusals must still be documented 4xx).
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { REPO_ROOT } from "../../infra/local/settings.js";
import { LOCAL_CREDENTIALS } from "../../workload/send.js";

export const SCHEMATHESIS = join(REPO_ROOT, ".venv/fuzz/bin/schemathesis");
export const CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,response_headers_conformance";

export function schemathesisMissing(): string | null {
  return existsSync(SCHEMATHESIS) ? null : "schemathesis is not installed (.venv/fuzz): run infra/local/setup.sh fuzz";
}

interface Group {
  name: string;
  headers: string[];
  include: string[];
}

const basic = `Basic ${Buffer.from(`${LOCAL_CREDENTIALS.writeKey}:`).toString("base64")}`;
export const GROUPS: Group[] = [
  { name: "sdk", headers: [`Authorization: ${basic}`], include: ["--include-path-regex", "^/v1/(batch|import|track|identify|page|screen|group|alias|t|i|p|s|g|a)$"] },
  { name: "cdc", headers: [`Authorization: Bearer ${LOCAL_CREDENTIALS.cdcToken}`], include: ["--include-path-regex", "^/v1/cdc"] },
  { name: "bulk", headers: ["Authorization: Bearer local_bulk_token"], include: ["--include-path-regex", "^/v1/bulk"] },
  { name: "rest", headers: [], include: ["--exclude-path-regex", "^/v1/(batch|import|track|identify|page|screen|group|alias|t|i|p|s|g|a|cdc)$|^/v1/bulk"] },
];

export interface FuzzResult {
  group: string;
  code: number | null;
  output: string;
}

/**
 * Waits while the edge refuses this IP after too many failed authentications (429 with
 * Retry-After, even on /v1/openapi.json): a group's missing-credential cases can trip the limit,
 * and the next group could not even load the document (a longer `npm run proof` fuzz run did).
 */
async function waitUntilNotBlocked(edgeUrl: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await fetch(`${edgeUrl}/v1/openapi.json`);
    await res.arrayBuffer();
    if (res.status !== 429) return;
    if (Date.now() > deadline) throw new Error(`the edge still answers 429 to /v1/openapi.json after ${timeoutMs / 1000} s`);
    const wait = Math.min(Number(res.headers.get("retry-after") ?? "5"), 10);
    await new Promise((r) => setTimeout(r, Math.max(1, wait) * 1000));
  }
}

export async function fuzzEdge(edgeUrl: string, o: { maxExamples: number; seed?: number; groups?: Group[] }): Promise<FuzzResult[]> {
  const out: FuzzResult[] = [];
  for (const g of o.groups ?? GROUPS) {
    await waitUntilNotBlocked(edgeUrl);
    const args = [
      "run",
      `${edgeUrl}/v1/openapi.json`,
      "--checks", CHECKS,
      "--max-examples", String(o.maxExamples),
      "--seed", String(o.seed ?? 1),
      "--workers", "1",
      "--request-timeout", "20",
      "--no-color",
      ...g.include,
      ...g.headers.flatMap((h) => ["-H", h]),
    ];
    const child = spawn(SCHEMATHESIS, args, { cwd: REPO_ROOT, env: { ...process.env, NO_COLOR: "1", PYTHONPATH: join(REPO_ROOT, "test/fuzz"), SCHEMATHESIS_HOOKS: "hooks" }, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (b: Buffer) => (output += b.toString()));
    child.stderr.on("data", (b: Buffer) => (output += b.toString()));
    const code = await new Promise<number | null>((r) => child.once("exit", r));
    out.push({ group: g.name, code, output });
  }
  return out;
}

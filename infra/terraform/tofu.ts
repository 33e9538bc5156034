/**
 * OpenTofu for the infra/ checks, pinned by infra/tools/opentofu/go.mod and built with the Go
 * toolchain into .tools/bin/tofu (once; a binary whose stamp matches the pin is reused). The stamp
 * has the same form as the other Go tools' in infra/tools, so either builder's binary is accepted.
 *
 *   node --import tsx infra/terraform/tofu.ts build     (what `infra/local/setup.sh infra` runs)
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { REPO_ROOT } from "../local/settings.js";

const MODULE = "github.com/opentofu/opentofu";
const PKG = "github.com/opentofu/opentofu/cmd/tofu";
const PIN_DIR = join(REPO_ROOT, "infra/tools/opentofu");
export const TOOLS_BIN = process.env.TIDELINE_TOOLS_BIN ? resolve(process.env.TIDELINE_TOOLS_BIN) : join(REPO_ROOT, ".tools/bin");
export const TOFU = join(TOOLS_BIN, "tofu");
const STAMP = join(TOOLS_BIN, "tofu.stamp");

export function pinnedVersion(): string {
  const m = /^\s*(?:require\s+)?github\.com\/opentofu\/opentofu\s+(v\S+)/m.exec(readFileSync(join(PIN_DIR, "go.mod"), "utf8"));
  if (!m) throw new Error(`infra/tools/opentofu/go.mod does not require ${MODULE}`);
  return m[1]!;
}

function expectedStamp(): string {
  const h = createHash("sha256");
  for (const f of readdirSync(PIN_DIR).filter((f) => f === "go.mod" || f === "go.sum" || f.endsWith(".go")).sort()) {
    h.update(f).update("\0").update(readFileSync(join(PIN_DIR, f))).update("\0");
  }
  return `${MODULE}@${pinnedVersion()} ${h.digest("hex").slice(0, 16)}`;
}

/** Why tofu cannot run now and what to do, or null when the pinned build is there. */
export function tofuProblem(): string | null {
  if (!existsSync(TOFU)) return `OpenTofu is not built (.tools/bin/tofu is missing): run \`bash infra/local/setup.sh infra\` (needs Go 1.26).`;
  const stamp = existsSync(STAMP) ? readFileSync(STAMP, "utf8").trim() : "";
  if (stamp !== expectedStamp()) return `.tools/bin/tofu was built from ${stamp.split(" ")[0] || "an unknown version"}, and infra/tools/opentofu pins ${MODULE}@${pinnedVersion()}: run \`bash infra/local/setup.sh infra\`.`;
  return null;
}

export function buildTofu(): number {
  const problem = tofuProblem();
  if (!problem) {
    console.error(`[setup] OpenTofu ${pinnedVersion()} is built (.tools/bin/tofu)`);
    return 0;
  }
  const go = spawnSync("go", ["env", "GOVERSION"], { encoding: "utf8" });
  if (go.error || go.status !== 0) {
    console.error("[setup] Go 1.26 was not found on PATH; it builds OpenTofu for the infra/ checks. Install Go 1.26 or later, then run `bash infra/local/setup.sh infra`.");
    return 1;
  }
  mkdirSync(TOOLS_BIN, { recursive: true });
  const tmp = `${TOFU}.tmp-${process.pid}`;
  const started = Date.now();
  console.error(`[setup] building OpenTofu ${pinnedVersion()} with ${go.stdout.trim()} (a few minutes the first time)…`);
  // `go build -o` inside the pinning module, not `go install module@v`: the pin's replace directive
  // (OpenTofu's HCL fork) applies only there.
  const r = spawnSync("go", ["build", "-ldflags=-s -w -X github.com/opentofu/opentofu/version.dev=no", "-o", tmp, PKG], {
    cwd: PIN_DIR,
    env: { ...process.env, CGO_ENABLED: "0", GOFLAGS: [process.env.GOFLAGS, "-mod=readonly"].filter(Boolean).join(" ") },
    stdio: ["ignore", "inherit", "inherit"],
  });
  if (r.status !== 0) {
    rmSync(tmp, { force: true });
    console.error(`[setup] building OpenTofu failed (go build exited with ${r.status}); the output above says why.`);
    return 1;
  }
  renameSync(tmp, TOFU);
  writeFileSync(STAMP, `${expectedStamp()}\n`);
  console.error(`[setup] OpenTofu ${pinnedVersion()} built in ${Math.round((Date.now() - started) / 1000)} s (.tools/bin/tofu)`);
  return 0;
}

if (process.argv[1] && /tofu\.ts$/.test(process.argv[1])) {
  if (process.argv[2] === "build") process.exitCode = buildTofu();
  else {
    console.error("usage: node --import tsx infra/terraform/tofu.ts build");
    process.exitCode = 2;
  }
}

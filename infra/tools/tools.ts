/**
 * The Go tools tideline builds into `.tools/bin/` (gitignored): which module each pins (its folder's
 * go.mod and go.sum are the pin), who needs it, and whether a built binary matches the pin. The
 * builder (build.ts) and everything that starts a tool (launchers, tests, benches) read this list.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { PrerequisiteError } from "../local/prerequisite.js";
import { REPO_ROOT } from "../local/settings.js";

/** Where the tools are built; TIDELINE_TOOLS_BIN moves it (tests). */
export const TOOLS_BIN = process.env.TIDELINE_TOOLS_BIN ? resolve(process.env.TIDELINE_TOOLS_BIN) : join(REPO_ROOT, ".tools/bin");
/** The Go release the pins are tested with; older ones are refused with this name. */
export const GO_VERSION = "1.26";

export interface GoTool {
  /** Binary name in .tools/bin. */
  name: string;
  /** Folder under infra/tools holding the go.mod that pins it. */
  dir: string;
  /** The upstream module whose version is pinned (read from go.mod). */
  module: string;
  /** Main package to build: "." for a main package of our own in `dir`. */
  pkg: string;
  what: string;
  /** Who needs it, for messages. */
  neededBy: string;
  /** Built by `npm install` (postinstall); prism by `infra/local/setup.sh go`, the BigQuery emulator by its own step. */
  postinstall: boolean;
  /** Extra environment for `go build` (cgo tools). */
  env?: Record<string, string>;
  /** Programs the build needs besides Go, with the Debian package that provides each. */
  needs?: { program: string; debian: string; why: string }[];
}

export const GO_TOOLS: readonly GoTool[] = [
  {
    name: "gcs-emulator",
    dir: "gcs-emulator",
    module: "github.com/fsouza/fake-gcs-server",
    pkg: ".",
    what: "the Cloud Storage emulator (fake-gcs-server)",
    neededBy: "npm start, the tests and the benches",
    postinstall: true,
    env: { CGO_ENABLED: "0" },
  },
  {
    name: "prism",
    dir: "prism",
    module: "github.com/apache/beam/sdks/v2",
    pkg: "github.com/apache/beam/sdks/v2/go/cmd/prism",
    what: "the Beam Prism runner",
    neededBy: "npm start -- --engine beam, the Beam tests and benches",
    postinstall: false,
    env: { CGO_ENABLED: "0" },
  },
  {
    name: "bigquery-emulator",
    dir: "bigquery-emulator",
    module: "github.com/goccy/bigquery-emulator",
    pkg: "github.com/goccy/bigquery-emulator/cmd/bigquery-emulator",
    what: "the BigQuery emulator (goccy/bigquery-emulator)",
    neededBy: "npm start -- --engine beam, the BigQuery tests and benches",
    postinstall: false,
    // go-zetasql's C++ (ZetaSQL) only compiles with clang; GCC 12 stops with errors.
    env: { CGO_ENABLED: "1", CC: "clang", CXX: "clang++" },
    needs: [{ program: "clang++", debian: "clang", why: "go-zetasql's C++ only compiles with clang" }],
  },
];

export function goTool(name: string): GoTool {
  const t = GO_TOOLS.find((x) => x.name === name);
  if (!t) throw new Error(`no Go tool named ${name}; known: ${GO_TOOLS.map((x) => x.name).join(", ")}`);
  return t;
}

export const toolDir = (t: GoTool) => join(REPO_ROOT, "infra/tools", t.dir);
export const toolPath = (t: GoTool) => join(TOOLS_BIN, t.name);
const stampPath = (t: GoTool) => join(TOOLS_BIN, `${t.name}.stamp`);

/** The version go.mod requires of the tool's module. */
export function pinnedVersion(t: GoTool): string {
  const mod = readFileSync(join(toolDir(t), "go.mod"), "utf8");
  const esc = t.module.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
  const m = new RegExp(`^\\s*(?:require\\s+)?${esc}\\s+(v\\S+)`, "m").exec(mod);
  if (!m) throw new Error(`infra/tools/${t.dir}/go.mod does not require ${t.module}`);
  return m[1]!;
}

/** What a built binary must have been built from: the pinned version and the folder's sources. */
export function expectedStamp(t: GoTool): string {
  const dir = toolDir(t);
  const h = createHash("sha256");
  for (const f of readdirSync(dir).filter((f) => f === "go.mod" || f === "go.sum" || f.endsWith(".go")).sort()) {
    h.update(f).update("\0").update(readFileSync(join(dir, f))).update("\0");
  }
  return `${t.module}@${pinnedVersion(t)} ${h.digest("hex").slice(0, 16)}`;
}

export type ToolState = { state: "ready"; path: string } | { state: "missing" | "stale"; path: string; built?: string };

export function toolState(t: GoTool): ToolState {
  const path = toolPath(t);
  if (!existsSync(path)) return { state: "missing", path };
  const stamp = existsSync(stampPath(t)) ? readFileSync(stampPath(t), "utf8").trim() : "";
  if (stamp !== expectedStamp(t)) return { state: "stale", path, built: stamp.split(" ")[0] || "an unknown version" };
  return { state: "ready", path };
}

export function stampFile(t: GoTool): string {
  return stampPath(t);
}

/** The command that builds a tool: npm install's own step, or the set-up script's go step. */
export function buildCommand(t: GoTool): string {
  if (t.postinstall) return "npm run tools";
  return t.name === "bigquery-emulator" ? "bash infra/local/setup.sh bigquery-emulator" : "bash infra/local/setup.sh go";
}

/** Why a tool cannot be used right now and what to run, or null when it is ready. */
export function toolProblem(t: GoTool): string | null {
  const s = toolState(t);
  if (s.state === "ready") return null;
  const head =
    s.state === "missing"
      ? `${t.what} is not built (${s.path} is missing); ${t.neededBy} need it.`
      : `${t.what} (${s.path}) was built from ${s.built}, and this checkout pins ${t.module}@${pinnedVersion(t)}.`;
  return `${head} Build it with \`${buildCommand(t)}\` (needs Go ${GO_VERSION} or later${t.needs ? ` and ${t.needs.map((n) => n.program).join(", ")}` : ""}).`;
}

/** The path of a ready tool; otherwise a PrerequisiteError naming what to run. */
export function requireTool(name: string): string {
  const t = goTool(name);
  const problem = toolProblem(t);
  if (problem) throw new PrerequisiteError(problem);
  return toolPath(t);
}

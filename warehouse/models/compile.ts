/**
 * Compiles the Dataform project with the Dataform CLI, offline. The CLI either installs the
 * `dataformCoreVersion` of workflow_settings.yaml with npm (network) or loads
 * `<project>/node_modules/@dataform/core/bundle.js` pinned by the project's package.json; we use
 * the second way and place the root install's core bundle there (a copy, because the CLI's sandbox
 * refuses modules whose real path is outside the project).
 */
import { execFile } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

export type Dialect = "duckdb" | "bigquery";

export const PROJECT_DIR = resolve(dirname(fileURLToPath(import.meta.url)), "../dataform");

export interface Target {
  database?: string;
  schema: string;
  name: string;
}

export interface ColumnDescriptor {
  description?: string;
  path: string[];
}

export interface CompiledTable {
  type: "table" | "view" | "incremental";
  target: Target;
  query: string;
  incrementalQuery?: string;
  uniqueKey?: string[];
  preOps?: string[];
  postOps?: string[];
  dependencyTargets?: Target[];
  tags?: string[];
  disabled?: boolean;
  fileName: string;
  bigquery?: { partitionBy?: string; clusterBy?: string[]; updatePartitionFilter?: string; requirePartitionFilter?: boolean };
  actionDescriptor?: { description?: string; columns?: ColumnDescriptor[] };
}

export interface CompiledAssertion {
  target: Target;
  query: string;
  dependencyTargets?: Target[];
  parentAction?: Target;
  tags?: string[];
  disabled?: boolean;
  fileName: string;
  actionDescriptor?: { description?: string };
}

export interface CompiledOperation {
  target: Target;
  queries: string[];
  dependencyTargets?: Target[];
  tags?: string[];
  disabled?: boolean;
  fileName: string;
}

export interface CompiledGraph {
  tables?: CompiledTable[];
  assertions?: CompiledAssertion[];
  operations?: CompiledOperation[];
  declarations?: { target: Target; fileName: string; actionDescriptor?: { description?: string } }[];
  projectConfig: { defaultDatabase?: string; vars?: Record<string, string> };
  graphErrors?: { compilationErrors?: { fileName?: string; message?: string; actionName?: string }[] };
  dataformCoreVersion?: string;
}

export class CompileError extends Error {
  override name = "CompileError";
}

const require = createRequire(import.meta.url);

/** Copies the root install's @dataform/core into the project (idempotent, no network). */
export function ensureCore(projectDir = PROJECT_DIR): void {
  const src = dirname(require.resolve("@dataform/core/package.json"));
  const dest = join(projectDir, "node_modules", "@dataform", "core");
  const version = (p: string) => (JSON.parse(readFileSync(join(p, "package.json"), "utf8")) as { version: string }).version;
  if (existsSync(join(dest, "bundle.js")) && version(dest) === version(src)) return;
  mkdirSync(dest, { recursive: true });
  for (const f of ["bundle.js", "package.json"]) copyFileSync(join(src, f), join(dest, f));
}

function cliPath(): string {
  return join(dirname(require.resolve("@dataform/cli/package.json")), "bundle.js");
}

/** `dataform compile --json --vars=dialect=<dialect>`; throws CompileError listing every compilation error. */
export async function compileProject(
  dialect: Dialect,
  opts: { projectDir?: string; vars?: Record<string, string>; /** BigQuery project id (default: workflow_settings.yaml). */ defaultDatabase?: string } = {},
): Promise<CompiledGraph> {
  const projectDir = opts.projectDir ?? PROJECT_DIR;
  ensureCore(projectDir);
  const varArg = Object.entries({ ...opts.vars, dialect }).map(([k, v]) => `${k}=${v}`).join(",");
  const extra = opts.defaultDatabase ? [`--default-database=${opts.defaultDatabase}`] : [];
  let stdout: string;
  try {
    ({ stdout } = await promisify(execFile)(process.execPath, [cliPath(), "compile", projectDir, "--json", `--vars=${varArg}`, ...extra], {
      maxBuffer: 64 * 1024 * 1024,
      env: { ...process.env, NO_COLOR: "1" },
    }));
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; message: string };
    throw new CompileError(`dataform compile failed: ${(err.stderr || err.stdout || err.message).trim()}`);
  }
  let graph: CompiledGraph;
  try {
    graph = JSON.parse(stdout) as CompiledGraph;
  } catch {
    throw new CompileError(`dataform compile printed no JSON graph: ${stdout.slice(0, 500)}`);
  }
  const errors = graph.graphErrors?.compilationErrors ?? [];
  if (errors.length > 0) {
    throw new CompileError(
      `the Dataform project has ${errors.length} compilation error(s); fix them in warehouse/dataform:\n` +
        errors.map((e) => `  ${e.fileName ?? "?"}${e.actionName ? ` (${e.actionName})` : ""}: ${(e.message ?? "").split("\n")[0]}`).join("\n"),
    );
  }
  return graph;
}

/**
 * Builds the pinned Go tools (infra/tools/<tool>/go.mod) into .tools/bin, each once: a tool whose
 * binary and stamp match its pin is skipped.
 *
 *   tsx infra/tools/build.ts                 the tools `npm start` needs (what npm install runs)
 *   tsx infra/tools/build.ts --all           every tool
 *   tsx infra/tools/build.ts NAME...         the named tools
 *   --postinstall                            never fail npm install: say what is missing and exit 0
 *
 * Tools are built with `go build -o` inside their pinning module rather than `go install module@v`:
 * the module proxy refuses the version list of some modules, which `go install` asks for.
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { relative } from "node:path";
import { REPO_ROOT } from "../local/settings.js";
import cliProgress from "cli-progress";
import { GO_TOOLS, GO_VERSION, TOOLS_BIN, expectedStamp, goTool, pinnedVersion, stampFile, toolDir, toolPath, toolState, type GoTool } from "./tools.js";

const shown = (t: GoTool) => relative(REPO_ROOT, toolPath(t));
const say = (line: string) => process.stdout.write(`[tools] ${line}\n`);

export class BuildError extends Error {
  override name = "BuildError";
}

export function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  return s < 60 ? `${s} s` : `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, "0")} s`;
}

/** The Go on PATH, or a message naming Go 1.26 when it is missing or too old. */
export function checkGo(env: NodeJS.ProcessEnv = process.env): { version: string } {
  const r = spawnSync("go", ["env", "GOVERSION"], { encoding: "utf8", env });
  if (r.error || r.status !== 0) {
    throw new BuildError(
      `Go ${GO_VERSION} was not found on PATH. tideline builds its local emulators with it (the Cloud Storage emulator for npm start; ` +
        `Prism and the BigQuery emulator for --engine beam). Install Go ${GO_VERSION} or later (https://go.dev/doc/install), then run \`npm run tools\`.`,
    );
  }
  const version = r.stdout.trim();
  const m = /^go(\d+)\.(\d+)/.exec(version);
  const [wantMajor, wantMinor] = GO_VERSION.split(".").map(Number) as [number, number];
  if (!m || Number(m[1]) < wantMajor || (Number(m[1]) === wantMajor && Number(m[2]) < wantMinor)) {
    throw new BuildError(`${version} was found; tideline's tools need Go ${GO_VERSION} or later. Install Go ${GO_VERSION}, then run \`npm run tools\`.`);
  }
  return { version };
}

function checkNeeds(t: GoTool): void {
  for (const n of t.needs ?? []) {
    const r = spawnSync(n.program, ["--version"], { encoding: "utf8" });
    if (r.error || r.status !== 0) {
      throw new BuildError(`${t.what} needs ${n.program} (${n.why}) and it was not found: install Debian's ${n.debian} package (\`bash infra/local/setup.sh go\` does it when run as root).`);
    }
  }
}

/** The number of packages a build may compile (all of the main package's dependencies). */
function countPackages(t: GoTool, env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn("go", ["list", "-mod=readonly", "-deps", t.pkg], { cwd: toolDir(t), env, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (b: Buffer) => (out += b.toString()));
    child.stderr.on("data", (b: Buffer) => (err += b.toString()));
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolve(out.split("\n").filter(Boolean).length) : reject(new BuildError(`go list failed for ${t.name}:\n${tail(err)}`))));
  });
}

function tail(text: string, lines = 25): string {
  return text
    .split("\n")
    .filter((l) => l.trim() && !/^cc1plus: note: unrecognized command-line option/.test(l))
    .slice(-lines)
    .join("\n");
}

/** One tool: go list (fetches the modules), then go build -v with a package counter. */
export async function buildTool(t: GoTool, opts: { progress?: boolean } = {}): Promise<{ ms: number; compiled: number }> {
  checkNeeds(t);
  const env = { ...process.env, ...t.env, GOFLAGS: [process.env.GOFLAGS, "-mod=readonly"].filter(Boolean).join(" ") };
  const started = Date.now();
  const version = pinnedVersion(t);
  say(`${t.name}: ${t.module}@${version} — fetching modules…`);
  const total = await countPackages(t, env);
  say(`${t.name}: compiling (${total} packages at most; the Go build cache skips what it already has)…`);
  mkdirSync(TOOLS_BIN, { recursive: true });
  const tmp = `${toolPath(t)}.tmp-${process.pid}`;
  const bar =
    opts.progress === false
      ? null
      : new cliProgress.SingleBar(
          {
            format: `[tools] ${t.name} {bar} {value}/{total} packages | {elapsed} | {current}`,
            hideCursor: false,
            stream: process.stdout,
            noTTYOutput: true,
            notTTYSchedule: 30_000,
            stopOnComplete: false,
            clearOnComplete: false,
          },
          cliProgress.Presets.shades_classic,
        );
  const elapsed = () => formatDuration(Date.now() - started);
  bar?.start(total, 0, { elapsed: elapsed(), current: "" });
  let compiled = 0;
  let log = "";
  const ticker = setInterval(() => bar?.update(compiled, { elapsed: elapsed() }), 1000);
  try {
    const code = await new Promise<number>((resolve, reject) => {
      const child = spawn("go", ["build", "-v", "-ldflags=-s -w", "-o", tmp, t.pkg], { cwd: toolDir(t), env, stdio: ["ignore", "pipe", "pipe"] });
      const onLine = (line: string) => {
        // `go build -v` names each package as it starts compiling it; anything else is compiler output.
        if (/^[\w.-]+(\/[\w.~+-]+)*$/.test(line)) {
          compiled++;
          bar?.update(compiled, { elapsed: elapsed(), current: line.length > 60 ? `…${line.slice(-59)}` : line });
        } else {
          log += `${line}\n`;
          if (log.length > 200_000) log = log.slice(-100_000);
        }
      };
      let pending = "";
      const onData = (b: Buffer) => {
        const lines = (pending + b.toString()).split("\n");
        pending = lines.pop() ?? "";
        for (const l of lines) if (l.trim()) onLine(l.trim());
      };
      child.stdout.on("data", onData);
      child.stderr.on("data", onData);
      child.on("error", reject);
      child.on("close", (c) => {
        if (pending.trim()) onLine(pending.trim());
        resolve(c ?? 1);
      });
    });
    clearInterval(ticker);
    bar?.update(compiled, { elapsed: elapsed(), current: code === 0 ? "done" : "failed" });
    bar?.stop();
    if (code !== 0) throw new BuildError(`building ${t.name} failed (go build exited with ${code}). Last output:\n${tail(log)}`);
    renameSync(tmp, toolPath(t));
    writeFileSync(stampFile(t), `${expectedStamp(t)}\n`);
    const ms = Date.now() - started;
    say(`${t.name}: built ${shown(t)} in ${formatDuration(ms)} (${compiled} of ${total} packages compiled${compiled < total ? ", the rest came from the Go build cache" : ""})`);
    return { ms, compiled };
  } finally {
    clearInterval(ticker);
    bar?.stop();
    rmSync(tmp, { force: true });
  }
}

/** Builds what is not built yet; returns the tools that failed with why. */
export async function buildTools(tools: readonly GoTool[], opts: { progress?: boolean } = {}): Promise<{ failed: { tool: GoTool; why: string }[] }> {
  const todo = tools.filter((t) => {
    const s = toolState(t);
    if (s.state === "ready") say(`${t.name}: ${t.module}@${pinnedVersion(t)} is built (${shown(t)})`);
    else if (s.state === "stale") say(`${t.name}: ${shown(t)} was built from ${s.built}; rebuilding for ${t.module}@${pinnedVersion(t)}`);
    return s.state !== "ready";
  });
  if (!todo.length) return { failed: [] };
  const { version } = checkGo();
  say(`building ${todo.map((t) => t.name).join(", ")} with ${version} into ${relative(REPO_ROOT, TOOLS_BIN) || "."} (once; later installs skip them)`);
  const failed: { tool: GoTool; why: string }[] = [];
  for (const t of todo) {
    try {
      await buildTool(t, opts);
    } catch (e) {
      if (!(e instanceof BuildError)) throw e;
      failed.push({ tool: t, why: e.message });
    }
  }
  return { failed };
}

async function main(argv: string[]): Promise<number> {
  const postinstall = argv.includes("--postinstall");
  const names = argv.filter((a) => !a.startsWith("--"));
  let tools: readonly GoTool[];
  try {
    tools = argv.includes("--all") ? GO_TOOLS : names.length ? names.map(goTool) : GO_TOOLS.filter((t) => t.postinstall);
  } catch (e) {
    say((e as Error).message);
    return 2;
  }
  try {
    const { failed } = await buildTools(tools);
    for (const f of failed) say(f.why);
    if (failed.length && postinstall) say(`npm install itself succeeded; \`npm start\` needs ${failed.map((f) => f.tool.name).join(", ")}: fix the above, then run \`npm run tools\`.`);
    return failed.length && !postinstall ? 1 : 0;
  } catch (e) {
    // In npm install, an unexpected failure is still only a message: npm start names what is missing.
    if (!(e instanceof BuildError) && !postinstall) throw e;
    say((e as Error).message);
    if (postinstall) say("npm install itself succeeded; `npm start` will say what is missing until the tools are built.");
    return postinstall ? 0 : 1;
  }
}

if (process.argv[1] && /build\.ts$/.test(process.argv[1])) {
  process.exitCode = await main(process.argv.slice(2));
}

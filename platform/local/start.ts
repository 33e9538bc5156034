/**
 * `npm start`: the whole local platform in the foreground. Services start in order (Pub/Sub
 * emulator, Cloud Storage emulator, edge Worker, pipeline), each log line is prefixed with its part, a table
 * says what listens where, and SIGINT/SIGTERM stop everything in reverse order. If a part dies,
 * the rest are stopped and the exit code is non-zero.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DEV_CREDENTIALS, landingBucket, rawBucket } from "../../contracts/defaults.js";
import { goTool, toolProblem } from "../../infra/tools/tools.js";
import { startGcsEmulator } from "../../infra/local/gcs-emulator.js";
import { PrerequisiteError } from "../../infra/local/prerequisite.js";
import { checkPubSubPrerequisites, ensureResources, startPubSubEmulator } from "../../infra/local/pubsub-emulator.js";
import { REPO_ROOT } from "../../infra/local/settings.js";
import { killGroupOnExit, stopGroup } from "../../infra/local/service-process.js";
import { pipelineService } from "./pipeline-service.js";
import { localSettings, type LocalSettings } from "./settings.js";
import { endLeftoverProcesses, journalToken, recoverAfterStart } from "./recovery.js";

export interface Service {
  name: string;
  /** Starts the service; resolves when it is ready. `onExit` is called if it dies on its own. */
  start(onExit: (reason: string) => void): Promise<void>;
  stop(): Promise<void>;
  /** What to print in the table once everything is up. */
  url(): string;
  /** What is missing to start it, each with what to run; checked for every service before any starts. */
  prerequisites?(): string[];
}

const COLORS = { pubsub: 35, gcs: 36, edge: 33, pipeline: 32, tideline: 1 } as Record<string, number>;
export function prefixer(name: string) {
  const color = process.stdout.isTTY ? COLORS[name] ?? 37 : 0;
  const tag = color ? `\x1b[${color}m[${name}]\x1b[0m` : `[${name}]`;
  return (line: string) => {
    for (const l of line.split("\n")) if (l.trim()) process.stdout.write(`${tag} ${l}\n`);
  };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The pid of a running `npm start` of this data folder, or null. */
export function runningInstance(s: LocalSettings = localSettings()): number | null {
  if (!existsSync(s.pidFile)) return null;
  const pid = Number(readFileSync(s.pidFile, "utf8").trim());
  return Number.isInteger(pid) && pid > 0 && pid !== process.pid && isAlive(pid) ? pid : null;
}

function pubsubService(s: LocalSettings): Service {
  let starting: ReturnType<typeof startPubSubEmulator> | null = null;
  const log = prefixer("pubsub");
  return {
    name: "pubsub",
    prerequisites() {
      try {
        checkPubSubPrerequisites();
        return [];
      } catch (e) {
        if (e instanceof PrerequisiteError) return [e.message];
        throw e;
      }
    },
    async start() {
      starting = startPubSubEmulator({ port: s.pubsubPort, dataDir: join(s.dataDir, "pubsub"), project: s.project, log });
      const handle = await starting;
      await ensureResources(handle.host, s.project);
      process.env.PUBSUB_EMULATOR_HOST = handle.host;
      process.env.PUBSUB_PROJECT_ID = s.project;
    },
    async stop() {
      // Also when stopped while still starting: wait for the emulator to be up, then end it.
      const handle = await starting?.catch(() => null);
      await handle?.stop();
    },
    url: () => `127.0.0.1:${s.pubsubPort} (Pub/Sub emulator, project ${s.project})`,
  };
}

function gcsService(s: LocalSettings): Service {
  let starting: ReturnType<typeof startGcsEmulator> | null = null;
  const log = prefixer("gcs");
  return {
    name: "gcs",
    prerequisites: () => [toolProblem(goTool("gcs-emulator"))].filter((p): p is string => p !== null),
    async start() {
      starting = startGcsEmulator({
        port: s.gcsPort,
        dataDir: join(s.dataDir, "gcs"),
        buckets: [rawBucket(s.project), landingBucket(s.project)],
        log,
      });
      const handle = await starting;
      process.env.STORAGE_EMULATOR_HOST = handle.url;
    },
    async stop() {
      const handle = await starting?.catch(() => null);
      await handle?.stop();
    },
    url: () => `http://127.0.0.1:${s.gcsPort} (Cloud Storage emulator, fake-gcs-server; data in ${join(s.dataDir, "gcs")})`,
  };
}

function edgeService(s: LocalSettings): Service {
  let child: ChildProcess | null = null;
  let stopping = false;
  const log = prefixer("edge");
  return {
    name: "edge",
    async start(onExit) {
      const wrangler = join(REPO_ROOT, "node_modules/.bin/wrangler");
      const args = [
        "dev",
        // The local entry journals queue messages (edge/src/local); production deploys edge/src/index.ts.
        "edge/src/local/index.ts",
        "--var", `LOCAL_JOURNAL_TOKEN:${journalToken}`,
        "--ip", "127.0.0.1",
        "--port", String(s.edgePort),
        // Its own setting: two platforms started at once (the proof tests) raced for wrangler's default 9229.
        "--inspector-port", String(s.edgeInspectorPort),
        "--persist-to", join(s.dataDir, "wrangler"),
        "--show-interactive-dev-session=false",
        // The proof (test/proof/run.ts) puts a fault proxy between the edge and each emulator.
        "--var", `PUBSUB_EMULATOR_HOST:${process.env.TIDELINE_EDGE_PUBSUB_HOST ?? `127.0.0.1:${s.pubsubPort}`}`,
        "--var", `STORAGE_EMULATOR_HOST:${process.env.TIDELINE_EDGE_STORAGE_URL ?? `http://127.0.0.1:${s.gcsPort}`}`,
        "--var", `GCP_PROJECT:${s.project}`,
      ];
      child = spawn(wrangler, args, { cwd: REPO_ROOT, detached: true, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false" } });
      child.stdout?.on("data", (b: Buffer) => log(b.toString()));
      child.stderr?.on("data", (b: Buffer) => log(b.toString()));
      const forgetOnExit = killGroupOnExit(child);
      child.once("exit", (code) => {
        forgetOnExit();
        if (!stopping) onExit(`wrangler dev exited with code ${code}`);
      });
      const deadline = Date.now() + 90_000;
      for (;;) {
        try {
          const r = await fetch(`http://127.0.0.1:${s.edgePort}/healthz`, { signal: AbortSignal.timeout(2000) });
          if (r.ok) return;
        } catch {
          // not up yet
        }
        if (child.exitCode !== null) throw new Error(`the edge Worker (wrangler dev) exited with code ${child.exitCode} before it was ready; see the [edge] lines above`);
        if (Date.now() > deadline) throw new Error(`the edge Worker did not answer on 127.0.0.1:${s.edgePort} within 90 s`);
        await new Promise((r) => setTimeout(r, 300));
      }
    },
    async stop() {
      stopping = true;
      if (child) await stopGroup(child, "SIGINT");
    },
    url: () => `http://127.0.0.1:${s.edgePort} (edge Worker: /v1/batch, /v1/webhooks/*, /v1/cdc, /v1/openapi.json)`,
  };
}

function pipelineServiceEntry(s: LocalSettings): Service {
  return {
    name: "pipeline",
    async start() {
      process.env.TIDELINE_WAREHOUSE ??= join(s.dataDir, "warehouse.duckdb");
      process.env.TIDELINE_DASHBOARD_PORT = String(s.dashboardPort);
      await pipelineService.start();
    },
    async stop() {
      await pipelineService.stop();
    },
    url: () => `http://127.0.0.1:${s.dashboardPort} (dashboard, operator API and pipeline; warehouse ${process.env.TIDELINE_WAREHOUSE})`,
  };
}

export function localServices(s: LocalSettings): Service[] {
  return [pubsubService(s), gcsService(s), edgeService(s), pipelineServiceEntry(s)];
}

/** services: what to run (default localServices; tests pass their own). */
export async function startLocal(opts: { services?: Service[] } = {}): Promise<number> {
  const s = localSettings();
  const say = prefixer("tideline");
  const other = runningInstance(s);
  if (other) {
    say(`tideline is already running (pid ${other}) with data in ${s.dataDir}; stop it first (Ctrl-C in its terminal, or kill ${other}).`);
    return 1;
  }
  const services = opts.services ?? localServices(s);
  // All at once, before anything starts: a new machine may lack several.
  const missing = services.flatMap((svc) => svc.prerequisites?.() ?? []);
  if (missing.length) {
    for (const m of missing) say(`missing prerequisite: ${m}`);
    return 1;
  }
  mkdirSync(s.dataDir, { recursive: true });
  // Durability (platform/local/recovery.ts): a killed run's children hold ports and lost state.
  if (!opts.services) endLeftoverProcesses(s.dataDir, say);
  const startedAt = Date.now();
  writeFileSync(s.pidFile, String(process.pid));
  process.env.METADATA_SERVER_DETECTION ??= "none";
  const started: Service[] = [];
  let shuttingDown: Promise<void> | null = null;
  let exitCode = 0;
  let resolveDone!: () => void;
  const done = new Promise<void>((r) => (resolveDone = r));

  const shutdown = (code: number, why?: string) => {
    if (shuttingDown) return shuttingDown;
    exitCode = code;
    if (why) say(why);
    say("stopping…");
    shuttingDown = (async () => {
      for (const svc of [...started].reverse()) {
        try {
          await svc.stop();
          say(`${svc.name} stopped`);
        } catch (e) {
          say(`${svc.name} did not stop cleanly: ${(e as Error).message}`);
        }
      }
      rmSync(s.pidFile, { force: true });
      resolveDone();
    })();
    return shuttingDown;
  };
  // A Ctrl-C reaches this process more than once: from the terminal and again forwarded by npm and
  // tsx. Later signals must not end it with the default action halfway through stopping the
  // services (that left them running, orphaned).
  let told = false;
  const onSignal = () => {
    if (!shuttingDown) return void shutdown(0);
    if (!told) say("still stopping: each service gets a few seconds to stop before it is killed");
    told = true;
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);

  try {
    for (const svc of services) {
      if (shuttingDown) break;
      say(`starting ${svc.name}…`);
      // Listed before it is up, so a Ctrl-C during its start-up stops it too.
      started.push(svc);
      await svc.start((reason) => void shutdown(1, `${svc.name} stopped unexpectedly: ${reason}`));
    }
  } catch (e) {
    const msg = e instanceof PrerequisiteError ? `missing prerequisite: ${e.message}` : `could not start: ${(e as Error).message}`;
    await shutdown(1, msg);
    return 1;
  }
  if (!shuttingDown) {
    const rows = started.map((svc) => `  ${svc.name.padEnd(9)} ${svc.url()}`);
    say(
      [
        "ready. Listening on 127.0.0.1:",
        ...rows,
        "",
        "Local credentials (development only):",
        ...Object.values(DEV_CREDENTIALS).map((c) => `  ${c.what.padEnd(24)} ${c.value}`),
        "",
        'Try: npx tideline query "select count(*) from raw.events"    Ctrl-C stops everything.',
      ].join("\n"),
    );
    // Durability: send again what an earlier run accepted and did not deliver, then reconcile.
    if (!opts.services) void recoverAfterStart({ dataDir: s.dataDir, edgeUrl: `http://127.0.0.1:${s.edgePort}`, apiPort: s.dashboardPort, startedAt, log: say });
  }
  await done;
  process.off("SIGINT", onSignal);
  process.off("SIGTERM", onSignal);
  return exitCode;
}

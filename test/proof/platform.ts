/**
 * The real local platform (`tideline start`, what `npm start` runs) as a child process on free
 * loopback ports with a private data folder, for the proof runs and their short versions in the
 * tests: start it, find the process of each part, kill any of them with SIGKILL, start it again on
 * the same ports and data, and ask the warehouse through the operator API.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { operatorClient } from "../../platform/api/client.js";
import { REPO_ROOT, freePort } from "../../infra/local/settings.js";

export interface PlatformPorts {
  edge: number;
  pubsub: number;
  gcs: number;
  api: number;
}

export type Part = "pipeline" | "edge" | "pubsub" | "gcs";

export interface Platform {
  dataDir: string;
  ports: PlatformPorts;
  edgeUrl: string;
  /** Everything the current and earlier runs printed (for failure messages). */
  log(): string;
  /** Starts `tideline start`; resolves once it printed that it is ready. */
  start(timeoutMs?: number): Promise<void>;
  /** Resolves when the platform process exits (by itself or killed). */
  exited(): Promise<number | null>;
  running(): boolean;
  /** The pids of a part: the platform process itself for "pipeline" (the pipeline runs in it). */
  pids(part: Part): number[];
  kill(part: Part, signal?: NodeJS.Signals): number[];
  /** SIGKILL, all at once, of the platform process and every process of this data folder (the issue's `kill -9` of `npm start`). */
  killAll(): Promise<void>;
  /** SIGINT, then SIGKILL of whatever is left of this data folder's processes. */
  stop(): Promise<void>;
  /** Rows of a read-only query, through the operator API of the running platform. */
  query<T = Record<string, unknown>>(sql: string): Promise<T[]>;
  /** stop() and remove the data folder. */
  dispose(): Promise<void>;
}

export interface Proc {
  pid: number;
  pgid: number;
  args: string;
}

/** Every process of the machine: pid, process group and command line. */
export function processes(): Proc[] {
  const ps = spawnSync("ps", ["-eo", "pid=,pgid=,args="], { encoding: "utf8" });
  return ps.stdout
    .split("\n")
    .map((l) => /^\s*(\d+)\s+(\d+)\s+(.*)$/.exec(l))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ pid: Number(m[1]), pgid: Number(m[2]), args: m[3]! }));
}

/** Sends `signal` to each pid; one that has already ended is skipped. */
function signalAll(pids: number[], signal: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch {
      // gone
    }
  }
}

/** The processes in the process groups of those whose command line mentions `needle`. */
function groupOf(needle: string): Proc[] {
  const all = processes();
  const groups = new Set(all.filter((p) => p.args.includes(needle) && p.pid !== process.pid).map((p) => p.pgid));
  return all.filter((p) => groups.has(p.pgid));
}

export async function createPlatform(o: { env?: Record<string, string>; name?: string; ports?: Partial<PlatformPorts> } = {}): Promise<Platform> {
  const dataDir = join(REPO_ROOT, ".data/scratch", `${o.name ?? "proof"}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`);
  mkdirSync(dataDir, { recursive: true });
  const ports: PlatformPorts = { edge: await freePort(), pubsub: await freePort(), gcs: await freePort(), api: await freePort(), ...o.ports };
  let child: ChildProcess | null = null;
  let exit: Promise<number | null> = Promise.resolve(null);
  let output = "";
  const env = {
    ...process.env,
    TIDELINE_DATA_DIR: dataDir,
    TIDELINE_EDGE_PORT: String(ports.edge),
    TIDELINE_PUBSUB_PORT: String(ports.pubsub),
    TIDELINE_GCS_PORT: String(ports.gcs),
    TIDELINE_DASHBOARD_PORT: String(ports.api),
    TIDELINE_EDGE_INSPECTOR_PORT: String(await freePort()),
    TIDELINE_MODELS_INTERVAL: "0",
    ...o.env,
  };

  // Each child runs in a process group of its own, led by a process that names its data folder.
  const byPart: Record<Exclude<Part, "pipeline">, () => number[]> = {
    edge: () => groupOf(join(dataDir, "wrangler")).filter((p) => /\/workerd\b/.test(p.args.split(" ")[0] ?? "")).map((p) => p.pid),
    pubsub: () => groupOf(join(dataDir, "pubsub")).filter((p) => /java/.test(p.args.split(" ")[0] ?? "")).map((p) => p.pid),
    gcs: () => groupOf(join(dataDir, "gcs")).map((p) => p.pid),
  };

  const platform: Platform = {
    dataDir,
    ports,
    edgeUrl: `http://127.0.0.1:${ports.edge}`,
    log: () => output,
    running: () => child !== null && child.exitCode === null && child.signalCode === null,
    exited: () => exit,
    async start(timeoutMs = 240_000) {
      if (platform.running()) throw new Error("the platform is already running");
      const c = spawn(process.execPath, [join(REPO_ROOT, "bin/tideline.js"), "start"], { cwd: REPO_ROOT, detached: true, stdio: ["ignore", "pipe", "pipe"], env });
      child = c;
      exit = new Promise((r) => c.once("exit", (code) => r(code)));
      const ready = new Promise<void>((resolve, reject) => {
        const onData = (b: Buffer) => {
          const s = b.toString();
          output += s;
          if (output.length > 2_000_000) output = output.slice(-1_000_000);
          if (s.includes("ready. Listening")) resolve();
        };
        c.stdout!.on("data", onData);
        c.stderr!.on("data", onData);
        c.once("exit", (code) => reject(new Error(`tideline start exited (${code}) before it was ready:\n${output.slice(-4000)}`)));
        setTimeout(() => reject(new Error(`tideline start was not ready within ${timeoutMs / 1000} s:\n${output.slice(-4000)}`)), timeoutMs).unref();
      });
      await ready;
    },
    pids(part) {
      if (part === "pipeline") return child?.pid && platform.running() ? [child.pid] : [];
      return byPart[part]();
    },
    kill(part, signal = "SIGKILL") {
      const pids = platform.pids(part);
      signalAll(pids, signal);
      return pids;
    },
    async killAll() {
      signalAll([...(child?.pid && platform.running() ? [child.pid] : []), ...groupOf(dataDir).map((p) => p.pid).filter((p) => p !== process.pid)], "SIGKILL");
      await exit;
    },
    async stop() {
      if (platform.running() && child?.pid) {
        signalAll([child.pid], "SIGINT");
        await Promise.race([exit, new Promise((r) => setTimeout(r, 30_000))]);
      }
      // Whatever a killed run left behind (its children live in process groups of their own).
      signalAll(groupOf(dataDir).map((p) => p.pid).filter((p) => p !== process.pid), "SIGKILL");
      if (child?.pid && platform.running()) process.kill(child.pid, "SIGKILL");
    },
    async query<T>(sql: string): Promise<T[]> {
      const client = operatorClient({ port: ports.api, tokenFile: join(dataDir, "operator-api.token") });
      const r = await client.query(sql);
      return r.rows as T[];
    },
    async dispose() {
      await platform.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return platform;
}

/** Whether gcloud's Pub/Sub emulator and Java are here (the platform cannot start without them). */
export function pubsubEmulatorAvailable(): boolean {
  return spawnSync("gcloud", ["--version"]).status === 0 && spawnSync("java", ["-version"]).status === 0;
}

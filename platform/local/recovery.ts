/**
 * What `npm start` does so that nothing the edge accepted is lost when the local platform was
 * killed (kill -9, a crash, a closed terminal) or stopped with messages still on their way:
 *
 * 1. Before anything starts: the children of a killed run (wrangler/workerd, the emulators) live
 *    in process groups of their own and outlive it, holding the ports and, in memory, messages no
 *    one will deliver. They are ended, so this run starts from the durable state alone.
 * 2. Once everything is up: the edge sends again the queue messages an earlier process journaled
 *    and never saw acknowledged (edge/src/local/journal.ts); then the raw archive written since the
 *    earlier run started is reconciled with the warehouse (pipeline/reconcile.ts), which loads what
 *    the Pub/Sub emulator lost with its in-memory messages.
 *
 * The state (`.data/recovery.json`) holds the time from which the archive has not been checked
 * yet; it moves forward only when a reconcile finished.
 */
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ReconcileResult } from "../api/schemas.js";
import { readTokenFile, TOKEN_FILE_NAME } from "../api/token.js";
import { describeReconcile } from "../../pipeline/reconcile.js";

/** Folders of the data directory whose processes belong to a run: the edge's and the emulators'. */
const CHILD_FOLDERS = ["wrangler", "pubsub", "gcs", "bigquery"];

/** Per run: lets only this `npm start` ask its edge to replay the journal. */
export const journalToken = randomBytes(24).toString("hex");

/**
 * Ends the process groups of an earlier, killed run of this data folder. Call only when no run of
 * it is alive (the pid file says so). Returns the groups ended.
 */
export function endLeftoverProcesses(dataDir: string, log: (line: string) => void): number[] {
  const ps = spawnSync("ps", ["-eo", "pid=,pgid=,args="], { encoding: "utf8" });
  if (ps.status !== 0) return [];
  const own = new Set([process.pid, process.ppid]);
  const ownGroup = Number(spawnSync("ps", ["-o", "pgid=", "-p", String(process.pid)], { encoding: "utf8" }).stdout.trim());
  const needles = CHILD_FOLDERS.map((f) => join(dataDir, f));
  const groups = new Map<number, string>();
  for (const line of ps.stdout.split("\n")) {
    const m = /^\s*(\d+)\s+(\d+)\s+(.*)$/.exec(line);
    if (!m) continue;
    const [pid, pgid, args] = [Number(m[1]), Number(m[2]), m[3]!];
    if (own.has(pid) || pgid === ownGroup || pgid <= 1) continue;
    if (needles.some((n) => args.includes(n))) groups.set(pgid, args.slice(0, 120));
  }
  for (const [pgid, args] of groups) {
    try {
      process.kill(-pgid, "SIGKILL");
      log(`ended a process left by a killed run (group ${pgid}: ${args})`);
    } catch {
      // gone meanwhile
    }
  }
  return [...groups.keys()];
}

interface RecoveryState {
  /** The archive is not yet checked from this time on. */
  reconcileFrom: string;
}

const stateFile = (dataDir: string) => join(dataDir, "recovery.json");

function readState(dataDir: string): RecoveryState | null {
  if (!existsSync(stateFile(dataDir))) return null;
  try {
    const s = JSON.parse(readFileSync(stateFile(dataDir), "utf8")) as Partial<RecoveryState>;
    return typeof s.reconcileFrom === "string" && !Number.isNaN(Date.parse(s.reconcileFrom)) ? { reconcileFrom: s.reconcileFrom } : null;
  } catch {
    return null;
  }
}

const writeState = (dataDir: string, s: RecoveryState) => writeFileSync(stateFile(dataDir), JSON.stringify(s) + "\n");

export interface RecoveryOptions {
  dataDir: string;
  edgeUrl: string;
  apiPort: number;
  /** When this run started its edge (ms): journal entries older than that belong to earlier runs. */
  startedAt: number;
  log: (line: string) => void;
}

/** Replays the journal and reconciles; never throws (a failure is reported with what to run). */
export async function recoverAfterStart(o: RecoveryOptions): Promise<void> {
  const previous = readState(o.dataDir);
  const since = previous?.reconcileFrom ?? null;
  // Until this run's reconcile finished, the next start must still check from the older time.
  writeState(o.dataDir, { reconcileFrom: since ?? new Date(o.startedAt).toISOString() });
  try {
    const res = await fetch(`${o.edgeUrl}/__local/journal/replay?before=${o.startedAt}`, { method: "POST", headers: { "x-tideline-local-token": journalToken }, signal: AbortSignal.timeout(120_000) });
    const body = (await res.json()) as { replayed?: number; pending?: number; error?: { message: string } };
    if (!res.ok) throw new Error(body.error?.message ?? `HTTP ${res.status}`);
    if (body.replayed) o.log(`recovery: the edge queued again ${body.replayed} messages an earlier run had accepted but not delivered`);
  } catch (e) {
    o.log(`recovery: could not replay the edge's queue journal (${(e as Error).message}); restart \`npm start\` to try again`);
  }
  if (!since) {
    writeState(o.dataDir, { reconcileFrom: new Date(o.startedAt).toISOString() });
    return;
  }
  try {
    // Plain fetch, not the typed client: this module is also compiled with the Worker's types,
    // under which hono/client's responses are not a Response.
    const res = await fetch(`http://127.0.0.1:${o.apiPort}/api/reconcile`, {
      method: "POST",
      headers: { authorization: `Bearer ${readTokenFile(join(o.dataDir, TOKEN_FILE_NAME)) ?? ""}`, "content-type": "application/json" },
      body: JSON.stringify({ since }),
      signal: AbortSignal.timeout(30 * 60_000),
    });
    const body: unknown = await res.json().catch(() => null);
    if (!res.ok) throw new Error((body as { error?: { message?: string } } | null)?.error?.message ?? `HTTP ${res.status}`);
    const result = ReconcileResult.parse(body);
    writeState(o.dataDir, { reconcileFrom: new Date(o.startedAt).toISOString() });
    if (result.missing > 0 || result.stats.loaded > 0) o.log(`recovery: ${describeReconcile(result)}`);
    else o.log(`recovery: the warehouse holds every record archived since ${since} (${result.records} in ${result.objects} objects)`);
  } catch (e) {
    o.log(`recovery: reconcile since ${since} failed (${(e as Error).message}); run \`npx tideline reconcile --since ${since}\``);
  }
}

/**
 * The proof's fault scenarios, shared by `npm run proof` (test/proof/run.ts, 100,000 items each)
 * and their short versions in `npm test` (test/proof/scenarios.test.ts):
 *
 *   kill-pipeline   kill -9 of the platform process (the pipeline runs in it), then `npm start` again
 *   kill-edge       kill -9 of workerd, then `npm start` again if the edge does not come back
 *   restart-pubsub  kill of the Pub/Sub emulator, then `npm start` again
 *   stop-gcs        the Cloud Storage emulator stopped (SIGSTOP) for 30 s, then continued
 *   faults          every fifth of the edge's requests to Pub/Sub and Cloud Storage (20%) answered
 *                   429 or 503 or reset (before or after the emulator saw them, in turn; the first
 *                   request is one of them), throughout: a platform of its own
 *                   whose edge talks to the emulators through fault proxies (test/support/fault-proxy.ts)
 *
 * Items (SDK batches, Shopify webhooks, CDC changes: test/proof/load.ts) are sent by SDK-like
 * senders that retry until 2xx; the fault happens a third of the way in (faults: from the start).
 */
import { createPlatform, type Platform } from "./platform.js";
import { proofRequests, sendUntilAccepted, tally, type Tally } from "./load.js";
import { startFaultProxy, type FaultProxy } from "../support/fault-proxy.js";
import { freePort } from "../../infra/local/settings.js";

export const SCENARIOS = ["kill-pipeline", "kill-edge", "restart-pubsub", "stop-gcs", "faults"] as const;
export type Scenario = (typeof SCENARIOS)[number];

export interface ScenarioOptions {
  events: number;
  rate: number;
  /** How long the Cloud Storage emulator stays stopped in stop-gcs (default 30 s, as the issue asks). */
  gcsStopMs?: number;
  /** How long to wait for every accepted item to reach raw.* (default 10 minutes). */
  recoverTimeoutMs?: number;
  log?: (line: string) => void;
}

export interface ScenarioResult {
  scenario: Scenario;
  tallies: Tally[];
  /** From the fault (faults: from the start of sending) until every accepted item was in raw.*; null: never. */
  recoverSeconds: number | null;
  sendSeconds: number;
  retries: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function edgeAnswers(p: Platform): Promise<boolean> {
  try {
    return (await fetch(`${p.edgeUrl}/healthz`, { signal: AbortSignal.timeout(2000) })).ok;
  } catch {
    return false;
  }
}

/** Starts the platform again if the fault took it (or its edge) down: what a user does with `npm start`. */
async function recover(p: Platform, part: "edge" | "pubsub", log: (line: string) => void): Promise<void> {
  for (let i = 0; i < 10; i++) {
    if (p.running() && (await edgeAnswers(p)) && (part === "edge" || p.pids(part).length > 0)) return;
    await sleep(1000);
  }
  log(`the platform did not come back by itself after the ${part} fault: npm start again`);
  await p.killAll();
  await p.start();
}

async function inflict(p: Platform, s: Scenario, o: ScenarioOptions, log: (line: string) => void): Promise<void> {
  switch (s) {
    case "kill-pipeline":
      p.kill("pipeline");
      await p.exited();
      await p.killAll();
      await p.start();
      return;
    case "kill-edge":
      if (!p.kill("edge").length) throw new Error("no workerd process found to kill");
      await sleep(1000);
      return recover(p, "edge", log);
    case "restart-pubsub":
      if (!p.kill("pubsub").length) throw new Error("no Pub/Sub emulator process found to kill");
      await sleep(1000);
      return recover(p, "pubsub", log);
    case "faults":
      return;
    case "stop-gcs": {
      const pids = p.kill("gcs", "SIGSTOP");
      if (!pids.length) throw new Error("no Cloud Storage emulator process found to stop");
      await sleep(o.gcsStopMs ?? 30_000);
      p.kill("gcs", "SIGCONT");
      return;
    }
  }
}

/** One scenario on a running platform (not "faults": that needs a platform of its own, runFaultsScenario). */
export async function runScenario(p: Platform, s: Scenario, o: ScenarioOptions): Promise<ScenarioResult> {
  const log = o.log ?? (() => {});
  const tag = `${s.replace(/-/g, "")}${Date.now().toString(36)}`;
  let faultAt = 0;
  let fault: Promise<void> | null = null;
  const started = Date.now();
  log(`${s}: sending ${o.events} items at ${o.rate}/s`);
  const sent = await sendUntilAccepted(p.edgeUrl, proofRequests(tag, o.events), {
    itemsPerSecond: o.rate,
    concurrency: 8,
    deadline: Date.now() + 60 * 60_000,
    onAccepted: (n) => {
      if (!fault && s === "faults") {
        faultAt = started;
        fault = Promise.resolve();
      } else if (!fault && n >= o.events / 3) {
        faultAt = Date.now();
        log(`${s}: fault after ${n} accepted items`);
        fault = inflict(p, s, o, log);
      }
    },
  });
  const sendSeconds = (Date.now() - started) / 1000;
  if (fault) await fault;
  log(`${s}: all ${o.events} accepted (${sent.retries} retries); waiting for raw.*`);
  let tallies: Tally[] = [];
  let recoverSeconds: number | null = null;
  const deadline = Date.now() + (o.recoverTimeoutMs ?? 10 * 60_000);
  for (;;) {
    tallies = await tally((sql) => p.query(sql), tag, sent.accepted).catch(() => tallies);
    if (tallies.length && tallies.every((t) => t.lost === 0)) {
      recoverSeconds = (Date.now() - faultAt) / 1000;
      break;
    }
    if (Date.now() > deadline) break;
    await sleep(2000);
  }
  // Late duplicates (a redelivery after the count) would show in a second look.
  await sleep(5000);
  tallies = await tally((sql) => p.query(sql), tag, sent.accepted).catch(() => tallies);
  return { scenario: s, tallies, recoverSeconds, sendSeconds, retries: sent.retries };
}

/** The faults scenario: a platform whose edge reaches Pub/Sub and Cloud Storage through 20% fault proxies. */
export async function runFaultsScenario(o: ScenarioOptions): Promise<ScenarioResult & { proxies: { pubsub: FaultProxy["stats"]; gcs: FaultProxy["stats"] } }> {
  const ports = { pubsub: await freePort(), gcs: await freePort() };
  const proxies: FaultProxy[] = [];
  proxies.push(await startFaultProxy({ target: `http://127.0.0.1:${ports.pubsub}`, faultRate: 0.2, seed: 1, schedule: true }));
  proxies.push(await startFaultProxy({ target: `http://127.0.0.1:${ports.gcs}`, faultRate: 0.2, seed: 2, schedule: true }));
  const p = await createPlatform({ name: "proof-faults", ports, env: { TIDELINE_EDGE_PUBSUB_HOST: proxies[0]!.host, TIDELINE_EDGE_STORAGE_URL: `http://${proxies[1]!.host}` } });
  try {
    try {
      await p.start();
    } catch (e) {
      throw new Error(`the local platform behind fault proxies could not start: ${(e as Error).message}`);
    }
    const row = await runScenario(p, "faults", o);
    return { ...row, proxies: { pubsub: { ...proxies[0]!.stats }, gcs: { ...proxies[1]!.stats } } };
  } finally {
    await p.dispose();
    for (const x of proxies) await x.close();
  }
}

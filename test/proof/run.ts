/**
 * `npm run proof [-- --events <n>] [--rate <items/s>] [--scenarios a,b] [--fuzz-examples <n>]`:
 * the proof under faults, outside `npm test`. The real local platform (`tideline start`, what
 * `npm start` runs) on free loopback ports with a private data folder; for each scenario, one at a
 * time, `--events` items (SDK batches, Shopify webhooks, CDC changes: test/proof/load.ts) are sent by
 * SDK-like senders that retry until 2xx while the fault happens a third of the way in:
 *
 *   kill-pipeline   kill -9 of the platform process (the pipeline runs in it), then `npm start` again
 *   kill-edge       kill -9 of workerd, then `npm start` again if the edge does not come back
 *   restart-pubsub  kill of the Pub/Sub emulator, then `npm start` again
 *   stop-gcs        the Cloud Storage emulator stopped (SIGSTOP) for 30 s, then continued
 *   faults          20% of the edge's requests to Pub/Sub and Cloud Storage answered 429 or 503 or
 *                   reset (before or after the emulator saw them), throughout: a platform of its own
 *                   whose edge talks to the emulators through fault proxies (test/support/fault-proxy.ts)
 *
 * Per scenario it prints accepted, rows in raw.* (distinct and total), lost, duplicated, dead
 * letters and the time from the fault until every accepted item was in raw.*. Then schemathesis
 * runs against the edge with `--fuzz-examples` examples per operation (0: no fuzz run). Exits non-zero when a part
 * cannot start (saying which and why), or an item is lost or duplicated, or the fuzzer finds anything.
 */
import { parseArgs } from "node:util";
import { createPlatform, pubsubEmulatorAvailable, type Platform } from "./platform.js";
import { proofRequests, sendUntilAccepted, tally, type Tally } from "./load.js";
import { fuzzEdge, schemathesisMissing } from "../fuzz/schemathesis.js";
import { startStack } from "../support/stack.js";
import { startFaultProxy, type FaultProxy } from "../support/fault-proxy.js";
import { freePort } from "../../infra/local/settings.js";

const SCENARIOS = ["kill-pipeline", "kill-edge", "restart-pubsub", "stop-gcs", "faults"] as const;
type Scenario = (typeof SCENARIOS)[number];

const { values } = parseArgs({
  options: {
    events: { type: "string", default: "100000" },
    rate: { type: "string", default: "400" },
    scenarios: { type: "string", default: SCENARIOS.join(",") },
    "fuzz-examples": { type: "string", default: "100" },
  },
});
const events = Number(values.events);
const rate = Number(values.rate);
const fuzzExamples = Number(values["fuzz-examples"]);
const chosen = values.scenarios!.split(",").map((s) => s.trim()) as Scenario[];
for (const s of chosen) if (!SCENARIOS.includes(s)) fail(`unknown scenario ${s}: choose from ${SCENARIOS.join(", ")}`);
if (!(events > 0) || !(rate > 0)) fail("--events and --rate must be positive numbers");

function fail(message: string): never {
  process.stderr.write(`proof: ${message}\n`);
  process.exit(1);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (line: string) => process.stderr.write(`[proof] ${line}\n`);

async function edgeAnswers(p: Platform): Promise<boolean> {
  try {
    return (await fetch(`${p.edgeUrl}/healthz`, { signal: AbortSignal.timeout(2000) })).ok;
  } catch {
    return false;
  }
}

/** Starts the platform again if the fault took it (or its edge) down: what a user does with `npm start`. */
async function recover(p: Platform, part: string): Promise<void> {
  for (let i = 0; i < 10; i++) {
    if (p.running() && (await edgeAnswers(p)) && (part === "edge" || part === "pipeline" || p.pids(part as "pubsub" | "gcs").length > 0)) return;
    await sleep(1000);
  }
  log(`the platform did not come back by itself after the ${part} fault: npm start again`);
  await p.killAll();
  await p.start();
}

async function inflict(p: Platform, s: Scenario): Promise<void> {
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
      return recover(p, "edge");
    case "restart-pubsub":
      if (!p.kill("pubsub").length) throw new Error("no Pub/Sub emulator process found to kill");
      await sleep(1000);
      return recover(p, "pubsub");
    case "faults":
      return;
    case "stop-gcs": {
      const pids = p.kill("gcs", "SIGSTOP");
      if (!pids.length) throw new Error("no Cloud Storage emulator process found to stop");
      await sleep(30_000);
      p.kill("gcs", "SIGCONT");
      return;
    }
  }
}

interface Row {
  scenario: Scenario;
  tallies: Tally[];
  recoverSeconds: number | null;
  sendSeconds: number;
}

async function scenario(p: Platform, s: Scenario): Promise<Row> {
  const tag = `${s.replace(/-/g, "")}${Date.now().toString(36)}`;
  let faultAt = 0;
  let fault: Promise<void> | null = null;
  const started = Date.now();
  log(`${s}: sending ${events} items at ${rate}/s`);
  const sent = await sendUntilAccepted(p.edgeUrl, proofRequests(tag, events), {
    itemsPerSecond: rate,
    concurrency: 8,
    deadline: Date.now() + 60 * 60_000,
    onAccepted: (n) => {
      if (!fault && s === "faults") {
        faultAt = started;
        fault = Promise.resolve();
      } else if (!fault && n >= events / 3) {
        faultAt = Date.now();
        log(`${s}: fault after ${n} accepted items`);
        fault = inflict(p, s);
      }
    },
  });
  const sendSeconds = (Date.now() - started) / 1000;
  if (fault) await fault;
  log(`${s}: all ${events} accepted (${sent.retries} retries); waiting for raw.*`);
  let tallies: Tally[] = [];
  let recoverSeconds: number | null = null;
  const deadline = Date.now() + 10 * 60_000;
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
  return { scenario: s, tallies, recoverSeconds, sendSeconds };
}

/** A platform whose edge reaches Pub/Sub and Cloud Storage through 20% fault proxies. */
async function faultsScenario(): Promise<Row> {
  const ports = { pubsub: await freePort(), gcs: await freePort() };
  const proxies: FaultProxy[] = [];
  proxies.push(await startFaultProxy({ target: `http://127.0.0.1:${ports.pubsub}`, faultRate: 0.2, seed: 1 }));
  proxies.push(await startFaultProxy({ target: `http://127.0.0.1:${ports.gcs}`, faultRate: 0.2, seed: 2 }));
  const p = await createPlatform({ name: "proof-faults", ports, env: { TIDELINE_EDGE_PUBSUB_HOST: proxies[0]!.host, TIDELINE_EDGE_STORAGE_URL: `http://${proxies[1]!.host}` } });
  try {
    try {
      await p.start();
    } catch (e) {
      fail(`the local platform behind fault proxies could not start: ${(e as Error).message}`);
    }
    const row = await scenario(p, "faults");
    log(`faults: Pub/Sub proxy ${JSON.stringify(proxies[0]!.stats)}; Cloud Storage proxy ${JSON.stringify(proxies[1]!.stats)}`);
    return row;
  } finally {
    await p.dispose();
    for (const x of proxies) await x.close();
  }
}

function print(rows: Row[]) {
  const head = ["scenario", "stream", "accepted", "raw distinct", "raw total", "lost", "duplicated", "dead letters", "recover s"];
  const lines = [head];
  for (const r of rows) {
    for (const t of r.tallies) lines.push([r.scenario, t.kind, String(t.accepted), String(t.distinct), String(t.rows), String(t.lost), String(t.duplicated), String(t.deadLetters), r.recoverSeconds === null ? "never" : r.recoverSeconds.toFixed(1)]);
  }
  const widths = head.map((_, i) => Math.max(...lines.map((l) => l[i]!.length)));
  for (const l of lines) process.stdout.write(l.map((c, i) => c.padEnd(widths[i]!)).join("  ") + "\n");
}

async function main(): Promise<number> {
  if (!pubsubEmulatorAvailable()) fail("the Pub/Sub emulator cannot start: gcloud (with the pubsub-emulator component) or Java is missing; npm start says how to install them");
  log(`machine: ${(await import("node:os")).cpus().length} cores; ${events} items per scenario at ${rate}/s; scenarios ${chosen.join(", ")}`);
  const p = await createPlatform({ name: "proof" });
  const rows: Row[] = [];
  let ok = true;
  try {
    try {
      await p.start();
    } catch (e) {
      fail(`the local platform could not start: ${(e as Error).message}`);
    }
    for (const s of chosen) {
      if (s === "faults") continue;
      const row = await scenario(p, s);
      rows.push(row);
      print([row]);
      if (row.tallies.some((t) => t.lost > 0 || t.duplicated > 0)) ok = false;
    }
  } finally {
    await p.dispose();
  }
  if (chosen.includes("faults")) {
    const row = await faultsScenario();
    rows.push(row);
    print([row]);
    if (row.tallies.some((t) => t.lost > 0 || t.duplicated > 0)) ok = false;
  }
  process.stdout.write("\n");
  print(rows);

  if (fuzzExamples === 0) {
    process.stdout.write("\nschemathesis: skipped (--fuzz-examples 0)\n");
    return ok ? 0 : 1;
  }
  const missing = schemathesisMissing();
  if (missing) {
    process.stdout.write(`\nschemathesis: not run: ${missing}\n`);
    return 1;
  }
  log(`schemathesis: ${fuzzExamples} examples per operation`);
  const stack = await startStack();
  try {
    const results = await fuzzEdge(stack.edgeUrl, { maxExamples: fuzzExamples });
    for (const r of results) {
      const summary = /(\d+) generated[^\n]*/.exec(r.output)?.[0] ?? "no summary";
      process.stdout.write(`schemathesis ${r.group}: exit ${r.code}, ${summary}\n`);
      if (r.code !== 0) {
        ok = false;
        process.stdout.write(r.output.slice(-6000) + "\n");
      }
    }
  } finally {
    await stack.stop();
  }
  return ok ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (e) => fail((e as Error).stack ?? String(e)),
);

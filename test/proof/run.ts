/**
 * `npm run proof [-- --events <n>] [--rate <items/s>] [--scenarios a,b] [--fuzz-examples <n>]`:
 * the proof under faults, outside `npm test`. The real local platform (`tideline start`, what
 * `npm start` runs) on free loopback ports with a private data folder; for each scenario, one at a
 * time, `--events` items (SDK batches, Shopify webhooks, CDC changes: test/proof/load.ts) are sent by
 * SDK-like senders that retry until 2xx while the fault happens a third of the way in. The
 * scenarios (kill -9 of the pipeline, kill -9 of the edge, a Pub/Sub emulator restart, the Cloud
 * Storage emulator stopped for 30 s, 20% faults at both) are in test/proof/scenarios.ts; their short
 * versions run in `npm test` (test/proof/scenarios.test.ts, kill.test.ts).
 *
 * Per scenario it prints accepted, rows in raw.* (distinct and total), lost, duplicated, dead
 * letters and the time from the fault until every accepted item was in raw.*. Then schemathesis
 * runs against the edge with `--fuzz-examples` examples per operation (0: no fuzz run). Exits non-zero when a part
 * cannot start (saying which and why), or an item is lost or duplicated, or the fuzzer finds anything.
 */
import { parseArgs } from "node:util";
import { createPlatform, pubsubEmulatorAvailable } from "./platform.js";
import { SCENARIOS, runFaultsScenario, runScenario, type Scenario, type ScenarioResult } from "./scenarios.js";
import { fuzzEdge, schemathesisMissing } from "../fuzz/schemathesis.js";
import { startStack } from "../support/stack.js";

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

const log = (line: string) => process.stderr.write(`[proof] ${line}\n`);
type Row = ScenarioResult;

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
      const row = await runScenario(p, s, { events, rate, log });
      rows.push(row);
      print([row]);
      if (row.tallies.some((t) => t.lost > 0 || t.duplicated > 0)) ok = false;
    }
  } finally {
    await p.dispose();
  }
  if (chosen.includes("faults")) {
    const row = await runFaultsScenario({ events, rate, log }).catch((e: Error) => fail(e.message));
    log(`faults: Pub/Sub proxy ${JSON.stringify(row.proxies.pubsub)}; Cloud Storage proxy ${JSON.stringify(row.proxies.gcs)}`);
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

/**
 * Found by the proof run (npm run proof): the Pub/Sub emulator starts a thread for every ordering key
 * it is given and keeps it while it runs. CDC changes of many rows (one key per row in production)
 * made about 10,000 threads and the machine's load average went past 900. Against the emulator the
 * edge folds the keys per table (edge/src/queue/consumer.ts, pubsubOrderingKey): here 1,500 changes
 * of 1,500 rows go through the real edge to the real emulator, and its thread count must stay bounded.
 */
import { readFileSync } from "node:fs";
import { afterEach, expect, it } from "vitest";
import { cdcRequest } from "../workload/send.js";
import { proofChange } from "./proof/load.js";
import { startStack, subscribe, type Stack } from "./support/stack.js";
import { processes, pubsubEmulatorAvailable } from "./proof/platform.js";

let stack: Stack | undefined;
afterEach(async () => {
  await stack?.stop();
  stack = undefined;
});

/** Threads of the emulator's Java process listening on `host` (`--port=<port>` on its command line). */
function emulatorThreads(host: string): number {
  const port = host.split(":").pop();
  const emulator = processes().find((p) => /\bjava\b/.test(p.args) && p.args.includes(`--port=${port}`));
  if (!emulator) throw new Error(`no Pub/Sub emulator process found for port ${port}`);
  return Number(/^Threads:\s+(\d+)/m.exec(readFileSync(`/proc/${emulator.pid}/status`, "utf8"))![1]);
}

const ROWS = 1500;

it.runIf(pubsubEmulatorAvailable() && process.platform === "linux")("CDC changes of many rows leave the Pub/Sub emulator's thread count bounded", async () => {
  stack = await startStack();
  const cdc = await subscribe(stack.pubsub, "cdc");
  const before = emulatorThreads(stack.pubsubHost);
  const tag = `keys${Date.now().toString(36)}`;
  const now = Date.now();
  for (let i = 0; i < ROWS; i += 100) {
    const req = cdcRequest(Array.from({ length: 100 }, (_, j) => proofChange(tag, i + j, now)));
    const res = await fetch(`${stack.edgeUrl}${req.path}`, { method: "POST", headers: req.headers, body: req.body });
    expect(res.status, await res.text()).toBe(200);
  }
  const got = await cdc.until((ms) => ms.length >= ROWS, 120_000);
  await cdc.close();
  expect(got.length).toBe(ROWS);
  const after = emulatorThreads(stack.pubsubHost);
  // Without the folding: one more thread per row, about 1,500.
  expect(after - before, `the emulator went from ${before} to ${after} threads`).toBeLessThan(300);
}, 300_000);

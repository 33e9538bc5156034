/**
 * `npm run bench:edge`: CPU time per event of 500-event /v1/batch requests through the Worker's own
 * code (the Hono app: body reading, parsing, validation, enrichment, queue packing), next to a bare
 * JSON.parse + JSON.stringify of the same body in the same run. Targets: ≤ 20 µs/event, ≤ 5× bare.
 * The queue and rate limiter are in-memory stand-ins: this measures our CPU, not I/O.
 * Also: CPU time per line of a bulk upload of the events stream (the line transform: split,
 * validate, enrich, serialize, gzip), which bounds how large a file one Worker invocation can take.
 */
import { gzipSync } from "node:zlib";
import { createApp } from "../edge/src/app.js";
import { lineProcessor } from "../edge/src/bulk/lines.js";
import { bulkTransform } from "../edge/src/bulk/transform.js";
import { config } from "../edge/src/config.js";
import { MAX_BULK_EVENT_LINE_BYTES } from "../contracts/limits.js";
import { segmentBatch } from "../test/fixtures/segment-events.js";

const EVENTS_PER_REQUEST = 500;
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 100);
const WARMUP = 30;
const TRIALS = Number(process.env.BENCH_TRIALS ?? 5);

let queuedBytes = 0;
const env = {
  ENVIRONMENT: "dev",
  WRITE_KEYS: '{"local_dev_write_key":"web"}',
  IP_MODE: "truncate",
  IP_HASH_KEY: "bench",
  PII_HASH_KEY: "bench",
  CONSENT_MODE: "strip",
  CONSENT_REQUIRED: "false",
  INGEST_QUEUE: {
    async sendBatch(msgs: { body: string }[]) {
      for (const m of msgs) queuedBytes += m.body.length;
    },
  },
  RATE_LIMITER: { async limit() { return { success: true }; } },
} as unknown as Env;
const ctx = { waitUntil() {}, passThroughOnException() {}, props: {} } as unknown as ExecutionContext;

const app = createApp();
// Distinct bodies (as in real traffic) so no cache sees the same strings every time.
const bodies = Array.from({ length: 20 }, (_, i) => JSON.stringify(segmentBatch(EVENTS_PER_REQUEST, i + 1)));
const headers = {
  "content-type": "application/json",
  "cf-connecting-ip": "198.51.100.23",
  "user-agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
};

/** Requests are built before timing: in workerd the runtime, not the Worker, constructs them. */
function request(i: number) {
  const body = encoded[i % encoded.length]!;
  return new Request("http://bench/v1/batch", { method: "POST", headers: { ...headers, "content-length": String(body.byteLength) }, body });
}
const encoded = bodies.map((b) => new TextEncoder().encode(b));

async function check(res: Response) {
  if (res.status !== 200) throw new Error(`bench request failed: ${res.status} ${await res.text()}`);
  const out = (await res.json()) as { accepted: number };
  if (out.accepted !== EVENTS_PER_REQUEST) throw new Error(`only ${out.accepted} accepted`);
}

async function once(i: number) {
  await check(await app.fetch(request(i), env, ctx));
}

function cpuMicros(fnStart: NodeJS.CpuUsage) {
  const u = process.cpuUsage(fnStart);
  return u.user + u.system;
}

async function main() {
  for (let i = 0; i < WARMUP; i++) await once(i);
  for (let i = 0; i < WARMUP; i++) JSON.stringify(JSON.parse(bodies[i % bodies.length]!));

  // Interleaved trials, medians: other work on the machine hits both sides alike.
  let sink = 0;
  const edgeTrials: number[] = [];
  const bareTrials: number[] = [];
  for (let trial = 0; trial < TRIALS; trial++) {
    const b0 = process.cpuUsage();
    for (let i = 0; i < REQUESTS; i++) sink += JSON.stringify(JSON.parse(bodies[i % bodies.length]!)).length;
    bareTrials.push(cpuMicros(b0));

    queuedBytes = 0;
    const requests = Array.from({ length: REQUESTS }, (_, i) => request(i));
    const responses: Response[] = [];
    const t0 = process.cpuUsage();
    for (const req of requests) responses.push(await app.fetch(req, env, ctx));
    edgeTrials.push(cpuMicros(t0));
    for (const res of responses) await check(res);
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const edgeUs = median(edgeTrials);
  const bareUs = median(bareTrials);
  const events = REQUESTS * EVENTS_PER_REQUEST;
  const perEvent = edgeUs / events;
  const barePerEvent = bareUs / events;
  const avgBody = bodies.reduce((s, b) => s + b.length, 0) / bodies.length;
  console.log(`edge bench: median of ${TRIALS} trials of ${REQUESTS} requests × ${EVENTS_PER_REQUEST} events (${(avgBody / 1024).toFixed(0)} KB bodies), Node ${process.version}`);
  console.log(`  edge (Worker code)        ${perEvent.toFixed(2)} µs CPU per event   (target ≤ 20)`);
  console.log(`  bare JSON.parse+stringify ${barePerEvent.toFixed(2)} µs CPU per event`);
  console.log(`  ratio                     ${(perEvent / barePerEvent).toFixed(2)}×   (target ≤ 5×)`);
  console.log(`  queued ${(queuedBytes / events).toFixed(0)} bytes per event; checksum ${sink % 7}`);
  await bulkBench();
}

/** One bulk upload's line transform over an NDJSON file of the fixture events, gzip included. */
async function bulkBench() {
  const encoder = new TextEncoder();
  const file = encoder.encode(
    bodies
      .slice(0, 4)
      .flatMap((b) => (JSON.parse(b) as { batch: object[] }).batch.map((e) => JSON.stringify(e)))
      .join("\n") + "\n",
  );
  const lines = 4 * EVENTS_PER_REQUEST;
  const once = async () => {
    const { stream, tally } = bulkTransform({ process: lineProcessor("events", { source: "web", receivedAt: Date.now(), requestId: "bench" }, config(env as never)), maxLineBytes: MAX_BULK_EVENT_LINE_BYTES });
    const out = stream.readable.pipeThrough(new TransformStream<Uint8Array, Uint8Array>({ transform: (c, ctl) => ctl.enqueue(gzipSync(c)) }));
    const writer = stream.writable.getWriter();
    const reading = new Response(out).arrayBuffer();
    for (let at = 0; at < file.byteLength; at += 64 * 1024) await writer.write(file.subarray(at, at + 64 * 1024));
    await writer.close();
    await reading;
    if (tally.accepted !== lines) throw new Error(`bulk bench: only ${tally.accepted} of ${lines} lines accepted`);
  };
  for (let i = 0; i < 5; i++) await once();
  const trials: number[] = [];
  for (let t = 0; t < TRIALS; t++) {
    const t0 = process.cpuUsage();
    for (let i = 0; i < 5; i++) await once();
    trials.push(cpuMicros(t0) / (5 * lines));
  }
  const median = [...trials].sort((a, b) => a - b)[Math.floor(trials.length / 2)]!;
  console.log(`  bulk upload (events)      ${median.toFixed(2)} µs CPU per line (split, validate, enrich, serialize, gzip; ${lines} lines × 5 per trial)`);
}

await main();

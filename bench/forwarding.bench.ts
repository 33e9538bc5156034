/**
 * `npm run bench:forwarding`: the real local path edge → Queue → consumer → Pub/Sub emulator + GCS
 * store at a steady load. Prints Pub/Sub publish requests and archive objects per 1,000 events
 * (targets: ≤ 2 publish requests and ≤ 1 object per queue batch) and edge-to-topic latency p50/p95.
 */
import { segmentBatch } from "../test/fixtures/segment-events.js";
import { archiveRecords, startStack, subscribe } from "../test/support/stack.js";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 20);
const REQUESTS_PER_SECOND = Number(process.env.BENCH_RPS ?? 10);
const EVENTS_PER_REQUEST = Number(process.env.BENCH_EVENTS ?? 100);

const stack = await startStack({ faultRate: 0 });
try {
  const total = SECONDS * REQUESTS_PER_SECOND * EVENTS_PER_REQUEST;
  const sentAt = new Map<string, number>();
  const arrivals = await subscribe(stack.pubsub, "events");
  // Pull while sending, so arrival times are when records reach the topic, not when sending ended.
  const arrived = arrivals.until((ms) => ms.length >= total, (SECONDS + 60) * 1000);
  const auth = { authorization: `Basic ${Buffer.from("local_dev_write_key:").toString("base64")}`, "content-type": "application/json" };
  const started = Date.now();
  let n = 0;
  for (let s = 0; s < SECONDS; s++) {
    const tick = started + s * 1000;
    for (let r = 0; r < REQUESTS_PER_SECOND; r++) {
      const batch = segmentBatch(EVENTS_PER_REQUEST, ++n);
      const t = Date.now();
      for (const e of batch.batch) sentAt.set(e.messageId, t);
      const res = await fetch(`${stack.edgeUrl}/v1/batch`, { method: "POST", headers: auth, body: JSON.stringify(batch) });
      if (res.status !== 200) throw new Error(`edge answered ${res.status}`);
      await new Promise((ok) => setTimeout(ok, Math.max(0, tick + ((r + 1) * 1000) / REQUESTS_PER_SECOND - Date.now())));
    }
  }
  const got = await arrived;
  await arrivals.close();
  const latencies = got.map((m) => m.at - (sentAt.get(JSON.parse(m.data).message_id as string) ?? m.at)).sort((a, b) => a - b);
  const archived = await archiveRecords(stack.storage, "raw/events/");
  const [objects] = await stack.storage.bucket("tideline-local-raw").getFiles({ prefix: "raw/events/" });
  const publishRequests = stack.proxies.pubsub?.stats.requests;
  const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? NaN;
  console.log(`forwarding bench: ${total} events over ${SECONDS} s (${REQUESTS_PER_SECOND} req/s × ${EVENTS_PER_REQUEST} events)`);
  console.log(`  arrived on the topic        ${new Set(got.map((m) => JSON.parse(m.data).message_id)).size} of ${total}; archived ${archived.length}`);
  console.log(`  archive objects             ${objects.length} (${((objects.length / total) * 1000).toFixed(2)} per 1,000 events)`);
  if (publishRequests !== undefined) console.log(`  publish requests            ${publishRequests} (${((publishRequests / total) * 1000).toFixed(2)} per 1,000 events)`);
  console.log(`  queue batches (= objects)   ${objects.length}; publish requests per batch ${publishRequests !== undefined ? (publishRequests / objects.length).toFixed(2) : "n/a"}`);
  console.log(`  edge→topic latency          p50 ${q(0.5)} ms, p95 ${q(0.95)} ms (request sent → record pulled from a subscription)`);
} finally {
  await stack.stop();
}

/**
 * Edge → Queue → consumer → Pub/Sub emulator + Cloud Storage emulator, for real: every accepted record reaches its
 * topic and the raw archive; with faults injected in front of both (20% 429/503/dropped connections)
 * 10,000 events still arrive, once each in the archive and at least once on Pub/Sub; poison ends as
 * a dead letter with its reason.
 */
import { afterEach, expect, it } from "vitest";
import { segmentBatch } from "./fixtures/segment-events.js";
import { archiveRecords, startStack, subscribe, type Stack } from "./support/stack.js";

let stack: Stack | undefined;
afterEach(async () => {
  await stack?.stop();
  stack = undefined;
});

const auth = { authorization: `Basic ${Buffer.from("local_dev_write_key:").toString("base64")}`, "content-type": "application/json" };

async function send(edge: string, batches: unknown[]) {
  for (const b of batches) {
    for (let attempt = 0; ; attempt++) {
      const res = await fetch(`${edge}/v1/batch`, { method: "POST", headers: auth, body: JSON.stringify(b) });
      if (res.status === 200) break;
      if (attempt > 5) throw new Error(`edge answered ${res.status}: ${await res.text()}`);
    }
  }
}

async function waitFor<T>(what: string, probe: () => Promise<T>, done: (v: T) => boolean, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (done(v) || Date.now() > deadline) return v;
    await new Promise((r) => setTimeout(r, 1000));
  }
}

it("delivers each record to its topic and to the archive exactly once", async () => {
  stack = await startStack();
  const batches = [segmentBatch(120, 101), segmentBatch(80, 102)];
  const ids = new Set(batches.flatMap((b) => b.batch.map((e) => e.messageId)));
  const topic = await subscribe(stack.pubsub, "events");
  await send(stack.edgeUrl, batches);
  const got = await topic.until((ms) => ms.length >= ids.size, 60_000);
  await topic.close();
  expect(got.map((m) => JSON.parse(m.data).message_id).sort()).toEqual([...ids].sort());
  const archived = await waitFor("archive", () => archiveRecords(stack!.storage, "raw/events/"), (rs) => rs.length >= ids.size);
  expect(archived.map((r) => r.message_id).sort()).toEqual([...ids].sort());
}, 180_000);

it("with 20% injected 429/503/dropped connections, 10,000 events all arrive: none twice in the archive, duplicates on Pub/Sub counted", async () => {
  stack = await startStack({ faultRate: 0.2, seed: 7 });
  // 100 requests of 100 events over ~10 s: many queue batches, so many publish and archive calls face faults.
  const batches = Array.from({ length: 100 }, (_, i) => segmentBatch(100, 1000 + i));
  const ids = new Set(batches.flatMap((b) => b.batch.map((e) => e.messageId)));
  expect(ids.size).toBe(10_000);
  const topic = await subscribe(stack.pubsub, "events");
  for (let i = 0; i < batches.length; i += 10) {
    await send(stack.edgeUrl, batches.slice(i, i + 10));
    await new Promise((r) => setTimeout(r, 1000));
  }
  const got = await topic.until((ms) => new Set(ms.map((m) => JSON.parse(m.data).message_id)).size >= ids.size, 240_000);
  await topic.close();
  const seen = new Map<string, number>();
  for (const m of got) {
    const id = JSON.parse(m.data).message_id as string;
    seen.set(id, (seen.get(id) ?? 0) + 1);
  }
  expect(seen.size).toBe(10_000);
  const pubsubDuplicates = got.length - seen.size;
  const archived = await waitFor("archive", () => archiveRecords(stack!.storage, "raw/events/"), (rs) => new Set(rs.map((r) => r.message_id)).size >= ids.size, 240_000);
  const archivedIds = archived.map((r) => r.message_id as string);
  expect(new Set(archivedIds).size).toBe(10_000);
  expect(archivedIds.length).toBe(10_000);
  const s = stack.proxies;
  console.log(
    `fault run: 10,000 events; Pub/Sub deliveries ${got.length} (${pubsubDuplicates} at-least-once duplicates), archive records ${archivedIds.length}; ` +
      `faults injected: pubsub ${JSON.stringify(s.pubsub!.stats)}, gcs ${JSON.stringify(s.gcs!.stats)}`,
  );
  const faults = (f: typeof s.gcs) => f!.stats.status503 + f!.stats.status429 + f!.stats.droppedBefore + f!.stats.droppedAfter;
  // How many calls each side gets depends on how the queue batched the events (fewer, larger batches
  // on a busy machine); the proxy faults the first call and every fifth after it, so each side saw faults.
  expect(faults(s.pubsub)).toBeGreaterThanOrEqual(1);
  expect(faults(s.gcs)).toBeGreaterThanOrEqual(1);
}, 420_000);

it("a consumer that fails mid-batch (archive down after Pub/Sub succeeded) loses nothing once storage is back", async () => {
  stack = await startStack({ faultRate: 0, seed: 3 });
  stack.proxies.gcs!.setFaultRate(1);
  const batches = [segmentBatch(300, 301), segmentBatch(300, 302)];
  const ids = new Set(batches.flatMap((b) => b.batch.map((e) => e.messageId)));
  const topic = await subscribe(stack.pubsub, "events");
  await send(stack.edgeUrl, batches);
  // Until the consumer has tried (and failed) to write the archive at least twice.
  await waitFor("archive attempts", async () => stack!.proxies.gcs!.stats.requests, (n) => n >= 2, 60_000);
  expect(stack.proxies.gcs!.stats.requests).toBeGreaterThanOrEqual(2);
  stack.proxies.gcs!.setFaultRate(0);
  const got = await topic.until((ms) => new Set(ms.map((m) => JSON.parse(m.data).message_id)).size >= ids.size, 120_000);
  await topic.close();
  expect(new Set(got.map((m) => JSON.parse(m.data).message_id)).size).toBe(ids.size);
  const archived = await waitFor("archive", () => archiveRecords(stack!.storage, "raw/events/"), (rs) => rs.length >= ids.size, 120_000);
  expect(archived.map((r) => r.message_id).sort()).toEqual([...ids].sort());
}, 240_000);

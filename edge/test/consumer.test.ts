import { createExecutionContext, createMessageBatch, env, getQueueResult } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import worker from "../src/index.js";
import { transport } from "../src/google/http.js";
import { EMULATOR_ORDERING_KEYS_PER_TABLE, pubsubOrderingKey, retryDelay } from "../src/queue/consumer.js";

type Call = { url: string; method: string; headers: Headers; body: Uint8Array };
let calls: Call[] = [];
let reply: (c: Call) => Response | Promise<Response>;
const realFetch = transport.fetch;
const realSleep = transport.sleep;

beforeEach(() => {
  calls = [];
  reply = () => new Response("{}", { status: 200 });
  transport.sleep = async () => {};
  transport.fetch = async (url, init) => {
    const body = init?.body == null ? new Uint8Array() : typeof init.body === "string" ? new TextEncoder().encode(init.body) : new Uint8Array(init.body as ArrayBuffer);
    const c = { url, method: init?.method ?? "GET", headers: new Headers(init?.headers), body };
    calls.push(c);
    return reply(c);
  };
});
afterEach(() => {
  transport.fetch = realFetch;
  transport.sleep = realSleep;
  vi.restoreAllMocks();
});

const envelope = (stream: string, records: Record<string, unknown>[]) => JSON.stringify({ v: 1, stream, records });
const event = (id: string) => ({ event_id: id, message_id: `m-${id}`, source: "web", type: "track", event: "E", event_ts: "2026-11-25T10:00:00.000Z", received_at: "2026-11-25T10:00:01.000Z" });
const change = (id: string, key: number) => ({ event_id: id, source_name: "shop", source_connector: "postgresql", op: "u", ordering_key: `shop.public.orders:{"id":${key}}`, event_ts: "2026-11-25T10:00:00.000Z" });

async function run(queue: string, messages: { id: string; body: string; attempts?: number }[]) {
  const batch = createMessageBatch(queue, messages.map((m) => ({ id: m.id, timestamp: new Date(), attempts: m.attempts ?? 1, body: m.body })));
  const ctx = createExecutionContext();
  await (worker.queue as (b: unknown, e: unknown, c: unknown) => Promise<void>)(batch, env, ctx);
  const result: { explicitAcks: string[]; retryMessages: { msgId: string }[] } = await getQueueResult(batch, ctx);
  return result;
}

const gunzip = async (bytes: Uint8Array) => new Response(new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"))).text();
const decodeMessages = (c: Call) =>
  (JSON.parse(new TextDecoder().decode(c.body)) as { messages: { data: string; attributes: Record<string, string>; orderingKey?: string }[] }).messages.map((m) => ({
    ...m,
    record: JSON.parse(new TextDecoder().decode(Uint8Array.from(atob(m.data), (ch) => ch.charCodeAt(0)))),
  }));

describe("ingest consumer", () => {
  it("publishes each stream once, archives one gzip object per stream, then acks everything", async () => {
    const result = await run("tideline-ingest", [
      { id: "q1", body: envelope("events", [event("e1"), event("e2")]) },
      { id: "q2", body: envelope("events", [event("e3")]) },
      { id: "q3", body: envelope("cdc", [change("c1", 7)]) },
    ]);
    expect(result.explicitAcks.sort()).toEqual(["q1", "q2", "q3"]);
    expect(result.retryMessages).toEqual([]);

    const publishes = calls.filter((c) => c.url.includes(":publish"));
    const uploads = calls.filter((c) => c.url.includes("/upload/storage/v1/b/"));
    expect(publishes.map((c) => c.url).sort()).toEqual([
      "http://127.0.0.1:8085/v1/projects/tideline-local/topics/cdc:publish",
      "http://127.0.0.1:8085/v1/projects/tideline-local/topics/events:publish",
    ]);
    expect(uploads).toHaveLength(2);

    const events = decodeMessages(publishes.find((c) => c.url.includes("/events:"))!);
    expect(events.map((m) => m.record.event_id)).toEqual(["e1", "e2", "e3"]);
    expect(events[0]!.attributes).toEqual({ stream: "events", source: "web", event_id: "e1", event_ts: "2026-11-25T10:00:00.000Z" });
    expect(events[0]!.orderingKey).toBeUndefined();
    const cdc = decodeMessages(publishes.find((c) => c.url.includes("/cdc:"))!);
    // The record keeps its row's key; the message's key is that key folded for the emulator.
    expect(cdc[0]!.record.ordering_key).toBe('shop.public.orders:{"id":7}');
    expect(cdc[0]!.orderingKey).toBe(pubsubOrderingKey({ PUBSUB_EMULATOR_HOST: "x" }, 'shop.public.orders:{"id":7}'));
    expect(cdc[0]!.orderingKey).toMatch(/^shop\.public\.orders:~\d+$/);
    expect(cdc[0]!.attributes.source).toBe("shop");

    const ev = uploads.find((c) => c.url.includes("raw%2Fevents"))!;
    const u = new URL(ev.url);
    expect(u.origin + u.pathname).toBe("http://127.0.0.1:4443/upload/storage/v1/b/tideline-local-raw/o");
    expect(u.searchParams.get("uploadType")).toBe("media");
    expect(u.searchParams.get("ifGenerationMatch")).toBe("0");
    expect(u.searchParams.get("name")).toMatch(/^raw\/events\/dt=\d{4}-\d\d-\d\d\/hour=\d\d\/[0-9a-f]{32}\.ndjson\.gz$/);
    const lines = (await gunzip(ev.body)).trim().split("\n").map((l) => JSON.parse(l));
    expect(lines.map((r) => r.event_id)).toEqual(["e1", "e2", "e3"]);
    // No auth header against the emulators.
    expect(ev.headers.get("authorization")).toBeNull();
  });

  it("folds CDC ordering keys into a bounded set per table for the Pub/Sub emulator, one key per row in production", async () => {
    const keys = Array.from({ length: 2000 }, (_, i) => `shop.public.orders:{"id":${i}}`);
    const emulator = { PUBSUB_EMULATOR_HOST: "127.0.0.1:8085" };
    const folded = keys.map((k) => pubsubOrderingKey(emulator, k));
    // Bounded: the emulator keeps a thread per key it has seen.
    expect(new Set(folded).size).toBeLessThanOrEqual(EMULATOR_ORDERING_KEYS_PER_TABLE);
    expect(new Set(folded).size).toBeGreaterThan(EMULATOR_ORDERING_KEYS_PER_TABLE / 2);
    // Changes of one row always get the same key (so stay in order), and tables are kept apart.
    expect(keys.map((k) => pubsubOrderingKey(emulator, k))).toEqual(folded);
    expect(pubsubOrderingKey(emulator, 'shop.public.refunds:{"id":1}')).toMatch(/^shop\.public\.refunds:~/);
    // Real Pub/Sub: the row's own key.
    expect(keys.map((k) => pubsubOrderingKey({}, k))).toEqual(keys);

    // Through the consumer: 300 rows of one table become at most 64 keys on the publish request.
    await run("tideline-ingest", [{ id: "k1", body: envelope("cdc", Array.from({ length: 300 }, (_, i) => change(`k${i}`, i))) }]);
    const published = decodeMessages(calls.find((c) => c.url.includes("/cdc:publish"))!);
    expect(published).toHaveLength(300);
    expect(new Set(published.map((m) => m.orderingKey)).size).toBeLessThanOrEqual(EMULATOR_ORDERING_KEYS_PER_TABLE);
  });

  it("names the archive object by the batch's message ids: the same batch again writes the same object", async () => {
    const msgs = [{ id: "a1", body: envelope("events", [event("x1")]) }, { id: "a2", body: envelope("events", [event("x2")]) }];
    await run("tideline-ingest", msgs);
    await run("tideline-ingest", [...msgs].reverse());
    const names = calls.filter((c) => c.url.includes("/upload/")).map((c) => new URL(c.url).searchParams.get("name")!.split("/").pop());
    expect(names[0]).toBe(names[1]);
  });

  it("retries Pub/Sub 503s in place and treats an existing archive object (412) as written", async () => {
    let publishes = 0;
    reply = (c) => {
      if (c.url.includes(":publish")) return new Response("{}", { status: ++publishes < 3 ? 503 : 200 });
      return new Response('{"error":{"code":412}}', { status: 412 });
    };
    const result = await run("tideline-ingest", [{ id: "r1", body: envelope("events", [event("r1")]) }]);
    expect(publishes).toBe(3);
    expect(result.explicitAcks).toEqual(["r1"]);
  });

  it("retries the messages later with backoff when Google stays down, and never acks them", async () => {
    reply = () => new Response("down", { status: 503 });
    const result = await run("tideline-ingest", [{ id: "d1", body: envelope("webhooks", [{ event_id: "w1", provider: "shopify" }]), attempts: 3 }]);
    expect(result.explicitAcks).toEqual([]);
    expect(result.retryMessages.map((m) => m.msgId)).toEqual(["d1"]);
    expect(calls.filter((c) => c.url.includes("/upload/"))).toHaveLength(0);
  });

  it("fails fast on a non-retryable answer (one request) and leaves the message for retry", async () => {
    reply = () => new Response('{"error":"bad"}', { status: 400 });
    const result = await run("tideline-ingest", [{ id: "b1", body: envelope("events", [event("b1")]) }]);
    expect(calls).toHaveLength(1);
    expect(result.retryMessages.map((m) => m.msgId)).toEqual(["b1"]);
  });

  it("sends a poison message straight to the dead-letter queue with the reason, and acks it", async () => {
    const dlq = vi.spyOn(env.DLQ_QUEUE, "send").mockResolvedValue(undefined as never);
    const result = await run("tideline-ingest", [{ id: "p1", body: "{not json" }, { id: "ok", body: envelope("events", [event("ok")]) }]);
    expect(result.explicitAcks.sort()).toEqual(["ok", "p1"]);
    expect(dlq).toHaveBeenCalledTimes(1);
    const note = JSON.parse(dlq.mock.calls[0]![0] as string);
    expect(note).toMatchObject({ poison: true, stage: "queue", body: "{not json" });
    expect(note.reason).toMatch(/unreadable queue message/);
  });
});

it("backs off 5, 10, 20 … seconds between deliveries, at most 5 minutes", () => {
  expect([1, 2, 3, 4, 10].map(retryDelay)).toEqual([5, 10, 20, 40, 300]);
});

describe("dead-letter consumer", () => {
  it("writes each dead letter with its reason to the dead-letters topic and to deadletter/ in the archive", async () => {
    const poison = JSON.stringify({ poison: true, stage: "queue", reason: "unreadable queue message: Unexpected token", body: "{not json" });
    const result = await run("tideline-ingest-dlq", [
      { id: "x1", body: poison, attempts: 1 },
      { id: "x2", body: envelope("events", [event("lost-1"), event("lost-2")]), attempts: 6 },
    ]);
    expect(result.explicitAcks.sort()).toEqual(["x1", "x2"]);
    const pub = calls.find((c) => c.url.endsWith("/topics/dead-letters:publish"))!;
    const letters = decodeMessages(pub).map((m) => m.record);
    expect(letters).toHaveLength(3);
    expect(letters[0]).toMatchObject({ stage: "queue", reason: "unreadable queue message: Unexpected token", payload: "{not json", stream: "unknown" });
    expect(letters[1]).toMatchObject({ stage: "publish", stream: "events", event_id: "lost-1", attempts: 6 });
    expect(JSON.parse(letters[2].payload).event_id).toBe("lost-2");
    const upload = calls.find((c) => c.url.includes("/upload/"))!;
    expect(new URL(upload.url).searchParams.get("name")).toMatch(/^deadletter\/dt=\d{4}-\d\d-\d\d\/hour=\d\d\/[0-9a-f]{32}\.ndjson\.gz$/);
    expect((await gunzip(upload.body)).trim().split("\n")).toHaveLength(3);
  });

  it("keeps retrying when the dead letters cannot be written", async () => {
    reply = () => new Response("down", { status: 503 });
    const result = await run("tideline-ingest-dlq", [{ id: "y1", body: envelope("events", [event("z")]), attempts: 1 }]);
    expect(result.explicitAcks).toEqual([]);
    expect(result.retryMessages.map((m) => m.msgId)).toEqual(["y1"]);
  });
});

/**
 * The real local stack for cross-layer tests, on free loopback ports with a private data folder:
 * the Pub/Sub emulator (with the topics and subscriptions of contracts/defaults.ts), the Cloud Storage emulator, and the edge Worker in workerd
 * (wrangler's startWorker with the repository's wrangler.toml). Optional fault proxies sit between
 * the Worker and Google's stand-ins.
 */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { PubSub, v1 } from "@google-cloud/pubsub";
import { credentials } from "@grpc/grpc-js";
import { Storage } from "@google-cloud/storage";
import { unstable_startWorker } from "wrangler";
import { startGcsEmulator } from "../../infra/local/gcs-emulator.js";
import { ensureResources, startPubSubEmulator } from "../../infra/local/pubsub-emulator.js";
import { REPO_ROOT, freePort } from "../../infra/local/settings.js";

export { freePort };
import { startFaultProxy, type FaultProxy } from "./fault-proxy.js";
import { landingBucket, LOCAL_PROJECT, rawBucket } from "../../contracts/defaults.js";

export const PROJECT = LOCAL_PROJECT;
export const RAW_BUCKET = rawBucket(LOCAL_PROJECT);
export const LANDING_BUCKET = landingBucket(LOCAL_PROJECT);

export interface Stack {
  edgeUrl: string;
  pubsubHost: string;
  gcsUrl: string;
  pubsub: PubSub;
  storage: Storage;
  proxies: { pubsub?: FaultProxy; gcs?: FaultProxy };
  stop(): Promise<void>;
}

export async function startStack(opts: { faultRate?: number; seed?: number } = {}): Promise<Stack> {
  process.env.METADATA_SERVER_DETECTION = "none";
  // Offline: wrangler would try to download request.cf data and print a DNS error each start.
  process.env.CLOUDFLARE_CF_FETCH_ENABLED = "false";
  const base = join(REPO_ROOT, ".data/scratch");
  mkdirSync(base, { recursive: true });
  const dir = mkdtempSync(join(base, "stack-"));
  const stops: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const s of stops.reverse()) await s().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const emulator = await startPubSubEmulator({ port: await freePort(), dataDir: join(dir, "pubsub"), project: PROJECT });
    stops.push(() => emulator.stop());
    await ensureResources(emulator.host, PROJECT);
    const gcs = await startGcsEmulator({ port: 0, dataDir: join(dir, "gcs"), buckets: [RAW_BUCKET, LANDING_BUCKET] });
    stops.push(() => gcs.stop());

    const proxies: Stack["proxies"] = {};
    let pubsubForEdge = emulator.host;
    let gcsForEdge = gcs.url;
    if (opts.faultRate !== undefined) {
      proxies.pubsub = await startFaultProxy({ target: `http://${emulator.host}`, faultRate: opts.faultRate, seed: opts.seed ?? 1, schedule: true });
      proxies.gcs = await startFaultProxy({ target: gcs.url, faultRate: opts.faultRate, seed: (opts.seed ?? 1) + 1, schedule: true });
      stops.push(() => proxies.pubsub!.close(), () => proxies.gcs!.close());
      pubsubForEdge = proxies.pubsub.host;
      gcsForEdge = `http://${proxies.gcs.host}`;
    }

    const worker = await unstable_startWorker({
      config: join(REPO_ROOT, "wrangler.toml"),
      bindings: {
        PUBSUB_EMULATOR_HOST: { type: "plain_text", value: pubsubForEdge },
        STORAGE_EMULATOR_HOST: { type: "plain_text", value: gcsForEdge },
        GCP_PROJECT: { type: "plain_text", value: PROJECT },
      },
      dev: { server: { hostname: "127.0.0.1", port: 0 }, inspector: false, persist: false, logLevel: "warn" } as never,
    });
    stops.push(() => worker.dispose());
    await worker.ready;
    const edgeUrl = (await worker.url).toString().replace(/\/$/, "");

    const pubsub = new PubSub({ projectId: PROJECT, apiEndpoint: emulator.host, emulatorMode: true });
    stops.push(() => pubsub.close());
    const storage = new Storage({ apiEndpoint: gcs.url, projectId: PROJECT });
    return { edgeUrl, pubsubHost: emulator.host, gcsUrl: gcs.url, pubsub, storage, proxies, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

export interface Collected {
  data: string;
  attributes: Record<string, string>;
  /** When the test received it (ms since epoch). */
  at: number;
}

/**
 * A fresh subscription on a topic, created before anything is sent; `until` pulls synchronously (the
 * emulator's streaming pull fell behind under ten thousand messages) and acknowledges as it goes.
 */
export async function subscribe(pubsub: PubSub, topic: string) {
  const name = `test-${topic}-${Math.random().toString(36).slice(2, 10)}`;
  const [sub] = await pubsub.topic(topic).createSubscription(name, { ackDeadlineSeconds: 600 });
  const client = new v1.SubscriberClient({ servicePath: pubsub.options.servicePath, port: Number(pubsub.options.port), sslCreds: credentials.createInsecure() });
  const got: Collected[] = [];
  return {
    got,
    async until(done: (messages: Collected[]) => boolean, timeoutMs = 60_000): Promise<Collected[]> {
      const deadline = Date.now() + timeoutMs;
      while (!done(got) && Date.now() < deadline) {
        const [resp] = await client.pull({ subscription: sub.name, maxMessages: 1000 }, { timeout: 10_000 }).catch(() => [{ receivedMessages: [] }]);
        const msgs = resp.receivedMessages ?? [];
        if (!msgs.length) {
          await new Promise((r) => setTimeout(r, 250));
          continue;
        }
        const at = Date.now();
        for (const m of msgs) got.push({ data: Buffer.from(m.message!.data as Uint8Array).toString("utf8"), attributes: (m.message!.attributes ?? {}) as Record<string, string>, at });
        await client.acknowledge({ subscription: sub.name, ackIds: msgs.map((m) => m.ackId!) });
      }
      return got;
    },
    async close() {
      await client.close().catch(() => {});
      await sub.delete().catch(() => {});
    },
  };
}

/** Subscribes, then pulls until `until` says enough or the deadline passes. */
export async function collect(pubsub: PubSub, topic: string, until: (messages: Collected[]) => boolean, timeoutMs = 60_000): Promise<Collected[]> {
  const sub = await subscribe(pubsub, topic);
  try {
    return await sub.until(until, timeoutMs);
  } finally {
    await sub.close();
  }
}

/** Every record in the archive objects under a prefix (gzip NDJSON). */
export async function archiveRecords(storage: Storage, prefix: string): Promise<Record<string, unknown>[]> {
  const [files] = await storage.bucket(RAW_BUCKET).getFiles({ prefix });
  const out: Record<string, unknown>[] = [];
  for (const f of files) {
    const [buf] = await f.download({ decompress: false, validation: false } as never);
    const text = buf[0] === 0x1f && buf[1] === 0x8b ? gunzipSync(buf).toString("utf8") : buf.toString("utf8");
    for (const line of text.split("\n")) if (line.trim()) out.push(JSON.parse(line));
  }
  return out;
}

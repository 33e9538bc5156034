/**
 * Shared set-up of the end-to-end tests: the Pub/Sub emulator with topics/subscriptions, optionally
 * the Cloud Storage emulator with the buckets, a DuckDB file, a running pipeline.
 */
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { PubSub } from "@google-cloud/pubsub";
import { DuckDbSink } from "../../warehouse/duckdb/sink.js";
import { runReadOnly } from "../../warehouse/duckdb/query.js";
import { PubSubSource } from "../sources/pubsub.js";
import { StreamingPipeline, type StreamingOptions } from "../streaming.js";
import { startEmulator, type Emulator } from "../testing/pubsub-emulator.js";
import { ensureResources } from "../../infra/local/pubsub-emulator.js";
import { startGcsEmulator, type GcsEmulatorHandle } from "../../infra/local/gcs-emulator.js";
import { LANDING_BUCKET, RAW_BUCKET } from "../options.js";
import { LOCAL_PROJECT } from "../../contracts/defaults.js";

export const PROJECT = LOCAL_PROJECT;

export interface Harness {
  emulator: Emulator;
  pubsub: PubSub;
  dbPath: string;
  /** With `{ gcs: true }`: the Cloud Storage emulator (raw and landing buckets); STORAGE_EMULATOR_HOST points at it. */
  gcs?: GcsEmulatorHandle;
  close(): Promise<void>;
}

export async function startHarness(name: string, opts: { gcs?: boolean } = {}): Promise<Harness> {
  const emulator = await startEmulator();
  process.env.PUBSUB_EMULATOR_HOST = emulator.host;
  process.env.METADATA_SERVER_DETECTION = "none";
  // Topics and subscriptions exactly as npm start creates them (contracts/defaults.ts).
  await ensureResources(emulator.host, PROJECT);
  const pubsub = new PubSub({ projectId: PROJECT });
  const dir = join(process.cwd(), ".data/scratch/e2e");
  mkdirSync(dir, { recursive: true });
  const dbPath = join(dir, `${name}-${process.pid}.duckdb`);
  rmSync(dbPath, { force: true });
  rmSync(dbPath + ".wal", { force: true });
  const gcsDir = join(dir, `${name}-${process.pid}-gcs`);
  const gcs = opts.gcs ? await startGcsEmulator({ port: 0, dataDir: gcsDir, buckets: [RAW_BUCKET, LANDING_BUCKET] }) : undefined;
  if (gcs) process.env.STORAGE_EMULATOR_HOST = gcs.url;
  return {
    emulator,
    pubsub,
    dbPath,
    ...(gcs ? { gcs } : {}),
    async close() {
      await pubsub.close();
      await emulator.stop();
      await gcs?.stop();
      rmSync(gcsDir, { recursive: true, force: true });
      rmSync(dbPath, { force: true });
      rmSync(dbPath + ".wal", { force: true });
    },
  };
}

export async function startPipeline(h: Harness, extra: Partial<StreamingOptions> = {}) {
  const sink = await DuckDbSink.open(h.dbPath);
  await sink.init();
  const source = new PubSubSource(new PubSub({ projectId: PROJECT }));
  const pipeline = new StreamingPipeline({ sink, source, batchIntervalMs: 100, ...extra });
  pipeline.start();
  return {
    sink,
    pipeline,
    query: async (sql: string) => (await runReadOnly(await sink.readConnection(), sql)).rows,
    async stop() {
      await pipeline.stop();
      await source.pubsub.close();
      await sink.close();
    },
  };
}

export async function publish(pubsub: PubSub, topic: string, records: { event_id: string; event_ts: string }[], orderingKey?: (r: never) => string) {
  const t = pubsub.topic(topic, { batching: { maxMessages: 500, maxMilliseconds: 10 }, ...(orderingKey ? { messageOrdering: true } : {}) });
  await Promise.all(
    records.map((r) =>
      t.publishMessage({
        data: Buffer.from(JSON.stringify(r)),
        attributes: { stream: topic, source: "test", event_id: r.event_id, event_ts: r.event_ts },
        ...(orderingKey ? { orderingKey: orderingKey(r as never) } : {}),
      }),
    ),
  );
}

/** Polls `check` until it returns true (bounded): tests wait for an outcome, never for a fixed time. */
export async function until(check: () => Promise<boolean>, timeoutMs = 30_000, what = "condition"): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Deterministic shuffle (mulberry32) so a failure reproduces. */
export function shuffle<T>(xs: T[], seed: number): T[] {
  let a = seed >>> 0;
  const rand = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { gzipSync } from "node:zlib";
import { PubSub } from "@google-cloud/pubsub";
import { DuckDbSink } from "../../warehouse/duckdb/sink.js";
import { runReadOnly } from "../../warehouse/duckdb/query.js";
import { LandingLoader } from "../sources/landing.js";
import { Storage } from "@google-cloud/storage";
import { GcsArchive } from "../sources/archive.js";
import { LANDING_BUCKET } from "../options.js";
import type { BatchStats } from "../transforms/batch.js";
import { eventRecord } from "../testing/records.js";
import { PROJECT, startHarness, until, type Harness } from "./harness.js";

let h: Harness;
beforeAll(async () => {
  h = await startHarness("landing", { gcs: true });
});
afterAll(async () => {
  await h?.close();
});

describe("landing uploads", () => {
  it("loads a bulk upload announced on landing-notifications once, judged on its own watermark, refusing records of another source, then acks it", async () => {
    const objectId = "landing/events/dt=2026-11-25/req-1.ndjson.gz";
    const old = Array.from({ length: 25 }, (_, i) => eventRecord(80_000 + i, new Date(Date.parse("2026-11-01T10:00:00Z") + i * 60_000).toISOString()));
    // A record claiming another source than the uploader's credential (the object's metadata).
    const forged = eventRecord(90_000, "2026-11-01T12:00:00.000Z", { source: "ios" });
    // In the Cloud Storage emulator as the edge stores it (gzip bytes, application/gzip, the uploader in its metadata).
    const gz = gzipSync([...old.map((r) => JSON.stringify(r)), '{"type":"track","event":"raw SDK call"}', JSON.stringify(forged)].join("\n"));
    const storage = new Storage({ apiEndpoint: h.gcs!.url, projectId: PROJECT });
    await storage.bucket(LANDING_BUCKET).file(objectId).save(gz, {
      resumable: true,
      contentType: "application/gzip",
      metadata: { metadata: { stream: "events", source: "web", request_id: "req-1" } },
      preconditionOpts: { ifGenerationMatch: 0 },
    });
    const reader = new GcsArchive(LANDING_BUCKET, h.gcs!.url);
    const sink = await DuckDbSink.open(h.dbPath);
    await sink.init();
    const loaded: [string, BatchStats][] = [];
    const loader = new LandingLoader({ pubsub: new PubSub({ projectId: PROJECT }), reader, sink, onLoaded: (o, s) => loaded.push([o, s]) });
    loader.start();
    try {
      const notify = () =>
        h.pubsub.topic("landing-notifications").publishMessage({
          data: Buffer.from(JSON.stringify({ name: objectId, bucket: "tideline-local-landing" })),
          attributes: { eventType: "OBJECT_FINALIZE", payloadFormat: "JSON_API_V1", bucketId: "tideline-local-landing", objectId, objectGeneration: "1" },
        });
      await notify();
      await until(async () => loaded.length === 1, 30_000, "the upload to load");
      expect(loaded[0]![1]).toMatchObject({ loaded: 25, deadLettered: 2 });
      // A repeated notification (Cloud Storage notifications are at-least-once too) changes nothing.
      await notify();
      await until(async () => loaded.length === 2, 30_000, "the repeated notification");
      expect(loaded[1]![1]).toMatchObject({ loaded: 0, duplicates: 25 });
      const q = async (sql: string) => (await runReadOnly(await sink.readConnection(), sql)).rows;
      expect(await q("SELECT count(*) AS n, count(*) FILTER (WHERE is_late) AS late FROM raw.events")).toEqual([{ n: 25, late: 0 }]);
      const reasons = (await q("SELECT reason FROM ops.dead_letters ORDER BY reason")).map((r) => String(r.reason));
      expect(reasons).toEqual([expect.stringMatching(/events record does not match the contract/), expect.stringMatching(/line 27: record of source "ios" in an upload of source "web"/)]);
      expect(await q("SELECT count(*) AS n FROM raw.events WHERE source = 'ios'")).toEqual([{ n: 0 }]);
      expect(await q("SELECT count(*) AS n FROM ops.watermarks")).toEqual([{ n: 0 }]);
    } finally {
      await loader.stop();
      await sink.close();
    }
  });
});

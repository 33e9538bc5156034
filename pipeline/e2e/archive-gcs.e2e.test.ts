import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { gzipSync } from "node:zlib";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { Storage } from "@google-cloud/storage";
import { startGcsEmulator, type GcsEmulatorHandle } from "../../infra/local/gcs-emulator.js";
import { DuckDbSink } from "../../warehouse/duckdb/sink.js";
import { runReadOnly } from "../../warehouse/duckdb/query.js";
import { runBackfill } from "../backfill.js";
import { GcsArchive } from "../sources/archive.js";
import { eventRecord } from "../testing/records.js";

const BUCKET = "tideline-local-raw";
let store: GcsEmulatorHandle;
let dir: string;
beforeAll(async () => {
  mkdirSync(join(process.cwd(), ".data/scratch"), { recursive: true });
  dir = mkdtempSync(join(process.cwd(), ".data/scratch/gcs-"));
  store = await startGcsEmulator({ port: 0, dataDir: join(dir, "gcs"), buckets: [BUCKET] });
});
afterAll(async () => {
  await store?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("backfill from the Cloud Storage emulator", () => {
  it("lists the archive by date and stream prefix, reads the gzip objects and loads each event once", async () => {
    const storage = new Storage({ apiEndpoint: store.url, projectId: "tideline-local" });
    const day1 = Array.from({ length: 30 }, (_, i) => eventRecord(70_000 + i, `2026-11-21T08:${String(i).padStart(2, "0")}:00.000Z`));
    const day2 = Array.from({ length: 20 }, (_, i) => eventRecord(71_000 + i, `2026-11-22T09:${String(i).padStart(2, "0")}:00.000Z`));
    const put = (name: string, recs: object[]) =>
      storage.bucket(BUCKET).file(name).save(gzipSync(recs.map((r) => JSON.stringify(r)).join("\n") + "\n"), { contentType: "application/gzip", resumable: false });
    await put("raw/events/dt=2026-11-21/hour=08/a.ndjson.gz", day1);
    await put("raw/events/dt=2026-11-22/hour=09/b.ndjson.gz", [...day2, ...day1.slice(0, 5)]);
    await put("raw/events/dt=2026-11-23/hour=00/c.ndjson.gz", [eventRecord(72_000, "2026-11-23T00:00:00.000Z")]);

    const sink = await DuckDbSink.open(join(dir, "w.duckdb"));
    try {
      await sink.init();
      const r = await runBackfill({ from: "2026-11-21", to: "2026-11-22", reader: new GcsArchive(BUCKET, store.url), sink });
      expect(r).toMatchObject({ objects: 2, stats: { messages: 55, loaded: 50, duplicates: 5 } });
      const rows = (await runReadOnly(await sink.readConnection(), "SELECT event_date::VARCHAR AS d, count(*) AS n FROM raw.events GROUP BY 1 ORDER BY 1")).rows;
      expect(rows).toEqual([
        { d: "2026-11-21", n: 30 },
        { d: "2026-11-22", n: 20 },
      ]);
    } finally {
      await sink.close();
    }

    // The CLI: no pipeline answering on the dashboard port, so it opens the warehouse itself.
    process.env.STORAGE_EMULATOR_HOST = store.url;
    process.env.TIDELINE_WAREHOUSE = join(dir, "w.duckdb");
    process.env.TIDELINE_DASHBOARD_PORT = "1";
    const { backfill } = await import("../../bin/commands/backfill.js");
    expect(await backfill({ from: "2026-11-21", to: "2026-11-23", progress: false })).toBe(0);
    const after = await DuckDbSink.open(join(dir, "w.duckdb"));
    try {
      expect((await runReadOnly(after.con, "SELECT count(*) AS n FROM raw.events")).rows).toEqual([{ n: 51 }]);
    } finally {
      await after.close();
    }
  });
});

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { gzipSync } from "node:zlib";
import { rmSync } from "node:fs";
import { DuckDbSink } from "../../warehouse/duckdb/sink.js";
import { runReadOnly } from "../../warehouse/duckdb/query.js";
import { runBackfill } from "../backfill.js";
import type { ArchiveReader } from "../sources/archive.js";
import { eventRecord } from "../testing/records.js";
import { publish, shuffle, startHarness, startPipeline, until, type Harness } from "./harness.js";
import type { EventRecord } from "../../contracts/records.js";

const MIN = 60_000;
const HOUR = 60 * MIN;

/** The archive as the edge lays it out, held in memory behind the same port the GCS reader implements. */
class MemoryArchive implements ArchiveReader {
  readonly objects = new Map<string, Uint8Array>();
  put(records: EventRecord[], receivedAt: number, batchId: string) {
    const d = new Date(receivedAt).toISOString();
    this.objects.set(`raw/events/dt=${d.slice(0, 10)}/hour=${d.slice(11, 13)}/${batchId}.ndjson.gz`, gzipSync(records.map((r) => JSON.stringify(r)).join("\n") + "\n"));
  }
  async list(prefix: string) {
    return [...this.objects.entries()].filter(([n]) => n.startsWith(prefix)).map(([name, b]) => ({ name, size: b.length }));
  }
  async read(name: string) {
    return this.objects.get(name)!;
  }
}

let h: Harness;
beforeAll(async () => {
  h = await startHarness("backfill");
});
afterAll(async () => {
  await h?.close();
});

const SNAPSHOT = `SELECT * EXCLUDE (loaded_at) FROM raw.events ORDER BY event_id`;

describe("batch backfill over the archive", () => {
  it("gives the same raw.events as streaming, and a re-run changes nothing", async () => {
    // Arrival: an on-time hour, then an hour later a mix of on-time and late events (30% sent twice).
    const t1 = Date.parse("2026-11-24T10:30:00.000Z");
    const t2 = t1 + HOUR;
    const first = Array.from({ length: 80 }, (_, i) => eventRecord(60_000 + i, new Date(t1 - (i % 60) * 1000).toISOString()));
    // Lateness is relative to the watermark when a record arrives, so the late ones arrive (and are
    // archived) in their own batch before the on-time ones move the watermark on.
    const late = Array.from({ length: 40 }, (_, i) => eventRecord(62_000 + i, new Date(t1 - 2 * HOUR - i * 17 * MIN).toISOString()));
    const onTime = Array.from({ length: 60 }, (_, i) => eventRecord(61_000 + i, new Date(t2 - (i % 60) * 1000).toISOString()));
    const withDups = (xs: EventRecord[], seed: number) => shuffle([...xs, ...xs.filter((_, i) => i % 10 < 3)], seed);
    const lateDelivery = withDups(late, 3);
    const onTimeDelivery = withDups(onTime, 4);
    const archive = new MemoryArchive();
    archive.put(first.slice(0, 40), t1, "a1");
    archive.put([...first.slice(40), ...first.slice(0, 10)], t1 + MIN, "a2");
    archive.put(lateDelivery, t2, "b1");
    archive.put(onTimeDelivery, t2 + MIN, "b2");

    const p = await startPipeline(h);
    let streamed: Record<string, unknown>[];
    try {
      await publish(h.pubsub, "events", [...first, ...first.slice(0, 10)]);
      await until(async () => (await p.query("SELECT count(*) AS n FROM raw.events"))[0]!.n === 80, 30_000, "first hour");
      await publish(h.pubsub, "events", lateDelivery);
      await until(async () => (await p.query("SELECT count(*) AS n FROM raw.events"))[0]!.n === 120, 30_000, "late events");
      await publish(h.pubsub, "events", onTimeDelivery);
      await until(async () => (await p.query("SELECT count(*) AS n FROM raw.events"))[0]!.n === 180, 30_000, "second hour");
      streamed = await p.query(SNAPSHOT);
    } finally {
      await p.stop();
    }
    expect(streamed.filter((r) => r.is_late)).toHaveLength(40);

    const path = h.dbPath.replace(".duckdb", "-batch.duckdb");
    rmSync(path, { force: true });
    const sink = await DuckDbSink.open(path);
    try {
      await sink.init();
      const progress: number[] = [];
      // All four objects are one transaction; lateness is still judged object by object, as they arrived.
      const r1 = await runBackfill({ from: "2026-11-24", to: "2026-11-24", reader: archive, sink, onProgress: (x) => progress.push(x.objectsDone) });
      expect(r1).toMatchObject({ objects: 4, stats: { messages: 220, loaded: 180, late: 40, duplicates: 40 } });
      expect(progress).toEqual([0, 4]);
      const q = async (sql: string) => (await runReadOnly(await sink.readConnection(), sql)).rows;
      expect(await q(SNAPSHOT)).toEqual(streamed);

      const tables = "SELECT (SELECT list(m ORDER BY m.minute) FROM ops.realtime_metrics m) AS metrics, (SELECT list(p) FROM ops.partitions_touched p) AS parts, (SELECT count(*) FROM raw.events) AS n";
      const before = await q(tables);
      const r2 = await runBackfill({ from: "2026-11-23", to: "2026-11-25", reader: archive, sink });
      expect(r2.stats).toMatchObject({ messages: 220, loaded: 0, duplicates: 220 });
      expect(await q(tables)).toEqual(before);
      expect(await q(SNAPSHOT)).toEqual(streamed);
    } finally {
      await sink.close();
      rmSync(path, { force: true });
    }
  });

  it("stops at an object it cannot read, naming it, after committing the groups before it", async () => {
    const archive = new MemoryArchive();
    const t0 = Date.parse("2026-11-24T08:00:00.000Z");
    for (let b = 0; b < 4; b++) archive.put([0, 1, 2].map((i) => eventRecord(9000 + b * 10 + i, new Date(t0 + b * HOUR + i * MIN).toISOString())), t0 + b * HOUR, `b${b}`);
    const bad = "raw/events/dt=2026-11-24/hour=10/b2.ndjson.gz";
    archive.objects.set(bad, Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 1, 2, 3])); // cut off
    const path = h.dbPath.replace(/\.duckdb$/, "-stop.duckdb");
    const sink = await DuckDbSink.open(path);
    try {
      await sink.init();
      await expect(runBackfill({ from: "2026-11-24", to: "2026-11-24", reader: archive, sink, objectsPerRun: 1 })).rejects.toThrow(
        new RegExp(`^could not read ${bad.replaceAll(".", "\\.")}: `),
      );
      // Groups are committed in order, so everything before the damaged object is in; nothing after it.
      expect((await runReadOnly(sink.con, "SELECT count(*) AS n FROM raw.events")).rows).toEqual([{ n: 6 }]);
      // The warehouse is usable afterwards, and DuckDB has its cores back.
      expect((await runReadOnly(sink.con, "SELECT current_setting('threads') AS t")).rows[0]!.t).toBeGreaterThanOrEqual(1);
    } finally {
      await sink.close();
      rmSync(path, { force: true });
      rmSync(`${path}.wal`, { force: true });
    }
  });

  it("ends a transaction once its objects hold the records it aims for, by the average object prepared so far", async () => {
    const archive = new MemoryArchive();
    const t0 = Date.parse("2026-11-24T08:00:00.000Z");
    for (let b = 0; b < 12; b++) archive.put(Array.from({ length: 10 }, (_, i) => eventRecord(20_000 + b * 10 + i, new Date(t0 + b * MIN + i * 1000).toISOString())), t0 + b * MIN, `g${String(b).padStart(2, "0")}`);
    const path = h.dbPath.replace(/\.duckdb$/, "-groups.duckdb");
    const sink = await DuckDbSink.open(path);
    const sizes: number[] = [];
    const commit = sink.commit.bind(sink);
    sink.commit = async (b, opts) => {
      sizes.push(b.events.length);
      await commit(b, opts);
    };
    try {
      await sink.init();
      const r = await runBackfill({ from: "2026-11-24", to: "2026-11-24", reader: archive, sink, recordsPerTransaction: 35 });
      expect(r.stats.loaded).toBe(120);
      expect(sizes.reduce((a, n) => a + n, 0)).toBe(120);
      // Every transaction but the last holds at least the target; once object sizes are known, no more than one object over it.
      expect(sizes.length).toBeGreaterThan(1);
      for (const n of sizes.slice(0, -1)) expect(n).toBeGreaterThanOrEqual(35);
      for (const n of sizes.slice(1, -1)) expect(n).toBe(40);
    } finally {
      await sink.close();
      rmSync(path, { force: true });
      rmSync(`${path}.wal`, { force: true });
    }
  });

  it("rejects a bad date range with a message that says what to type", async () => {
    await expect(runBackfill({ from: "2026-11-25", to: "2026-11-24", reader: new MemoryArchive(), sink: {} as never })).rejects.toThrow("--from 2026-11-25 is after --to 2026-11-24");
    await expect(runBackfill({ from: "yesterday", to: "2026-11-24", reader: new MemoryArchive(), sink: {} as never })).rejects.toThrow(/--from yesterday is not a date; use YYYY-MM-DD/);
  });
});

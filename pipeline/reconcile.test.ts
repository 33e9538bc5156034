import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";
import { DuckDbSink } from "../warehouse/duckdb/sink.js";
import type { EventRecord } from "../contracts/records.js";
import { duckDbStoredIds, parseSince, reconcileArchive } from "./reconcile.js";
import type { ArchiveReader } from "./sources/archive.js";
import { eventRecord } from "./testing/records.js";

/** The archive as the edge lays it out, in memory behind the reader's port. */
class MemoryArchive implements ArchiveReader {
  readonly objects = new Map<string, Uint8Array>();
  put(records: EventRecord[], at: string, id: string) {
    this.objects.set(`raw/events/dt=${at.slice(0, 10)}/hour=${at.slice(11, 13)}/${id}.ndjson.gz`, gzipSync(records.map((r) => JSON.stringify(r)).join("\n") + "\n"));
  }
  async list(prefix: string) {
    return [...this.objects.entries()].filter(([n]) => n.startsWith(prefix)).map(([name, b]) => ({ name, size: b.length }));
  }
  async read(name: string) {
    return this.objects.get(name)!;
  }
}

const dir = mkdtempSync(join(tmpdir(), "reconcile-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("reconcile", () => {
  it("loads what the archive holds since a time and the warehouse lacks, and nothing the second time", async () => {
    const archive = new MemoryArchive();
    const early = Array.from({ length: 30 }, (_, i) => eventRecord(i, "2026-11-30T10:05:00.000Z"));
    const late = Array.from({ length: 20 }, (_, i) => eventRecord(100 + i, "2026-11-30T11:05:00.000Z"));
    archive.put(early, "2026-11-30T10:06:00.000Z", "a");
    // An object that repeats records of another (a redelivered queue batch): stored once.
    archive.put([...late, ...early.slice(0, 5)], "2026-11-30T11:06:00.000Z", "b");
    const now = new Date("2026-11-30T12:00:00.000Z");
    const sink = await DuckDbSink.open(join(dir, "w.duckdb"));
    const stored = duckDbStoredIds(sink.instance);
    const count = async () => {
      const con = await sink.instance.connect();
      try {
        return Number((await con.runAndReadAll("SELECT count(*) AS n, count(DISTINCT event_id) AS d FROM raw.events")).getRows()[0]![0]);
      } finally {
        con.closeSync();
      }
    };
    try {
      await sink.init();
      // Since 11:00: only the 11h object is read; its 25 records are missing, all loaded.
      const first = await reconcileArchive({ since: new Date("2026-11-30T11:00:00Z"), reader: archive, sink, stored, now });
      expect(first).toMatchObject({ objects: 1, records: 25, missing: 25, replayedObjects: 1 });
      expect(first.stats.loaded).toBe(25);
      expect(await count()).toBe(25);
      // Since 10:00: both objects; only the 25 early records not yet held are missing.
      const second = await reconcileArchive({ since: new Date("2026-11-30T10:00:00Z"), reader: archive, sink, stored, now });
      expect(second).toMatchObject({ objects: 2, records: 55, missing: 25 });
      expect(second.stats.loaded).toBe(25);
      expect(await count()).toBe(50);
      // Idempotent: nothing missing, nothing loaded, no object replayed.
      const third = await reconcileArchive({ since: new Date("2026-11-30T10:00:00Z"), reader: archive, sink, stored, now });
      expect(third).toMatchObject({ objects: 2, records: 55, missing: 0, replayedObjects: 0 });
      expect(third.stats.loaded).toBe(0);
      expect(await count()).toBe(50);
    } finally {
      stored.close();
      await sink.close();
    }
  });

  it("reads --since as an ISO time, a date or a duration back from now, and names the forms otherwise", () => {
    const now = new Date("2026-11-30T12:00:00Z");
    expect(parseSince("90m", now).toISOString()).toBe("2026-11-30T10:30:00.000Z");
    expect(parseSince("7d", now).toISOString()).toBe("2026-11-23T12:00:00.000Z");
    expect(parseSince("2026-11-29", now).toISOString()).toBe("2026-11-29T00:00:00.000Z");
    expect(parseSince("2026-11-29T08:00:00Z", now).toISOString()).toBe("2026-11-29T08:00:00.000Z");
    expect(() => parseSince("yesterday", now)).toThrow(/ISO time .* a date .* a duration/);
  });
});

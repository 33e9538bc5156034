import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { PreparePool } from "./prepare-pool.js";
import { decodeChunk, prepareChunk, type SourceChunk } from "../graph-fns.js";
import { applyPrepared } from "../process-batch.js";
import { sourceStringOf } from "../transforms/parse.js";
import { SourcedEvent } from "../transforms/sourced-event.js";
import { eventRecord } from "../testing/records.js";
import { DuckDbSink } from "../../warehouse/duckdb/sink.js";
import { runReadOnly } from "../../warehouse/duckdb/query.js";
import { writeSourcesNdjson } from "../../warehouse/stage-ndjson.js";

const NOW = "2026-11-25T12:00:00.000Z";
const OBJECT = "raw/events/dt=2026-11-25/hour=11/abc.ndjson.gz";
const iso = (minutesAgo: number) => new Date(Date.parse(NOW) - minutesAgo * 60_000).toISOString();

/** An archive object as the edge writes it, plus what a hand-edited or damaged one may hold. */
function archiveObject(): Extract<SourceChunk, { kind: "archive" }> {
  const records = [1, 2, 3, 4, 8].map((i) => eventRecord(i, iso(10 + i))); // 3 and 8 are orders with revenue
  const lines = [
    JSON.stringify(records[0]),
    JSON.stringify(records[1]),
    "",
    JSON.stringify(records[2]) + "\r", // CRLF line ending
    "{not json",
    JSON.stringify({ ...records[3], event_ts: "yesterday" }), // breaks the contract
    JSON.stringify(records[0]), // redelivered within the object
    "   " + JSON.stringify({ ...records[4], unknown_member: 1 }) + "  ",
    // As the edge writes it: null members omitted (the worker checks events without filling them in).
    JSON.stringify(Object.fromEntries(Object.entries(eventRecord(9, iso(19), { type: "identify", event: null })).filter(([, v]) => v !== null))),
  ];
  return { kind: "archive", id: OBJECT, stream: "events", object: OBJECT, gzip: gzipSync(lines.join("\n") + "\n") };
}

const DIR = join(process.cwd(), ".data/scratch/prepare-pool-test");
let pool: PreparePool;
beforeAll(() => {
  pool = new PreparePool(1);
  mkdirSync(DIR, { recursive: true });
});
afterAll(async () => {
  await pool.close();
  rmSync(DIR, { recursive: true, force: true });
});

describe("PreparePool (archive objects prepared on worker threads)", () => {
  it("prepares an object exactly as the runner's own thread does", async () => {
    const chunk = archiveObject();
    const here = prepareChunk(decodeChunk(chunk), NOW).prepared;
    const there = await pool.prepare(chunk, NOW);

    expect(there.messages).toBe(here.messages);
    expect(there.messages).toBe(8);
    expect(there.duplicatesInBatch).toBe(here.duplicatesInBatch);
    expect(there.duplicatesInBatch).toBe(1);
    const core = (r: { event_id: string; event_ts: string; type: string; event: string | null; properties?: Record<string, unknown> | null }) => ({
      event_id: r.event_id,
      event_ts: r.event_ts,
      type: r.type,
      event: r.event,
      revenue: r.properties?.revenue,
    });
    expect(there.events.map(core)).toEqual(here.events.map(core));
    expect(there.events).toHaveLength(5);
    expect(there.events.map(core)[4]).toMatchObject({ type: "identify", event: null });
    expect(there.events.every((e) => e instanceof SourcedEvent)).toBe(true);
    expect(there.events.map(core).find((e) => e.event === "Order Completed")?.revenue).toBe(13.25);
    // The message text travels with each event, byte for byte (the line as written, trimmed).
    expect(there.events.map((e) => sourceStringOf(e))).toEqual(here.events.map((e) => sourceStringOf(e)));
    expect(sourceStringOf(there.events[3]!)).toContain('"unknown_member":1');
    expect(sourceStringOf(there.events[4]!)).not.toContain(':null');
    // Dead letters name the same lines with the same reasons.
    expect(there.deadLetters.map((d) => [d.stage, d.reason, d.payload])).toEqual(here.deadLetters.map((d) => [d.stage, d.reason, d.payload]));
    expect(there.deadLetters.map((d) => d.reason)).toEqual([expect.stringMatching(/#5 on events is not JSON/), expect.stringMatching(/event_ts: has an invalid format/)]);
  });

  it("stages kept events as their text: neighbours in one range, nothing of the rows left out", async () => {
    const { events } = await pool.prepare(archiveObject(), NOW);
    const file = join(DIR, "staged.ndjson");
    const kept = [events[0]!, events[2]!, events[3]!]; // events[1] dropped, say as already stored
    writeSourcesNdjson(file, kept);
    const lines = readFileSync(file, "utf8").split("\n").map((l) => l.trim()).filter(Boolean);
    expect(lines).toEqual(kept.map((e) => sourceStringOf(e)));
    writeSourcesNdjson(file, events);
    expect(readFileSync(file, "utf8").split("\n").map((l) => l.trim()).filter(Boolean)).toEqual(events.map((e) => sourceStringOf(e)));
  });

  it("names the object it cannot read, and goes on with the next", async () => {
    const bad: SourceChunk = { kind: "archive", id: "bad", stream: "events", object: "raw/events/dt=2026-11-25/hour=11/bad.ndjson.gz", gzip: Buffer.from([0x1f, 0x8b, 8, 0, 1, 2, 3]) };
    await expect(pool.prepare(bad, NOW)).rejects.toThrow(/^could not read raw\/events\/dt=2026-11-25\/hour=11\/bad\.ndjson\.gz: /);
    expect((await pool.prepare(archiveObject(), NOW)).events).toHaveLength(5);
  });

  it("stores worker-prepared events with the event-time columns the transforms computed", async () => {
    const path = join(DIR, `w-${process.pid}.duckdb`);
    const sink = await DuckDbSink.open(path);
    try {
      await sink.init();
      const opts = { mode: "live" as const };
      // A first batch moves the watermark to now − 5 min out-of-orderness; the object's events
      // (11–19 min ago) are then late by 6–14 minutes, within the allowed lateness.
      await applyPrepared(sink, prepareChunk(decodeChunk({ kind: "messages", id: "m", messages: [{ stream: "events", data: JSON.stringify(eventRecord(99, iso(0))) }] }), NOW).prepared, opts, NOW);
      const batch = await applyPrepared(sink, await pool.prepare(archiveObject(), NOW), opts, NOW);
      expect(batch.events.map((e) => e.lateness_ms).sort()).toEqual([6, 7, 8, 13, 14].map((m) => m * 60_000));
      const expected = batch.events
        .map((e) => ({ event_id: e.event_id, event_date: e.event_date, is_late: e.is_late, lateness_ms: e.lateness_ms }))
        .sort((a, b) => a.event_id.localeCompare(b.event_id));
      const stored = (
        await runReadOnly(
          sink.con,
          `SELECT event_id, event_date::VARCHAR AS event_date, is_late, lateness_ms, loaded_at = '${NOW}'::TIMESTAMPTZ AS stamped, context->'library'->>'name' AS library
           FROM raw.events WHERE event_id IN (${batch.events.map((e) => `'${e.event_id}'`).join(", ")}) ORDER BY event_id`,
        )
      ).rows;
      expect(stored.map(({ stamped: _s, library: _l, ...r }) => r)).toEqual(expected);
      expect(stored.every((r) => r.stamped === true)).toBe(true);
      // The full record came from the message text: fields the worker never sent across are there.
      expect(stored.map((r) => r.library)).toEqual(Array(5).fill("analytics.js"));
    } finally {
      await sink.close();
      rmSync(path, { force: true });
      rmSync(path + ".wal", { force: true });
    }
  });
});

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { gzipSync } from "node:zlib";
import { DuckDbSink } from "../warehouse/duckdb/sink.js";
import { runReadOnly } from "../warehouse/duckdb/query.js";
import { runLocal } from "./run-local.js";
import { asMessage, eventRecord } from "./testing/records.js";

const NOW = "2026-11-25T12:00:00.000Z";
let sink: DuckDbSink;
beforeAll(async () => {
  sink = await DuckDbSink.open(":memory:");
  await sink.init();
});
afterAll(() => sink.close());

describe("the single-node engine's steps", () => {
  it("loads micro-batches and archive objects, in order, exactly once", async () => {
    const recs = Array.from({ length: 50 }, (_, i) => eventRecord(i, `2026-11-25T11:${String(10 + (i % 40)).padStart(2, "0")}:00.000Z`));
    const archive = gzipSync(recs.slice(20).map((r) => JSON.stringify(r)).join("\n") + "\n");
    const r = await runLocal(
      [
        { kind: "messages", id: "pull-1", messages: recs.slice(0, 30).map((x) => asMessage("events", x)) },
        { kind: "archive", id: "obj-1", stream: "events", object: "raw/events/dt=2026-11-25/hour=11/a.ndjson.gz", gzip: archive },
        { kind: "messages", id: "pull-2", messages: [{ stream: "events", data: "not json" }] },
      ],
      sink,
      { mode: "live", now: () => NOW },
    );
    expect(r.commits).toBe(3);
    expect(r.stats).toMatchObject({ messages: 61, loaded: 50, duplicates: 10, deadLettered: 1 });
    expect((await runReadOnly(sink.con, "SELECT count(*) AS n, count(DISTINCT event_id) AS d FROM raw.events")).rows).toEqual([{ n: 50, d: 50 }]);
    expect((await runReadOnly(sink.con, "SELECT stage, stream FROM ops.dead_letters")).rows).toEqual([{ stage: "pipeline", stream: "events" }]);
  });

  it("fails the run (so nothing is acknowledged) when the warehouse commit fails", async () => {
    const broken = { ...sink, lookup: sink.lookup.bind(sink), commit: async () => Promise.reject(new Error("disk full")), init: async () => {}, close: async () => {}, kind: "duckdb" as const };
    await expect(runLocal([{ kind: "messages", id: "x", messages: [asMessage("events", eventRecord(999, NOW))] }], broken, { mode: "live", now: () => NOW })).rejects.toThrow(/disk full/);
  });
});

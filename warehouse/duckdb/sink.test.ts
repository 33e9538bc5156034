import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { DuckDbSink } from "./sink.js";
import { QueryError, queryFile, runReadOnly } from "./query.js";
import { processMessages } from "../../pipeline/process-batch.js";
import { asMessage, cdcRecord, eventRecord } from "../../pipeline/testing/records.js";

const DIR = join(process.cwd(), ".data/scratch/duckdb-sink-test");
const NOW = "2026-11-25T12:00:00.000Z";
const T0 = Date.parse(NOW);
const iso = (msAgo: number) => new Date(T0 - msAgo).toISOString();
const MIN = 60_000;
const at = (t: string) => () => t;

let sink: DuckDbSink;
let path: string;
beforeEach(async () => {
  mkdirSync(DIR, { recursive: true });
  path = join(DIR, `w-${process.pid}-${Math.random().toString(36).slice(2)}.duckdb`);
  sink = await DuckDbSink.open(path);
  await sink.init();
});
afterEach(async () => {
  await sink.close();
  rmSync(path, { force: true });
  rmSync(path + ".wal", { force: true });
});

const q = async (sql: string) => (await runReadOnly(sink.con, sql)).rows;

describe("DuckDbSink", () => {
  it("stores each event once across batches, flags late ones, persists the watermark and corrects per-minute metrics", async () => {
    const onTime = [1, 2, 3, 4].map((i) => eventRecord(i, iso(MIN)));
    await processMessages(sink, [...onTime, onTime[0]!].map((r) => asMessage("events", r)), { mode: "live", now: at(NOW) });
    expect(await q("SELECT count(*) AS n FROM raw.events")).toEqual([{ n: 4 }]);
    const [wm] = await q("SELECT epoch_ms(watermark_ts) AS w FROM ops.watermarks WHERE stream = 'events'");
    expect(wm!.w).toBe(T0 - MIN - 5 * MIN);

    const late = eventRecord(8, iso(2 * 60 * MIN)); // an Order Completed (i % 5 === 3), two hours late
    const b = await processMessages(sink, [asMessage("events", late), asMessage("events", onTime[1]!)], { mode: "live", now: at(NOW) });
    expect(b.stats).toMatchObject({ loaded: 1, duplicates: 1, late: 1 });
    expect(await q(`SELECT is_late, lateness_ms FROM raw.events WHERE event_id = '${late.event_id}'`)).toEqual([{ is_late: true, lateness_ms: 2 * 60 * MIN - 6 * MIN }]);
    const minute = new Date(T0 - 2 * 60 * MIN).toISOString();
    expect(await q(`SELECT events, orders, revenue, late_events FROM ops.realtime_metrics WHERE stream = 'events' AND minute = '${minute}'::TIMESTAMPTZ`)).toEqual([
      { events: 1, orders: 1, revenue: 11.25, late_events: 1 },
    ]);
    expect(await q("SELECT table_name, event_date::VARCHAR AS d, rows_loaded, late_rows FROM ops.partitions_touched ORDER BY d")).toEqual([
      { table_name: "raw.events", d: "2026-11-25", rows_loaded: 5, late_rows: 1 },
    ]);
    // A redelivery of everything changes nothing, metrics included.
    await processMessages(sink, [...onTime, late].map((r) => asMessage("events", r)), { mode: "live", now: at(NOW) });
    expect(await q("SELECT sum(events)::BIGINT AS n FROM ops.realtime_metrics")).toEqual([{ n: 5 }]);
  });

  it("loads records in the edge's wire form (null columns omitted, unknown members dropped)", async () => {
    const full = eventRecord(9, iso(MIN));
    const wire = Object.fromEntries(Object.entries({ ...full, future_member: 1 }).filter(([, v]) => v !== null));
    await processMessages(sink, [{ stream: "events", data: JSON.stringify(wire) }], { mode: "live", now: at(NOW) });
    expect(await q(`SELECT user_id, group_id, name, geo_region, source FROM raw.events WHERE event_id = '${full.event_id}'`)).toEqual([
      { user_id: full.user_id, group_id: null, name: null, geo_region: null, source: "web" },
    ]);
  });

  it("applies CDC into core tables by position and keeps the change log", async () => {
    const o = (status: string, total: unknown) => ({ id: 1, customer_id: 7, status, total_amount: total, currency: "EUR", created_at: 1764064800000000, updated_at: "2025-11-25T10:00:00Z" });
    const c1 = cdcRecord({ table: "orders", op: "c", pos: 1, id: 1, after: o("pending", "10.50") });
    const c2 = cdcRecord({ table: "orders", op: "u", pos: 2, id: 1, before: o("pending", "10.50"), after: o("paid", 10.5) });
    const c3 = cdcRecord({ table: "orders", op: "d", pos: 3, id: 1, before: o("paid", 10.5) });
    await processMessages(sink, [asMessage("cdc", c2)], { mode: "live", now: at(NOW) });
    await processMessages(sink, [asMessage("cdc", c1), asMessage("cdc", c2)], { mode: "live", now: at(NOW) });
    expect(await q("SELECT id, status, total_amount, created_at::VARCHAR AS c, _deleted FROM core.orders")).toEqual([
      { id: "1", status: "paid", total_amount: 10.5, c: "2025-11-25 10:00:00+00", _deleted: false },
    ]);
    await processMessages(sink, [asMessage("cdc", c3), asMessage("cdc", c1)], { mode: "live", now: at(NOW) });
    expect(await q("SELECT status, _deleted, _position FROM core.orders")).toEqual([{ status: "paid", _deleted: true, _position: c3.position }]);
    expect(await q("SELECT count(*) AS n FROM raw.cdc_changes")).toEqual([{ n: 3 }]);
  });

  it("a resent event whose corrected event_ts moved past midnight is not stored twice", async () => {
    // Same event_id, event_ts 23:59:59.900 the first time and 00:00:00.200 the next day when resent.
    const first = eventRecord(1, "2026-11-24T23:59:59.900Z");
    const resent = { ...first, event_ts: "2026-11-25T00:00:00.200Z" };
    await processMessages(sink, [asMessage("events", first)], { mode: "live", now: at(NOW) });
    const b = await processMessages(sink, [asMessage("events", resent)], { mode: "live", now: at(NOW) });
    expect(b.stats.duplicates).toBe(1);
    expect(await q("SELECT event_date::VARCHAR AS d, count(*) AS n FROM raw.events GROUP BY ALL")).toEqual([{ d: "2026-11-24", n: 1 }]);
  });

  it("commits nothing when any part of the batch fails", async () => {
    const good = eventRecord(1, iso(MIN));
    const batch = await processMessages(sink, [], { mode: "live", now: at(NOW) });
    const broken = { ...batch, events: [{ ...good, event_date: "2026-11-25", is_late: false, lateness_ms: 0, loaded_at: NOW }], deadLetters: [{ bogus: true } as never] };
    await expect(sink.commit(broken, { persistWatermarks: true })).rejects.toThrow();
    expect(await q("SELECT count(*) AS n FROM raw.events")).toEqual([{ n: 0 }]);
  });

  it("the query helper rejects anything but one SELECT and reports SQL errors clearly", async () => {
    await expect(runReadOnly(sink.con, "DELETE FROM raw.events")).rejects.toThrow(/only read-only queries .* DELETE statement/);
    await expect(runReadOnly(sink.con, "SELECT 1; SELECT 2")).rejects.toThrow(/exactly one SQL statement/);
    await expect(runReadOnly(sink.con, "EXPLAIN ANALYZE INSERT INTO ops.watermarks VALUES (1)")).rejects.toBeInstanceOf(QueryError);
    await expect(runReadOnly(sink.con, "SELECT nope FROM raw.events")).rejects.toThrow(/SQL error: .*nope/);
    expect((await runReadOnly(sink.con, "SELECT 9007199254740993::BIGINT AS big, 1.5::DECIMAL(10,2) AS d, '{\"a\":1}'::JSON AS j")).rows).toEqual([
      { big: "9007199254740993", d: 1.5, j: { a: 1 } },
    ]);
  });

  it("queryFile reads the file read-only when no writer holds it", async () => {
    await processMessages(sink, [asMessage("events", eventRecord(1, iso(MIN)))], { mode: "live", now: at(NOW) });
    await sink.close();
    expect((await queryFile(path, "SELECT count(*) AS n FROM raw.events")).rows).toEqual([{ n: 1 }]);
    sink = await DuckDbSink.open(path);
  });
});

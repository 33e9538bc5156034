import { describe, expect, it } from "vitest";
import { asMessage, cdcRecord, eventRecord, webhookRecord } from "../testing/records.js";
import {
  applyCdc,
  assignEventTime,
  DEFAULT_BATCH_OPTIONS,
  dedupWithinBatch,
  finishBatch,
  keyOf,
  lookupOf,
  mapColumns,
  mergePrepared,
  minuteMetrics,
  parseMessage,
  partitionsTouched,
  prepareBatch,
  toDecimal,
  toTimestamp,
  type StoredState,
  type WatermarkState,
} from "./index.js";

const NOW = "2026-11-25T12:00:00.000Z";
const T0 = Date.parse(NOW);
const iso = (msAgo: number) => new Date(T0 - msAgo).toISOString();
const MIN = 60_000;
const DAY = 86_400_000;
const opts = { outOfOrdernessMs: 5 * MIN, allowedLatenessMs: 3 * DAY, enforceHorizon: true };

describe("parseMessage", () => {
  it("accepts a record that matches its stream's contract", () => {
    const r = parseMessage(asMessage("events", eventRecord(1, iso(0))), NOW);
    expect(r.ok && r.parsed.stream === "events" && r.parsed.record.event_id).toBe(eventRecord(1, iso(0)).event_id);
  });

  it("turns non-JSON into a pipeline dead letter that names the problem", () => {
    const r = parseMessage({ stream: "events", data: "{not json", attributes: { event_id: "e1" }, messageId: "m1", deliveryAttempt: 3 }, NOW);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.deadLetter).toMatchObject({ stage: "pipeline", stream: "events", event_id: "e1", attempts: 3, payload: "{not json", failed_at: NOW });
    expect(r.deadLetter.reason).toMatch(/not JSON/);
  });

  it("rejects a record that breaks the contract with the failing field in the reason, with a stable id", () => {
    const bad = { ...eventRecord(2, iso(0)), event_ts: "yesterday" };
    const a = parseMessage(asMessage("events", bad), NOW);
    const b = parseMessage(asMessage("events", bad), "2026-11-25T13:00:00.000Z");
    expect(a.ok || b.ok).toBe(false);
    if (a.ok || b.ok) return;
    expect(a.deadLetter.reason).toMatch(/event_ts/);
    expect(a.deadLetter.event_id).toBe(bad.event_id);
    expect(a.deadLetter.dead_letter_id).toBe(b.deadLetter.dead_letter_id);
  });

  it("validates against the stream the message came from", () => {
    const r = parseMessage(asMessage("cdc", eventRecord(3, iso(0))), NOW);
    expect(r.ok).toBe(false);
  });
});

describe("dedup", () => {
  it("keeps the first of each event_id within a batch", () => {
    const a = eventRecord(1, iso(0));
    const b = eventRecord(2, iso(0));
    const { unique, duplicates } = dedupWithinBatch([a, b, { ...a, message_id: "other" }, b]);
    expect(unique.map((r) => r.message_id)).toEqual(["msg-1", "msg-2"]);
    expect(duplicates).toBe(2);
  });
});

describe("event time", () => {
  const w = (watermarkMs: number | null, maxEventMs: number | null): WatermarkState => ({ stream: "events", watermarkMs, maxEventMs });

  it("with no watermark yet nothing is late, and the watermark becomes max event time minus out-of-orderness", () => {
    const r = assignEventTime([eventRecord(1, iso(10 * MIN)), eventRecord(2, iso(2 * MIN))], w(null, null), opts, NOW);
    expect(r.rows.map((x) => x.is_late)).toEqual([false, false]);
    expect(r.watermark).toEqual({ stream: "events", maxEventMs: T0 - 2 * MIN, watermarkMs: T0 - 7 * MIN });
  });

  it("flags records behind the persisted watermark with their lateness and partitions by event date", () => {
    const r = assignEventTime([eventRecord(1, iso(2 * DAY)), eventRecord(2, iso(MIN))], w(T0 - 10 * MIN, T0 - 5 * MIN), opts, NOW);
    expect(r.rows[0]).toMatchObject({ is_late: true, lateness_ms: 2 * DAY - 10 * MIN, event_date: "2026-11-23", loaded_at: NOW });
    expect(r.rows[1]).toMatchObject({ is_late: false, lateness_ms: 0, event_date: "2026-11-25" });
    expect(r.watermark.watermarkMs).toBe(T0 - MIN - 5 * MIN);
  });

  it("sends records beyond the allowed lateness to dead letters with the reason, unless the horizon is off (CDC)", () => {
    const old = eventRecord(1, iso(3 * DAY + 11 * MIN));
    const r = assignEventTime([old], w(T0 - 10 * MIN, T0 - 5 * MIN), opts, NOW);
    expect(r.rows).toHaveLength(0);
    expect(r.tooLate[0]).toMatchObject({ stage: "pipeline", stream: "events", event_id: old.event_id });
    expect(r.tooLate[0]!.reason).toMatch(/beyond the allowed lateness of 3\.0 days/);
    const cdc = assignEventTime([old], w(T0 - 10 * MIN, T0 - 5 * MIN), { ...opts, enforceHorizon: false }, NOW);
    expect(cdc.rows[0]!.is_late).toBe(true);
  });

  it("the watermark never moves back and ignores clocks far in the future", () => {
    const r = assignEventTime([eventRecord(1, iso(30 * MIN)), eventRecord(2, new Date(T0 + 365 * DAY).toISOString())], w(T0 - 10 * MIN, T0 - 5 * MIN), opts, NOW);
    expect(r.watermark.watermarkMs).toBe(T0 + 5 * MIN - 5 * MIN);
    const back = assignEventTime([eventRecord(3, iso(60 * MIN))], w(T0 - 10 * MIN, T0 - 5 * MIN), opts, NOW);
    expect(back.watermark.watermarkMs).toBe(T0 - 10 * MIN);
  });

  it("records each touched partition with its late rows", () => {
    const rows = [
      { event_date: "2026-11-23", is_late: true },
      { event_date: "2026-11-25", is_late: false },
      { event_date: "2026-11-23", is_late: false },
    ];
    expect(partitionsTouched("raw.events", rows)).toEqual([
      { table_name: "raw.events", event_date: "2026-11-23", rows_loaded: 2, late_rows: 1 },
      { table_name: "raw.events", event_date: "2026-11-25", rows_loaded: 1, late_rows: 0 },
    ]);
  });
});

describe("per-minute metrics", () => {
  it("counts events, Order Completed orders and revenue (total, else revenue) per event-time minute", () => {
    const m = minuteMetrics("events", [
      { event_ts: "2026-11-25T10:00:05Z", type: "track", event: "Order Completed", properties: { revenue: 10.1 } },
      { event_ts: "2026-11-25T10:00:06Z", type: "track", event: "Order Completed", properties: { revenue: 8, total: 10 } },
      { event_ts: "2026-11-25T10:00:59.999Z", type: "track", event: "Order Completed", properties: { total: "0.2" }, is_late: true },
      { event_ts: "2026-11-25T10:00:30Z", type: "track", event: "Product Viewed", properties: { revenue: 99 } },
      { event_ts: "2026-11-25T10:01:00Z", type: "page", event: null, properties: {} },
    ]);
    expect(m).toEqual([
      { stream: "events", minute: "2026-11-25T10:00:00.000Z", events: 4, orders: 3, revenue: "20.300000", late_events: 1 },
      { stream: "events", minute: "2026-11-25T10:01:00.000Z", events: 1, orders: 0, revenue: "0.000000", late_events: 0 },
    ]);
  });
});

describe("CDC column mapping", () => {
  it("reads ISO, epoch ms and epoch µs timestamps and number or decimal-string amounts", () => {
    expect(toTimestamp("2026-11-25T10:00:00+01:00")).toBe("2026-11-25T09:00:00.000Z");
    expect(toTimestamp(1764064800000)).toBe("2025-11-25T10:00:00.000Z");
    expect(toTimestamp(1764064800000123)).toBe("2025-11-25T10:00:00.000Z");
    expect(toTimestamp(20417)).toBe("2025-11-25T00:00:00.000Z");
    expect(toTimestamp("garbage")).toBeNull();
    expect(toDecimal(19.99)).toBe("19.99");
    expect(toDecimal("1234567890.123456789")).toBe("1234567890.123456789");
    expect(toDecimal("AAE=")).toBeNull();
    expect(mapColumns("orders", { id: 7, customer_id: 3, status: "paid", total_amount: "10.50", currency: "EUR", created_at: 1764064800000000, updated_at: "2025-11-25T10:00:00Z", extra: 1 })).toEqual({
      id: "7",
      customer_id: "3",
      status: "paid",
      total_amount: "10.50",
      currency: "EUR",
      created_at: "2025-11-25T10:00:00.000Z",
      updated_at: "2025-11-25T10:00:00.000Z",
    });
  });
});

describe("applyCdc", () => {
  const order = (id: number, status: string) => ({ id, customer_id: 1, status, total_amount: 5, currency: "EUR" });

  it("applies changes per key in source order whatever the arrival order, ignoring redeliveries", () => {
    const changes = [
      cdcRecord({ table: "orders", op: "u", pos: 3, id: 1, before: order(1, "paid"), after: order(1, "shipped") }),
      cdcRecord({ table: "orders", op: "c", pos: 1, id: 1, after: order(1, "pending") }),
      cdcRecord({ table: "orders", op: "u", pos: 2, id: 1, before: order(1, "pending"), after: order(1, "paid") }),
    ];
    const r = applyCdc([...changes, changes[0]!], new Map());
    expect(r.rows).toHaveLength(1);
    expect(r.rows[0]).toMatchObject({ table: "orders", id: "1", _deleted: false, _position: changes[0]!.position, values: { status: "shipped" } });
    expect(r.ignored).toBe(1);
  });

  it("ignores a change older than the stored position", () => {
    const c = cdcRecord({ table: "orders", op: "u", pos: 5, id: 1, after: order(1, "paid") });
    const r = applyCdc([c], new Map([[keyOf("orders", "1"), { position: String(6).padStart(20, "0"), deleted: false }]]));
    expect(r.rows).toHaveLength(0);
    expect(r.ignored).toBe(1);
  });

  it("a delete flags the row and keeps its position, so an older create arriving later cannot revive it", () => {
    const del = cdcRecord({ table: "orders", op: "d", pos: 9, id: 4, before: order(4, "paid") });
    const r = applyCdc([del], new Map());
    expect(r.rows[0]).toMatchObject({ id: "4", _deleted: true, values: { status: "paid" } });
    const late = applyCdc([cdcRecord({ table: "orders", op: "c", pos: 2, id: 4, after: order(4, "pending") })], new Map([[keyOf("orders", "4"), { position: del.position, deleted: true }]]));
    expect(late.rows).toHaveLength(0);
  });

  it("a primary-key change deletes the old key and creates the new one; tables are routed by name whatever the schema", () => {
    const c = cdcRecord({ table: "customers", schema: "crm", op: "u", pos: 4, id: 20, before: { id: 10, email: "a@x" }, after: { id: 20, email: "a@x" } });
    const r = applyCdc([c], new Map());
    expect(r.rows.map((x) => [x.table, x.id, x._deleted])).toEqual([
      ["customers", "10", true],
      ["customers", "20", false],
    ]);
    expect(applyCdc([cdcRecord({ table: "audit_log", op: "c", pos: 1, id: 1, after: { id: 1 } })], new Map()).rows).toEqual([]);
  });

  it("a tombstone after a delete at the same position is a no-op; a truncate deletes older rows of its table", () => {
    const del = cdcRecord({ table: "products", op: "d", pos: 3, id: "p1", before: { id: "p1", sku: "S" } });
    const tomb = { ...cdcRecord({ table: "products", op: "tombstone", pos: 3, id: "p1" }), event_id: "tomb" };
    const r = applyCdc([del, tomb], new Map());
    expect(r.rows).toHaveLength(1);
    expect(r.ignored).toBe(1);
    const t = applyCdc(
      [
        cdcRecord({ table: "products", op: "c", pos: 1, id: "a", after: { id: "a" } }),
        { ...cdcRecord({ table: "products", op: "t", pos: 2, id: "x" }), key: null },
        cdcRecord({ table: "products", op: "c", pos: 3, id: "b", after: { id: "b" } }),
      ],
      new Map(),
    );
    expect(t.truncates).toHaveLength(1);
    expect(t.rows.map((x) => [x.id, x._deleted])).toEqual([
      ["a", true],
      ["b", false],
    ]);
  });
});

describe("a whole batch", () => {
  it("stores dead letters of earlier stages as they came and keeps their ids", () => {
    const dl = { dead_letter_id: "edge-1", stage: "publish", reason: "Pub/Sub returned 503 five times", stream: "events", event_id: "e9", attempts: 5, failed_at: NOW, payload: "{}" };
    const p = prepareBatch([asMessage("dead-letters", dl as never), asMessage("dead-letters", { ...dl, stage: "nowhere" } as never)], NOW);
    expect(p.deadLetters[0]).toEqual(dl);
    expect(p.deadLetters[1]).toMatchObject({ stage: "pipeline", stream: "dead-letters" });
    expect(p.deadLetters[1]!.reason).toMatch(/stage/);
  });

  const empty: StoredState = { events: new Set(), webhooks: new Set(), cdc: new Set(), cdcPositions: new Map(), watermarks: new Map() };

  it("dedups within the batch and against stored keys, and counts what it did", () => {
    const a = eventRecord(1, iso(MIN));
    const b = eventRecord(2, iso(MIN));
    const wh = webhookRecord(1, iso(MIN));
    const p = prepareBatch([asMessage("events", a), asMessage("events", a), asMessage("events", b), asMessage("webhooks", wh), { stream: "events", data: "x" }], NOW);
    expect(lookupOf(p).eventIds).toEqual([a.event_id, b.event_id]);
    const c = finishBatch(p, { ...empty, events: new Set([b.event_id]) }, DEFAULT_BATCH_OPTIONS, NOW);
    expect(c.events.map((r) => r.event_id)).toEqual([a.event_id]);
    expect(c.webhooks.map((r) => r.event_id)).toEqual([wh.event_id]);
    expect(c.deadLetters).toHaveLength(1);
    expect(c.stats).toMatchObject({ messages: 5, duplicates: 2, loaded: 2, deadLettered: 1 });
    expect(c.metrics.find((m) => m.stream === "events")?.events).toBe(1);
    expect(c.watermarks.map((w) => w.stream).sort()).toEqual(["events", "webhooks"]);
  });

  it("merged parts are deduped in order and judged for lateness part by part, as they arrived", () => {
    const first = [1, 2].map((i) => eventRecord(i, iso(10 * MIN)));
    const behind = eventRecord(3, iso(30 * MIN)); // 15 min behind the watermark the first part leaves
    const part1 = prepareBatch(first.map((r) => asMessage("events", r)), NOW);
    const part2 = prepareBatch([asMessage("events", first[0]!), asMessage("events", behind)], NOW);
    const merged = mergePrepared([part1, part2]);
    expect(merged.parts?.events).toEqual([2, 3]);
    expect(merged.duplicatesInBatch).toBe(1);
    const c = finishBatch(merged, empty, DEFAULT_BATCH_OPTIONS, NOW);
    expect(c.events.map((r) => [r.event_id, r.is_late, r.lateness_ms])).toEqual([
      [first[0]!.event_id, false, 0],
      [first[1]!.event_id, false, 0],
      [behind.event_id, true, 15 * MIN],
    ]);
    // The segments say which watermark each run of rows was judged against.
    expect(c.eventsLateAgainst).toEqual([
      { end: 2, watermarkMs: null },
      { end: 3, watermarkMs: T0 - 15 * MIN },
    ]);
    expect(c.watermarks.find((w) => w.stream === "events")?.watermarkMs).toBe(T0 - 15 * MIN);
    // As one part, nothing would have been late.
    expect(finishBatch({ ...merged, parts: undefined }, empty, DEFAULT_BATCH_OPTIONS, NOW).stats.late).toBe(0);
  });
});

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cdcRecord, eventRecord } from "../testing/records.js";
import { publish, shuffle, startHarness, startPipeline, until, type Harness } from "./harness.js";

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

let h: Harness;
beforeAll(async () => {
  h = await startHarness("streaming");
});
afterAll(async () => {
  await h?.close();
});

describe("streaming pipeline on the Pub/Sub emulator and DuckDB", () => {
  it("lands a shuffled workload with 30% redeliveries and late events exactly once, with correct lateness flags", async () => {
    const p = await startPipeline(h);
    try {
      const now = Date.now();
      const iso = (ms: number) => new Date(ms).toISOString();
      // Phase 1 sets the watermark: on-time events up to `max`.
      const max = now - MIN;
      const warm = Array.from({ length: 50 }, (_, i) => eventRecord(10_000 + i, iso(max - (i % 5) * 1000)));
      await publish(h.pubsub, "events", warm);
      await until(async () => (await p.query("SELECT count(*) AS n FROM raw.events"))[0]!.n === 50, 30_000, "phase 1 rows");
      const [{ w }] = (await p.query("SELECT epoch_ms(watermark_ts) AS w FROM ops.watermarks WHERE stream = 'events'")) as [{ w: number }];
      expect(w).toBe(max - 5 * MIN);

      // Phase 2: on time (behind max but ahead of the watermark), late within 3 days, beyond 3 days; 30% sent twice.
      const onTime = Array.from({ length: 200 }, (_, i) => eventRecord(20_000 + i, iso(max - (i % 240) * 1000)));
      const late = Array.from({ length: 150 }, (_, i) => eventRecord(30_000 + i, iso(w - HOUR - (i * (3 * DAY - 2 * HOUR)) / 150)));
      const tooLate = Array.from({ length: 20 }, (_, i) => eventRecord(40_000 + i, iso(w - 3 * DAY - HOUR - i * MIN)));
      const all = [...onTime, ...late, ...tooLate];
      const dups = all.filter((_, i) => i % 10 < 3);
      await publish(h.pubsub, "events", shuffle([...all, ...dups], 7));

      const expected = 50 + onTime.length + late.length;
      await until(
        async () => (await p.query("SELECT count(*) AS n FROM raw.events"))[0]!.n === expected && (await p.query("SELECT count(*) AS n FROM ops.dead_letters"))[0]!.n === tooLate.length,
        40_000,
        "phase 2 rows and dead letters",
      );
      // Let any straggling redelivery arrive, then check nothing doubled.
      await until(async () => p.pipeline.status.totals.messages >= 50 + all.length + dups.length, 20_000, "all deliveries processed");
      expect((await p.query("SELECT count(*) AS n, count(DISTINCT event_id) AS d FROM raw.events"))[0]).toEqual({ n: expected, d: expected });

      const flags = new Map((await p.query("SELECT event_id, is_late, lateness_ms FROM raw.events")).map((r) => [r.event_id as string, r]));
      for (const r of [...warm, ...onTime]) expect(flags.get(r.event_id)).toMatchObject({ is_late: false, lateness_ms: 0 });
      for (const r of late) expect(flags.get(r.event_id)).toEqual({ event_id: r.event_id, is_late: true, lateness_ms: w - Date.parse(r.event_ts) });

      const dead = await p.query("SELECT event_id, stage, reason FROM ops.dead_letters ORDER BY event_id");
      expect(dead.map((d) => d.event_id).sort()).toEqual(tooLate.map((r) => r.event_id).sort());
      expect(dead.every((d) => d.stage === "pipeline" && /beyond the allowed lateness of 3\.0 days/.test(d.reason as string))).toBe(true);

      // Per-minute metrics count each stored event once, late ones included.
      const [{ events, late_events }] = (await p.query("SELECT sum(events)::BIGINT AS events, sum(late_events)::BIGINT AS late_events FROM ops.realtime_metrics WHERE stream = 'events'")) as [
        { events: number; late_events: number },
      ];
      expect({ events, late_events }).toEqual({ events: expected, late_events: late.length });
      const parts = await p.query("SELECT sum(late_rows)::BIGINT AS late FROM ops.partitions_touched WHERE table_name = 'raw.events'");
      expect(parts[0]!.late).toBe(late.length);
    } finally {
      await p.stop();
    }
  });

  it("applies an out-of-order CDC stream with duplicates into exactly the expected core.orders", async () => {
    const p = await startPipeline(h);
    try {
      const statuses = ["pending", "paid", "shipped", "delivered"];
      const changes = [];
      const expected = new Map<string, { status: string; deleted: boolean; total: number }>();
      let pos = 1;
      for (let id = 1; id <= 30; id++) {
        const n = 2 + (id % 3);
        const row = (k: number) => ({ id, customer_id: id % 7, status: statuses[k]!, total_amount: `${id}.${k}0`, currency: "EUR", created_at: 1764064800000000 + id, updated_at: 1764064800000 + k });
        changes.push(cdcRecord({ table: "orders", op: "c", pos: pos++, id, after: row(0) }));
        for (let k = 1; k < n; k++) changes.push(cdcRecord({ table: "orders", op: "u", pos: pos++, id, before: row(k - 1), after: row(k) }));
        if (id % 5 === 0) {
          changes.push(cdcRecord({ table: "orders", op: "d", pos: pos++, id, before: row(n - 1) }));
          expected.set(String(id), { status: statuses[n - 1]!, deleted: true, total: Number(`${id}.${n - 1}`) });
        } else expected.set(String(id), { status: statuses[n - 1]!, deleted: false, total: Number(`${id}.${n - 1}`) });
      }
      const mixed = shuffle([...changes, ...changes.filter((_, i) => i % 3 === 0)], 11);
      // Three separate deliveries so that older changes also arrive in later batches than newer ones.
      for (const part of [mixed.slice(0, 40), mixed.slice(40, 80), mixed.slice(80)]) {
        // With ordering keys, as the edge publishes CDC: per key in publish order, which is shuffled here.
        await publish(h.pubsub, "cdc", part, (r: { ordering_key: string }) => r.ordering_key);
        await until(async () => p.pipeline.status.totals.messages >= mixed.indexOf(part[part.length - 1]!) + 1, 30_000, "CDC batch");
      }
      await until(async () => (await p.query("SELECT count(*) AS n FROM raw.cdc_changes"))[0]!.n === changes.length, 30_000, "change log");
      const rows = await p.query("SELECT id, status, total_amount, _deleted FROM core.orders ORDER BY id::INT");
      expect(rows).toEqual(
        [...expected.entries()].map(([id, e]) => ({ id, status: e.status, total_amount: e.total, _deleted: e.deleted })).sort((a, b) => Number(a.id) - Number(b.id)),
      );
    } finally {
      await p.stop();
    }
  });

  it("a stop between warehouse commit and ack loses nothing and duplicates nothing after restart", async () => {
    let crashed = false;
    let halted: Promise<void> | null = null;
    const first = await startPipeline(h, {
      afterCommit: () => {
        if (!crashed) {
          crashed = true;
          // The process "dies" here: it stops pulling, so the redelivery goes to the restarted one.
          halted = first.pipeline.stop();
          throw new Error("simulated crash after commit, before ack");
        }
      },
    });
    const before = (await first.query("SELECT count(*) AS n FROM raw.events"))[0]!.n as number;
    const recs = Array.from({ length: 100 }, (_, i) => eventRecord(50_000 + i, new Date().toISOString()));
    await publish(h.pubsub, "events", recs);
    await until(async () => crashed, 30_000, "the first batch to commit");
    await halted;
    expect(first.pipeline.status).toMatchObject({ batches: 0, failures: 1 });
    await first.stop();

    const second = await startPipeline(h);
    try {
      await until(async () => second.pipeline.status.totals.messages > 0, 30_000, "redelivery after restart");
      await until(async () => (await second.query("SELECT count(*) AS n FROM raw.events"))[0]!.n === before + 100, 30_000, "all rows");
      expect((await second.query(`SELECT count(*) AS n, count(DISTINCT event_id) AS d FROM raw.events WHERE message_id LIKE 'msg-5____'`))[0]).toEqual({ n: 100, d: 100 });
      expect(second.pipeline.status.totals.duplicates).toBeGreaterThan(0);
    } finally {
      await second.stop();
    }
  });
});

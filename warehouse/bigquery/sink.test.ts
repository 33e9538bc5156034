import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { BigQuerySink, type BigQueryLike } from "./sink.js";
import { finishBatch, lookupOf, prepareBatch, DEFAULT_BATCH_OPTIONS } from "../../pipeline/transforms/batch.js";
import { asMessage, cdcRecord, eventRecord } from "../../pipeline/testing/records.js";

const NOW = "2026-11-25T12:00:00.000Z";

/** Records every call the sink makes on the client, as the requests BigQuery would receive. */
function fakeClient(opts: { existing?: string[]; rows?: (sql: string) => Record<string, unknown>[] } = {}) {
  const calls: { op: string; target?: string; arg?: unknown; meta?: unknown; staged?: string }[] = [];
  const existing = new Set(opts.existing ?? []);
  const client: BigQueryLike = {
    projectId: "proj",
    async query(o) {
      calls.push({ op: "query", arg: o });
      return [opts.rows?.(o.query) ?? []];
    },
    dataset(ds) {
      return {
        exists: async () => [existing.has(ds)],
        create: async (o?: object) => void calls.push({ op: "createDataset", target: ds, arg: o }),
        createTable: async (id: string, o: object) => void calls.push({ op: "createTable", target: `${ds}.${id}`, arg: o }),
        table: (id: string) => ({
          exists: async () => [existing.has(`${ds}.${id}`)],
          load: async (file: string, meta: object) => void calls.push({ op: "load", target: `${ds}.${id}`, meta, staged: readFileSync(file, "utf8") }),
        }),
      };
    },
  };
  return { client, calls };
}

describe("BigQuerySink", () => {
  it("creates missing datasets and tables from the generated resources (partitioned, clustered, partition filter on raw.events)", async () => {
    const { client, calls } = fakeClient({ existing: ["raw", "core"] });
    await new BigQuerySink({ client, location: "EU" }).init();
    expect(calls.filter((c) => c.op === "createDataset")).toEqual([{ op: "createDataset", target: "ops", arg: { location: "EU" } }]);
    const events = calls.find((c) => c.target === "raw.events")!.arg as Record<string, unknown>;
    const generated = JSON.parse(readFileSync("contracts/generated/bigquery/raw.events.json", "utf8"));
    delete generated.tableReference;
    expect(events).toEqual(generated);
    expect(events.timePartitioning).toEqual({ type: "DAY", field: "event_date", requirePartitionFilter: true });
    expect(calls.filter((c) => c.op === "createTable").map((c) => c.target)).toContain("ops.realtime_metrics");
  });

  it("looks up stored keys with a partition filter and query parameters", async () => {
    const ev = eventRecord(1, "2026-11-24T23:59:00.000Z");
    const ev2 = eventRecord(2, "2026-11-25T00:01:00.000Z");
    const { client, calls } = fakeClient({ rows: (sql) => (sql.includes("raw.events") ? [{ event_id: ev.event_id }] : []) });
    const sink = new BigQuerySink({ client });
    const p = prepareBatch([asMessage("events", ev), asMessage("events", ev2)], NOW);
    const stored = await sink.lookup(lookupOf(p));
    expect([...stored.events]).toEqual([ev.event_id]);
    expect(calls.map((c) => c.arg)).toContainEqual({
      query: "SELECT event_id FROM `proj.raw.events` WHERE event_date BETWEEN @min_date AND @max_date AND event_id IN UNNEST(@ids)",
      params: { ids: [ev.event_id, ev2.event_id], min_date: "2026-11-23", max_date: "2026-11-26" },
    });
  });

  it("loads the batch into staging tables and applies it with MERGEs in one transaction", async () => {
    const { client, calls } = fakeClient();
    const sink = new BigQuerySink({ client, batchId: () => "b1" });
    const ev = eventRecord(3, "2026-11-25T11:59:00.000Z");
    const cdc = cdcRecord({ table: "orders", op: "c", pos: 1, id: 9, after: { id: 9, status: "paid", total_amount: "5.00" } });
    const batch = finishBatch(
      prepareBatch([asMessage("events", ev), asMessage("cdc", cdc)], NOW),
      { events: new Set(), webhooks: new Set(), cdc: new Set(), cdcPositions: new Map(), watermarks: new Map() },
      DEFAULT_BATCH_OPTIONS,
      NOW,
    );
    await sink.commit(batch, { persistWatermarks: true });
    const loads = calls.filter((c) => c.op === "load");
    expect(loads.map((l) => l.target)).toEqual([
      "raw.events__stg_b1",
      "raw.cdc_changes__stg_b1",
      "core.orders__stg_b1",
      "ops.partitions_touched__stg_b1",
      "ops.realtime_metrics__stg_b1",
      "ops.watermarks__stg_b1",
    ]);
    expect(loads[0]!.meta).toMatchObject({ sourceFormat: "NEWLINE_DELIMITED_JSON", writeDisposition: "WRITE_TRUNCATE", createDisposition: "CREATE_IF_NEEDED" });
    expect(JSON.parse(loads[0]!.staged!.trim())).toMatchObject({ event_id: ev.event_id, event_date: "2026-11-25", is_late: false });
    const script = (calls.at(-1)!.arg as { query: string }).query;
    expect(script.split("\n")[0]).toBe("BEGIN TRANSACTION;");
    expect(script).toContain(
      "MERGE `proj.raw.events` T USING `proj.raw.events__stg_b1` S ON T.event_id = S.event_id AND T.event_date BETWEEN DATE '2026-11-24' AND DATE '2026-11-26'\nWHEN NOT MATCHED THEN INSERT ROW;",
    );
    expect(script).toContain(
      "MERGE `proj.core.orders` T USING `proj.core.orders__stg_b1` S ON T.id = S.id\nWHEN MATCHED AND T._position < S._position THEN UPDATE SET customer_id = IF(S._deleted, COALESCE(S.customer_id, T.customer_id), S.customer_id), status = IF(S._deleted, COALESCE(S.status, T.status), S.status)",
    );
    expect(script).toContain("WHEN MATCHED THEN UPDATE SET events = T.events + S.events, orders = T.orders + S.orders, revenue = T.revenue + S.revenue");
    expect(script).toMatch(/COMMIT TRANSACTION;\nDROP TABLE IF EXISTS `proj.raw.events__stg_b1`;/);
    expect(script.indexOf("COMMIT TRANSACTION;")).toBeLessThan(script.indexOf("DROP TABLE"));
  });

  it("a backfill (replay) leaves the live watermarks alone", async () => {
    const { client, calls } = fakeClient();
    const sink = new BigQuerySink({ client, batchId: () => "b2" });
    const batch = finishBatch(
      prepareBatch([asMessage("events", eventRecord(4, "2026-11-20T10:00:00.000Z"))], NOW),
      { events: new Set(), webhooks: new Set(), cdc: new Set(), cdcPositions: new Map(), watermarks: new Map() },
      DEFAULT_BATCH_OPTIONS,
      NOW,
    );
    await sink.commit(batch, { persistWatermarks: false });
    expect(calls.some((c) => c.target === "ops.watermarks__stg_b2")).toBe(false);
    expect((calls.at(-1)!.arg as { query: string }).query).not.toContain("ops.watermarks");
  });
});

/**
 * The training set equals a point-in-time join computed by hand on a small fixture, and leaves out
 * the label windows that had not elapsed by the data of the last successful models run.
 */
import { DuckDBInstance } from "@duckdb/node-api";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runTrainingSet } from "../../bin/commands/features.js";
import { trainingSetSql, writeTrainingSet } from "./training-set.js";

let dir: string;
let warehouse: string;

const FIXTURE = `
CREATE SCHEMA features; CREATE SCHEMA ops;
CREATE TABLE features.customer_features_daily (customer_id BIGINT, feature_date DATE, orders_30d BIGINT, revenue_30d DECIMAL(38,9));
INSERT INTO features.customer_features_daily VALUES
  (1, DATE '2026-01-01', 1, 10.5), (1, DATE '2026-01-02', 2, 20.5), (1, DATE '2026-01-05', 5, 50.5), (1, DATE '2026-01-06', 6, 60.5),
  (2, DATE '2026-01-01', 10, 100);
CREATE TABLE features.customer_labels_daily (customer_id BIGINT, feature_date DATE, purchased_next_30d BOOLEAN, orders_next_30d BIGINT, revenue_next_30d DECIMAL(38,9), label_window_end DATE);
INSERT INTO features.customer_labels_daily VALUES
  (1, DATE '2025-12-31', true, 1, 1, DATE '2026-01-30'),
  (1, DATE '2026-01-02', true, 2, 2, DATE '2026-02-01'),
  (1, DATE '2026-01-04', false, 0, 0, DATE '2026-02-03'),
  (1, DATE '2026-01-05', true, 1, 5, DATE '2026-02-04'),
  (2, DATE '2026-01-10', true, 3, 9, DATE '2026-02-09'),
  (1, DATE '2026-02-08', false, 0, 0, DATE '2026-03-10'),
  (1, DATE '2026-02-09', true, 1, 1, DATE '2026-03-11'),
  (2, DATE '2026-02-20', true, 1, 1, DATE '2026-03-22');
CREATE TABLE ops.model_runs (run_id VARCHAR, started_at TIMESTAMPTZ, finished_at TIMESTAMPTZ, full_refresh BOOLEAN, loaded_through TIMESTAMPTZ, status VARCHAR, config_digest VARCHAR);
INSERT INTO ops.model_runs VALUES
  ('a', TIMESTAMPTZ '2026-03-10 13:00:00+00', TIMESTAMPTZ '2026-03-10 13:01:00+00', true, TIMESTAMPTZ '2026-03-10 12:00:00+00', 'success', 'x'),
  ('b', TIMESTAMPTZ '2026-04-30 13:00:00+00', TIMESTAMPTZ '2026-04-30 13:01:00+00', false, TIMESTAMPTZ '2026-04-30 12:00:00+00', 'failed', 'x');
`;

beforeAll(async () => {
  mkdirSync(resolve(".data/scratch"), { recursive: true });
  dir = mkdtempSync(resolve(".data/scratch/training-set-"));
  warehouse = join(dir, "warehouse.duckdb");
  const instance = await DuckDBInstance.create(warehouse);
  const con = await instance.connect();
  await con.run(FIXTURE);
  con.closeSync();
  instance.closeSync();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function readParquet(file: string) {
  const instance = await DuckDBInstance.create(":memory:");
  const con = await instance.connect();
  try {
    const r = await con.runAndReadAll(`SELECT entity_id, CAST(feature_timestamp AS VARCHAR) AS feature_timestamp, CAST(features_as_of AS VARCHAR) AS features_as_of, orders_30d, CAST(revenue_30d AS VARCHAR) AS revenue_30d, purchased_next_30d FROM read_parquet('${file}')`);
    const types = await con.runAndReadAll(`SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet('${file}'))`);
    return { rows: r.getRowObjectsJS(), types: Object.fromEntries(types.getRowObjectsJS().map((t) => [t.column_name, t.column_type])) };
  } finally {
    con.closeSync();
    instance.closeSync();
  }
}

describe("features training-set", () => {
  it("equals the point-in-time join by hand: the latest feature row known at the label's instant, never a later one, and only elapsed windows", async () => {
    const out = join(dir, "train.parquet");
    const r = await writeTrainingSet({ label: "purchased_next_30d", from: "2026-01-01", to: "2026-02-28", out, warehouse });
    // Seven label rows in range; loaded through 2026-03-10 12:00 (the failed later run does not count):
    // windows ending 2026-03-11 and 2026-03-22 have not elapsed.
    expect(r).toMatchObject({ rows: 5, windows: 7, dropped: 2 });
    const { rows, types } = await readParquet(out);
    const ts = (d: string) => `${d} 00:00:00+00`;
    expect(rows).toEqual([
      // F = 01-02: that day's features.
      { entity_id: "1", feature_timestamp: ts("2026-01-02"), features_as_of: ts("2026-01-02"), orders_30d: 2n, revenue_30d: "20.500000000", purchased_next_30d: true },
      // F = 01-04: no row that day; the latest known is 01-02 (the 01-05 row would leak the future).
      { entity_id: "1", feature_timestamp: ts("2026-01-04"), features_as_of: ts("2026-01-02"), orders_30d: 2n, revenue_30d: "20.500000000", purchased_next_30d: false },
      { entity_id: "1", feature_timestamp: ts("2026-01-05"), features_as_of: ts("2026-01-05"), orders_30d: 5n, revenue_30d: "50.500000000", purchased_next_30d: true },
      // F = 01-10 for customer 2: its only row (01-01) is more than 7 days old, so no features.
      { entity_id: "2", feature_timestamp: ts("2026-01-10"), features_as_of: null, orders_30d: null, revenue_30d: null, purchased_next_30d: true },
      // F = 02-08: window ends 03-10 00:00, before the data loaded through 03-10 12:00: elapsed.
      { entity_id: "1", feature_timestamp: ts("2026-02-08"), features_as_of: null, orders_30d: null, revenue_30d: null, purchased_next_30d: false },
    ]);
    expect(types).toMatchObject({ entity_id: "VARCHAR", feature_timestamp: "TIMESTAMP WITH TIME ZONE" });
  });

  it("compiles the same query for BigQuery (GoogleSQL forms, project-qualified tables)", () => {
    const sql = trainingSetSql({ label: "revenue_next_30d", from: "2026-01-01", to: "2026-01-31" }, "bigquery", "my-shop-prod");
    expect(sql).toContain("`my-shop-prod.features.customer_labels_daily`");
    expect(sql).toContain("`my-shop-prod.features.customer_features_daily`");
    expect(sql).toContain("`my-shop-prod.ops.model_runs`");
    expect(sql).toContain("TIMESTAMP_SUB(l.feature_timestamp, INTERVAL 7 DAY)");
    expect(sql).toContain("* EXCEPT (customer_id, feature_date)");
    expect(sql).not.toMatch(/EXCLUDE|TIMESTAMPTZ|VARCHAR|::/);
    const duck = trainingSetSql({ label: "revenue_next_30d", from: "2026-01-01", to: "2026-01-31" }, "duckdb");
    const shape = (s: string) => s.replace(/`[^`]+`/g, "T").replace(/\b(features|ops)\.\w+/g, "T").replace(/[A-Z_]+\([^()]*\)|CAST\([^()]*\)|\([^()]*INTERVAL[^()]*\)/g, "F");
    expect(shape(sql).split("\n").length).toBe(shape(duck).split("\n").length);
  });

  it("says what is wrong and what to do: unknown label, bad dates, no warehouse, no models run", async () => {
    const run = async (o: Parameters<typeof runTrainingSet>[0]) => {
      let err = "";
      const code = await runTrainingSet(o, { write: () => true } as unknown as NodeJS.WritableStream, { write: (c: string) => ((err += c), true) } as unknown as NodeJS.WritableStream);
      return { code, err };
    };
    expect(await run({ label: "churn", from: "2026-01-01", to: "2026-01-02", out: "x.parquet", warehouse })).toMatchObject({ code: 2, err: expect.stringContaining("purchased_next_30d") });
    expect(await run({ label: "purchased_next_30d", from: "2026-02-30", to: "2026-03-02", out: "x.parquet", warehouse })).toMatchObject({ code: 2, err: expect.stringContaining("--from must be a date") });
    expect(await run({ label: "purchased_next_30d", from: "2026-01-01", to: "2026-01-02", out: "x.csv", warehouse })).toMatchObject({ code: 2, err: expect.stringContaining(".parquet") });
    expect(await run({ label: "purchased_next_30d", from: "2026-01-01", to: "2026-01-02", out: join(dir, "x.parquet"), warehouse: join(dir, "none.duckdb") })).toMatchObject({ code: 3, err: expect.stringContaining("models run") });
    const empty = join(dir, "empty.duckdb");
    const i = await DuckDBInstance.create(empty);
    i.closeSync();
    const r = await run({ label: "purchased_next_30d", from: "2026-01-01", to: "2026-01-02", out: join(dir, "x.parquet"), warehouse: empty });
    expect(r.code).toBe(3);
    expect(r.err).toContain("npx tideline models run");
    expect(r.err).not.toMatch(/\n\s+at /);
  });
});

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { Writable } from "node:stream";
import { runQuery } from "./query.js";
import { DuckDbSink } from "../../warehouse/duckdb/sink.js";
import { queryInstance } from "../../warehouse/duckdb/query.js";
import { startTestApi } from "../../platform/api/testing/fake-ports.js";
import type { OperatorClient } from "../../platform/api/client.js";
import { processMessages } from "../../pipeline/process-batch.js";
import { asMessage, eventRecord } from "../../pipeline/testing/records.js";

const dir = join(process.cwd(), ".data/scratch/query-test");
const path = join(dir, `w-${process.pid}.duckdb`);

const capture = () => {
  let text = "";
  const stream = new Writable({
    write(chunk, _enc, cb) {
      text += chunk.toString();
      cb();
    },
  });
  return { stream, text: () => text };
};

async function run(sql: string, json = true, client?: OperatorClient) {
  const out = capture();
  const err = capture();
  const code = await runQuery(sql, { json }, out.stream, err.stream, client);
  return { code, out: out.text(), err: err.text() };
}

beforeAll(async () => {
  mkdirSync(dir, { recursive: true });
  rmSync(path, { force: true });
  process.env.TIDELINE_WAREHOUSE = path;
  // No token here: nothing runs as far as the CLI can tell.
  process.env.TIDELINE_DATA_DIR = dir;
  const sink = await DuckDbSink.open(path);
  await sink.init();
  await processMessages(sink, [1, 2, 3].map((i) => asMessage("events", eventRecord(i, "2026-11-25T10:00:00.000Z"))), { mode: "live" });
  await sink.close();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("npx tideline query", () => {
  it("reads the file read-only when no pipeline runs; --json prints one JSON array and nothing else", async () => {
    const r = await run("SELECT count(*) AS n, sum(lateness_ms) AS l, min(event_date) AS d FROM raw.events");
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toEqual([{ n: 3, l: 0, d: "2026-11-25" }]);
    expect(r.out.trim().split("\n")).toHaveLength(1);
  });

  it("prints a readable table without --json", async () => {
    const r = await run("SELECT 1 AS a, 'x' AS b", false);
    expect(r.out).toMatch(/^a │ b\n/);
    expect(r.out).toMatch(/\(1 row\)\n$/);
  });

  it("goes through the operator API (typed client) while the pipeline holds the write lock", async () => {
    const sink = await DuckDbSink.open(path, { serveQueries: true });
    const api = await startTestApi({
      warehouse: path,
      query: (sql, limits) => queryInstance(sink.instance, sql, limits),
      status: () => null,
      backfill: () => Promise.reject(new Error("not in this test")),
      runModels: () => Promise.reject(new Error("not in this test")),
    });
    try {
      await processMessages(sink, [asMessage("events", eventRecord(4, "2026-11-25T10:00:00.000Z"))], { mode: "live" });
      const r = await run("SELECT count(*) AS n FROM raw.events", true, api.client);
      expect(r).toMatchObject({ code: 0, err: "" });
      expect(JSON.parse(r.out)).toEqual([{ n: 4 }]);
      const bad = await run("DROP TABLE raw.events", true, api.client);
      expect(bad.code).toBe(1);
      expect(bad.out).toBe("");
      expect(bad.err).toMatch(/only read-only queries are allowed .* DROP statement/);
      const many = await run("SELECT * FROM range(10001)", true, api.client);
      expect(JSON.parse(many.out)).toHaveLength(10_000);
      expect(many.err).toMatch(/only the first 10000 rows are returned/);
    } finally {
      await api.close();
      await sink.close();
    }
  });

  it("answers from the contract's empty tables before any warehouse file exists", async () => {
    const saved = process.env.TIDELINE_WAREHOUSE;
    process.env.TIDELINE_WAREHOUSE = join(dir, "never-created.duckdb");
    try {
      const r = await run("SELECT count(*) AS n FROM raw.events");
      expect(r.code).toBe(0);
      expect(JSON.parse(r.out)).toEqual([{ n: 0 }]);
      expect(r.err).toMatch(/no warehouse at .*never-created\.duckdb yet: this answer comes from the contract's empty tables; start the platform \(npm start\)/);
    } finally {
      process.env.TIDELINE_WAREHOUSE = saved;
    }
  });

  it("reports bad SQL with DuckDB's message and a non-zero exit", async () => {
    const r = await run("SELEC 1");
    expect(r.code).toBe(1);
    expect(r.out).toBe("");
    expect(r.err).toMatch(/tideline query: SQL error: .*syntax error/i);
  });
});

/**
 * Operator SQL reads the warehouse and nothing else (issue 16: read_text('/etc/passwd') answered),
 * through the API of a running pipeline (its sink locked down, still loading staged NDJSON) and
 * through `npx tideline query` opening the file read-only when nothing runs.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Writable } from "node:stream";
import { DuckDbSink } from "../../warehouse/duckdb/sink.js";
import { queryInstance } from "../../warehouse/duckdb/query.js";
import { processMessages } from "../../pipeline/process-batch.js";
import { asMessage, eventRecord } from "../../pipeline/testing/records.js";
import { runQuery } from "../../bin/commands/query.js";
import { OperatorApiError, type OperatorClient } from "./client.js";
import { startTestApi } from "./testing/fake-ports.js";

const dir = join(process.cwd(), `.data/scratch/sql-safety-${process.pid}`);
const path = join(dir, "w.duckdb");
const outside = join(dir, "outside.csv");

/** Each reads or writes outside the warehouse, or changes how DuckDB runs. */
const REFUSED = [
  "SELECT * FROM read_text('/etc/passwd')",
  "SELECT * FROM glob('/root/*')",
  "SELECT * FROM read_csv('/etc/hosts')",
  `SELECT * FROM read_csv('${outside}')`,
  `SELECT * FROM '${outside}'`,
  "SELECT * FROM read_parquet('https://example.com/x.parquet')",
  `COPY (SELECT 1) TO '${join(dir, "copied.csv")}'`,
  `ATTACH '${join(dir, "other.duckdb")}' AS other`,
  "INSTALL httpfs",
  "LOAD httpfs",
  "SET enable_external_access = true",
  "SET threads = 1",
  "PRAGMA threads = 1",
  "PRAGMA enable_profiling",
  "RESET lock_configuration",
];

const capture = () => {
  let text = "";
  return {
    stream: new Writable({
      write(c, _e, cb) {
        text += c.toString();
        cb();
      },
    }),
    text: () => text,
  };
};
async function cli(sql: string, client?: OperatorClient) {
  const out = capture();
  const err = capture();
  const code = await runQuery(sql, { json: true }, out.stream, err.stream, client);
  return { code, out: out.text(), err: err.text() };
}

beforeAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  writeFileSync(outside, "secret\n42\n");
  process.env.TIDELINE_WAREHOUSE = path;
  process.env.TIDELINE_DATA_DIR = dir;
  const sink = await DuckDbSink.open(path);
  await sink.init();
  await processMessages(sink, [asMessage("events", eventRecord(1, "2026-11-25T10:00:00.000Z"))], { mode: "live" });
  await sink.close();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("through the API of a running pipeline", () => {
  it("refuses every file-reading, writing or settings statement; the pipeline still loads", async () => {
    const sink = await DuckDbSink.open(path, { serveQueries: true });
    const api = await startTestApi({
      warehouse: path,
      query: (sql, limits) => queryInstance(sink.instance, sql, limits),
      status: () => null,
      backfill: () => Promise.reject(new Error("not in this test")),
      runModels: () => Promise.reject(new Error("not in this test")),
    });
    try {
      for (const sql of REFUSED) {
        const e = await api.client.query(sql).then(
          () => null,
          (x: unknown) => x,
        );
        expect(e, sql).toBeInstanceOf(OperatorApiError);
        expect((e as OperatorApiError).status, sql).toBe(400);
        expect((e as OperatorApiError).message, sql).not.toMatch(/secret|root:x:0/);
        // the CLI says so too, with a non-zero exit and nothing on stdout
        const r = await cli(sql, api.client);
        expect(r.code, sql).toBe(1);
        expect(r.out, sql).toBe("");
      }
      const perm = await api.client.query("SELECT * FROM read_text('/etc/passwd')").catch((x: OperatorApiError) => x);
      expect(perm).toMatchObject({ code: "rejected", message: expect.stringMatching(/only the warehouse's own tables can be queried/) });
      // The writer loads its staged NDJSON with read_json from its own directory, still.
      await processMessages(sink, [asMessage("events", eventRecord(2, "2026-11-25T10:00:00.000Z"))], { mode: "live" });
      expect((await api.client.query("SELECT count(*) AS n FROM raw.events")).rows).toEqual([{ n: 2 }]);
      expect((await api.client.query("SELECT current_setting('lock_configuration') AS l, current_setting('enable_external_access') AS e")).rows).toEqual([{ l: true, e: false }]);
    } finally {
      await api.close();
      await sink.close();
    }
  });
});

describe("npx tideline query with nothing running (read-only open of the file)", () => {
  it("refuses the same statements", async () => {
    for (const sql of REFUSED) {
      const r = await cli(sql);
      expect(r.code, sql).toBe(1);
      expect(r.out, sql).toBe("");
      expect(r.err, sql).toMatch(/^tideline query: (only read-only queries|only the warehouse's own tables|SQL error)/);
      expect(r.err, sql).not.toMatch(/secret|root:x:0/);
    }
    const ok = await cli("SELECT count(*) AS n FROM raw.events");
    expect(JSON.parse(ok.out)).toEqual([{ n: 2 }]);
  });

  it("says what to do about model tables that were never built", async () => {
    const r = await cli("SELECT * FROM marts.daily_kpis");
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/SQL error: Catalog Error: .*daily_kpis.*\n  the models have not built this table yet: run `npx tideline models run`/s);
  });

  it("says what to do while another process holds the write lock, without a stack trace", async () => {
    const holder: ChildProcess = spawn(
      process.execPath,
      ["--input-type=module", "-e", `import { DuckDBInstance } from "@duckdb/node-api"; await DuckDBInstance.create(${JSON.stringify(path)}); console.log("held"); setInterval(() => {}, 1000);`],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    try {
      await new Promise<void>((resolve, reject) => {
        holder.stdout!.on("data", (b: Buffer) => b.toString().includes("held") && resolve());
        holder.once("exit", (c) => reject(new Error(`holder exited with ${c}`)));
      });
      const r = await cli("SELECT 1");
      expect(r.code).toBe(3);
      expect(r.err).toMatch(/is held by another process \(DuckDB allows one writer\) and no operator API answered\n  if `npm start` runs/);
      expect(r.err).not.toMatch(/\n\s+at /);
    } finally {
      holder.kill();
    }
  });
});

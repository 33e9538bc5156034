import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BigQuery } from "@google-cloud/bigquery";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startBqEmulator } from "../../infra/local/bqemulator.js";
import type { BigQueryEmulatorHandle } from "../../infra/local/bigquery-emulator.js";
import { freePort } from "../../infra/local/settings.js";
import { QueryError } from "../duckdb/query.js";
import { queryBigQueryEmulator } from "./emulator-query.js";

// bqemulator (infra/local/setup.sh bqemulator, part of setup.sh all): `tideline query --warehouse bigquery`.
describe("query --warehouse bigquery on the BigQuery emulator", () => {
  let emulator: BigQueryEmulatorHandle;
  const dir = mkdtempSync(join(tmpdir(), "tideline-bq-"));
  const saved = { rest: process.env.TIDELINE_BIGQUERY_PORT, meta: process.env.METADATA_SERVER_DETECTION };
  beforeAll(async () => {
    const [port, grpcPort] = [await freePort(), await freePort()];
    emulator = await startBqEmulator({ port, grpcPort, dataDir: dir, project: "tideline-local" });
    process.env.TIDELINE_BIGQUERY_PORT = String(port);
    process.env.METADATA_SERVER_DETECTION = "none";
    const bq = new BigQuery({ projectId: "tideline-local", apiEndpoint: emulator.restUrl });
    await bq.query("CREATE SCHEMA ops");
    await bq.query(
      "CREATE TABLE ops.watermarks AS SELECT 'events' AS stream, TIMESTAMP '2026-11-25T11:55:00Z' AS watermark_ts, 9007199254740993 AS big, NUMERIC '12.50' AS revenue",
    );
  }, 120_000);
  afterAll(async () => {
    await emulator?.stop();
    rmSync(dir, { recursive: true, force: true });
    for (const [k, v] of [["TIDELINE_BIGQUERY_PORT", saved.rest], ["METADATA_SERVER_DETECTION", saved.meta]] as const) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });

  it("returns rows as JSON-safe values: timestamps as text, 64-bit integers as numbers or numeric strings", async () => {
    const r = await queryBigQueryEmulator("SELECT stream, watermark_ts, big, revenue FROM ops.watermarks");
    expect(r.truncated).toBe(false);
    expect(r.rows).toHaveLength(1);
    const [row] = r.rows;
    expect(row).toMatchObject({ stream: "events", big: "9007199254740993" });
    expect(String(row!.watermark_ts)).toMatch(/^2026-11-25T11:55:00/);
    expect(Number(row!.revenue)).toBe(12.5);
  });

  it("refuses what is not a SELECT, as BigQuery classifies the statement, and changes nothing", async () => {
    await expect(queryBigQueryEmulator("DELETE FROM ops.watermarks WHERE TRUE")).rejects.toMatchObject({ code: "rejected" });
    expect((await queryBigQueryEmulator("SELECT COUNT(*) AS n FROM ops.watermarks")).rows).toEqual([{ n: 1 }]);
  });

  it("says what to start when the emulator does not answer", async () => {
    process.env.TIDELINE_BIGQUERY_PORT = String(await freePort());
    try {
      const e = await queryBigQueryEmulator("SELECT 1").catch((x: unknown) => x);
      expect(e).toBeInstanceOf(QueryError);
      expect(e).toMatchObject({ code: "unavailable", hint: "start it with: npm start -- --engine beam" });
    } finally {
      process.env.TIDELINE_BIGQUERY_PORT = emulator.restUrl.split(":").pop();
    }
  });
});

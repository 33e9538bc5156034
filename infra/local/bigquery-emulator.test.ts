/**
 * The BigQuery emulator (goccy/bigquery-emulator 0.6.6) on free ports, through the official clients
 * with an endpoint override. What works is asserted; so is each way it refuses what BigQuery and the
 * production sink need, so that an upgrade that changes one shows up (docs/operations.md).
 */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { BigQuery } from "@google-cloud/bigquery";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bigQueryTable } from "../../contracts/generators/bigquery.js";
import { rawEvents } from "../../contracts/tables.js";
import { startBigQueryEmulator, type BigQueryEmulatorHandle } from "./bigquery-emulator.js";
import { REPO_ROOT, freePort } from "./settings.js";

process.env.METADATA_SERVER_DETECTION = "none";
const PROJECT = "tideline-local";
let dir: string;
let emu: BigQueryEmulatorHandle;
let bq: BigQuery;

beforeAll(async () => {
  mkdirSync(join(REPO_ROOT, ".data/scratch"), { recursive: true });
  dir = mkdtempSync(join(REPO_ROOT, ".data/scratch", "bigquery-"));
  emu = await startBigQueryEmulator({ port: await freePort(), grpcPort: await freePort(), dataDir: join(dir, "bigquery") });
  bq = new BigQuery({ projectId: PROJECT, apiEndpoint: emu.restUrl });
  await bq.createDataset("probe");
});
afterAll(async () => {
  await emu?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const rows = async (query: string, params?: Record<string, unknown>) => (await bq.query({ query, ...(params ? { params } : {}) }))[0] as Record<string, unknown>[];

const PROBE_SCHEMA = {
  fields: [
    { name: "id", type: "STRING", mode: "REQUIRED" },
    { name: "event_date", type: "DATE", mode: "REQUIRED" },
    { name: "amount", type: "NUMERIC", mode: "NULLABLE" },
    { name: "props", type: "JSON", mode: "NULLABLE" },
    { name: "n", type: "INT64", mode: "NULLABLE" },
  ],
};

it("answers a query", async () => {
  expect(await rows("SELECT 41 + 1 AS x, UPPER('ok') AS s")).toEqual([{ x: 42, s: "OK" }]);
});

it("creates raw.events from the contracts with its partitioning and clustering", async () => {
  const { tableReference: _ref, ...resource } = bigQueryTable(rawEvents);
  await bq.createDataset("raw");
  await bq.dataset("raw").createTable("events", resource);
  const [meta] = await bq.dataset("raw").table("events").getMetadata();
  expect(meta.timePartitioning).toMatchObject({ type: "DAY", field: "event_date" });
  expect(meta.clustering).toEqual(resource.clustering);
  expect(meta.schema.fields.map((f: { name: string }) => f.name)).toEqual(resource.schema.fields.map((f: { name: string }) => f.name));
});

describe("differs from BigQuery in what tideline needs", () => {
  it("refuses INT64 query parameters as @google-cloud/bigquery sends them (JSON numbers)", async () => {
    await expect(bq.query({ query: "SELECT @a + 1 AS x", params: { a: 41 } })).rejects.toThrow(/cannot unmarshal number into Go struct field QueryParameterValue\.Value of type string/);
  });

  it("refuses MERGE … WHEN NOT MATCHED THEN INSERT ROW (the production sink's form)", async () => {
    await bq.dataset("probe").createTable("t", { schema: PROBE_SCHEMA });
    await bq.dataset("probe").createTable("s", { schema: PROBE_SCHEMA });
    await expect(bq.query("MERGE probe.t T USING probe.s S ON T.id = S.id\nWHEN NOT MATCHED THEN INSERT ROW")).rejects.toThrow(/Missing insert column list/);
  });
});

import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { Ajv2020 } from "ajv/dist/2020.js";
import { GENERATED_DIR, generatedFiles } from "./generate.js";
import { TABLES, tableId } from "./tables.js";
import { columnsOf } from "./generators/columns.js";
import { DUCKDB_TYPES } from "./generators/duckdb.js";
import { EventRecord } from "./records.js";

describe("generated artefacts agree with the Zod contracts", () => {
  it("every file in contracts/generated is exactly what the generators produce", () => {
    for (const [name, content] of generatedFiles()) {
      expect(readFileSync(join(GENERATED_DIR, name), "utf8"), name).toBe(content);
    }
  });

  it("the BigQuery schema of each table lists the contract's columns, types and modes in order", () => {
    for (const t of TABLES) {
      const bq = JSON.parse(readFileSync(join(GENERATED_DIR, `bigquery/${tableId(t)}.json`), "utf8"));
      const cols = columnsOf(t.schema);
      expect(bq.schema.fields.map((f: { name: string }) => f.name)).toEqual(cols.map((c) => c.name));
      expect(bq.schema.fields.map((f: { type: string; mode: string }) => `${f.type}/${f.mode}`)).toEqual(
        cols.map((c) => `${c.type}/${c.nullable ? "NULLABLE" : "REQUIRED"}`),
      );
    }
    const events = JSON.parse(readFileSync(join(GENERATED_DIR, "bigquery/raw.events.json"), "utf8"));
    expect(events.timePartitioning).toEqual({ type: "DAY", field: "event_date", requirePartitionFilter: true });
  });

  it("DuckDB accepts the DDL and creates each table with the contract's columns and types", async () => {
    const db = await DuckDBInstance.create(":memory:");
    const con = await db.connect();
    await con.run(readFileSync(join(GENERATED_DIR, "duckdb.sql"), "utf8"));
    for (const t of TABLES) {
      const rows = (await con.runAndReadAll(`DESCRIBE ${tableId(t)}`)).getRowObjects();
      const want = columnsOf(t.schema).map((c) => [c.name, DUCKDB_TYPES[c.type].replace("TIMESTAMPTZ", "TIMESTAMP WITH TIME ZONE"), c.nullable ? "YES" : "NO"]);
      expect(rows.map((r) => [r.column_name, r.column_type, r.null])).toEqual(want);
    }
    con.closeSync();
  });

  it("the JSON Schema of a record accepts what Zod accepts and rejects what Zod rejects", () => {
    const schema = JSON.parse(readFileSync(join(GENERATED_DIR, "jsonschema/EventRecord.json"), "utf8"));
    const validate = new Ajv2020({ strict: false, validateFormats: false }).compile(schema);
    const good = Object.fromEntries(
      columnsOf(EventRecord).map((c) => [
        c.name,
        c.type === "JSON" ? {} : c.type === "BOOL" ? false : c.type === "INT64" ? 0 : c.type === "TIMESTAMP" ? "2026-11-25T00:00:00.000Z" : c.name === "type" ? "track" : "x",
      ]),
    );
    expect(EventRecord.safeParse(good).success).toBe(true);
    expect(validate(good)).toBe(true);
    const bad = { ...good, type: "purchase" };
    expect(EventRecord.safeParse(bad).success).toBe(false);
    expect(validate(bad)).toBe(false);
  });
});

/** DuckDB DDL for the local warehouse, generated from the table specs. */
import type { WarehouseType } from "../columns.js";
import type { TableSpec } from "../tables.js";
import { columnsOf } from "./columns.js";

/** DuckDB has no JSON-typed NUMERIC without precision; 38,9 matches BigQuery NUMERIC. */
export const DUCKDB_TYPES: Record<WarehouseType, string> = {
  STRING: "VARCHAR",
  INT64: "BIGINT",
  FLOAT64: "DOUBLE",
  NUMERIC: "DECIMAL(38,9)",
  BOOL: "BOOLEAN",
  TIMESTAMP: "TIMESTAMPTZ",
  DATE: "DATE",
  JSON: "JSON",
};

const q = (s: string) => `'${s.replaceAll("'", "''")}'`;

export function duckDbDdl(t: TableSpec): string {
  const cols = columnsOf(t.schema);
  const lines = cols.map((c) => `  ${c.name} ${DUCKDB_TYPES[c.type]}${c.nullable ? "" : " NOT NULL"}`);
  if (!t.keyCheckedByLoader) lines.push(`  PRIMARY KEY (${t.key.join(", ")})`);
  const id = `${t.dataset}.${t.name}`;
  return [
    `CREATE TABLE IF NOT EXISTS ${id} (\n${lines.join(",\n")}\n);`,
    `COMMENT ON TABLE ${id} IS ${q(t.description)};`,
    ...cols.map((c) => `COMMENT ON COLUMN ${id}.${c.name} IS ${q(c.description)};`),
  ].join("\n");
}

export function duckDbSchemaDdl(tables: TableSpec[]): string {
  const datasets = [...new Set(tables.map((t) => t.dataset))];
  return [
    "-- Generated from contracts/ by `npm run generate`. Do not edit.",
    ...datasets.map((d) => `CREATE SCHEMA IF NOT EXISTS ${d};`),
    ...tables.map(duckDbDdl),
    "",
  ].join("\n");
}

/** DuckDB DDL of every table the pipeline writes, generated from contracts/ (never written by hand). */
import { TABLES, tableId, type TableSpec } from "../../contracts/tables.js";
import { PIPELINE_TABLES } from "../../contracts/pipeline-tables.js";
import { duckDbSchemaDdl, DUCKDB_TYPES } from "../../contracts/generators/duckdb.js";
import { columnsOf } from "../../contracts/generators/columns.js";

/** TABLES may come to include the pipeline tables; each table is created once either way. */
export function warehouseTables(): TableSpec[] {
  const seen = new Set<string>();
  return [...TABLES, ...PIPELINE_TABLES].filter((t) => !seen.has(tableId(t)) && seen.add(tableId(t)));
}

export const warehouseDdl = () => duckDbSchemaDdl(warehouseTables());

/** `{col: 'TYPE', …}` for read_json, so DuckDB casts each JSON field to the column's type. */
export function readJsonColumns(t: TableSpec, omit: readonly string[] = []): string {
  return `{${columnsOf(t.schema)
    .filter((c) => !omit.includes(c.name))
    .map((c) => `${c.name}: '${DUCKDB_TYPES[c.type]}'`)
    .join(", ")}}`;
}

export const columnNames = (t: TableSpec) => columnsOf(t.schema).map((c) => c.name);

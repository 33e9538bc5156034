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

/**
 * `s.* EXCLUDE (…), COALESCE(s.col, <default>) AS col, …` for rows read from a record's text: a
 * member the text omits reads as NULL, which is the contract's default for nullable columns but not
 * for columns with another default (records archived before such a column existed).
 */
export function selectWithDefaults(t: TableSpec, alias: string, exclude: readonly string[] = []): string {
  const defaulted = columnsOf(t.schema).filter((c) => c.default !== undefined);
  const literal = (v: string | number | boolean) => (typeof v === "string" ? `'${v.replaceAll("'", "''")}'` : String(v));
  const excluded = [...exclude, ...defaulted.map((c) => c.name)];
  return [
    excluded.length ? `${alias}.* EXCLUDE (${excluded.join(", ")})` : `${alias}.*`,
    ...defaulted.map((c) => `COALESCE(${alias}.${c.name}, ${literal(c.default!)}) AS ${c.name}`),
  ].join(", ");
}

/**
 * Read-only SQL against the local warehouse, shared by the operator API (inside the pipeline, which
 * holds DuckDB's write lock) and the CLI (opening the file read-only when no pipeline runs).
 *
 * Read-only is enforced in three layers: the text must be exactly one statement; DuckDB's own parser
 * must classify it as SELECT (DESCRIBE, SHOW, SUMMARIZE, PRAGMA table_info, FROM-first and VALUES are
 * SELECTs to DuckDB; INSERT, UPDATE, COPY, ATTACH, SET, CALL, EXPLAIN [ANALYZE] are not); and it runs
 * inside a transaction that is always rolled back.
 */
import { DuckDBInstance, DuckDBTypeId, StatementType, type DuckDBConnection, type DuckDBType } from "@duckdb/node-api";
import { existsSync } from "node:fs";
import { warehouseDdl } from "./ddl.js";

export class QueryError extends Error {
  constructor(
    message: string,
    /** "rejected": not a read-only statement; "sql": DuckDB could not run it; "unavailable": no warehouse. */
    readonly code: "rejected" | "sql" | "unavailable",
  ) {
    super(message);
    this.name = "QueryError";
  }
}

export interface QueryResult {
  columns: { name: string; type: string }[];
  rows: Record<string, unknown>[];
}

const INTEGER_TYPES = new Set<DuckDBTypeId>([DuckDBTypeId.BIGINT, DuckDBTypeId.UBIGINT, DuckDBTypeId.HUGEINT, DuckDBTypeId.UHUGEINT]);

/** 64-bit integers and decimals become JSON numbers when exact, else stay numeric strings (API.md). */
function toJsonValue(type: DuckDBType, v: unknown): unknown {
  if (v === null || typeof v !== "string") return v;
  if (type.alias === "JSON") {
    try {
      return JSON.parse(v);
    } catch {
      return v;
    }
  }
  if (INTEGER_TYPES.has(type.typeId)) {
    const n = Number(v);
    return Number.isSafeInteger(n) ? n : v;
  }
  if (type.typeId === DuckDBTypeId.DECIMAL) {
    const n = Number(v);
    const canonical = v.includes(".") ? v.replace(/0+$/, "").replace(/\.$/, "") : v;
    return Number.isFinite(n) && String(n) === canonical ? n : v;
  }
  return v;
}

export async function assertReadOnly(con: DuckDBConnection, sql: string): Promise<void> {
  let count: number;
  let extracted;
  try {
    extracted = await con.extractStatements(sql);
    count = extracted.count;
  } catch (e) {
    throw new QueryError(`SQL error: ${(e as Error).message}`, "sql");
  }
  if (count !== 1) throw new QueryError(`expected exactly one SQL statement, got ${count}; run statements one at a time`, "rejected");
  let type: StatementType;
  try {
    type = (await extracted.prepare(0)).statementType;
  } catch (e) {
    throw new QueryError(`SQL error: ${(e as Error).message}`, "sql");
  }
  if (type !== StatementType.SELECT) {
    throw new QueryError(`only read-only queries are allowed (SELECT, WITH … SELECT, DESCRIBE, SHOW, SUMMARIZE); this is a ${StatementType[type]} statement`, "rejected");
  }
}

export async function runReadOnly(con: DuckDBConnection, sql: string): Promise<QueryResult> {
  await assertReadOnly(con, sql);
  await con.run("BEGIN TRANSACTION");
  try {
    const reader = await con.runAndReadAll(sql);
    const types = reader.columnTypes();
    const names = reader.columnNames();
    const rows = reader.getRowObjectsJson().map((row) => {
      const out: Record<string, unknown> = {};
      names.forEach((n, i) => (out[n] = toJsonValue(types[i]!, (row as Record<string, unknown>)[n])));
      return out;
    });
    return { columns: names.map((name, i) => ({ name, type: types[i]!.toString() })), rows };
  } catch (e) {
    if (e instanceof QueryError) throw e;
    throw new QueryError(`SQL error: ${(e as Error).message}`, "sql");
  } finally {
    await con.run("ROLLBACK").catch(() => undefined);
  }
}

/**
 * Opens the warehouse file read-only (no lock conflict with other readers; fails while a writer
 * holds it). Before anything was ever loaded there is no file: the query then runs against the
 * empty tables of the contract in memory, so it answers as it will once data arrives.
 */
export async function queryFile(path: string, sql: string): Promise<QueryResult> {
  const fresh = !existsSync(path);
  const instance = fresh ? await DuckDBInstance.create(":memory:") : await DuckDBInstance.create(path, { access_mode: "READ_ONLY" });
  const con = await instance.connect();
  if (fresh) await con.run(warehouseDdl());
  try {
    return await runReadOnly(con, sql);
  } finally {
    con.closeSync();
    instance.closeSync();
  }
}

/**
 * Read-only SQL against the local warehouse, shared by the operator API (inside the pipeline, which
 * holds DuckDB's write lock) and the CLI (opening the file read-only when no pipeline runs).
 *
 * Read-only is enforced in layers: the text must be exactly one statement; DuckDB's own parser
 * must classify it as SELECT (DESCRIBE, SHOW, SUMMARIZE, PRAGMA table_info, FROM-first and VALUES are
 * SELECTs to DuckDB; INSERT, UPDATE, COPY, ATTACH, SET, PRAGMA settings, CALL, EXPLAIN [ANALYZE] are
 * not); it runs inside a transaction that is always rolled back; and the instance it runs on is
 * locked down (open.ts: no files outside the warehouse's own, no extensions, no configuration
 * change), so table functions such as read_text('/etc/passwd') are refused by DuckDB itself.
 * Every query has a deadline (DuckDB interrupts it) and a row cap.
 */
import { DuckDBInstance, DuckDBTypeId, StatementType, type DuckDBConnection, type DuckDBType } from "@duckdb/node-api";
import { existsSync } from "node:fs";
import { warehouseDdl } from "./ddl.js";
import { lockDown, NO_EXTENSION_LOADING } from "./open.js";

export type QueryErrorCode =
  /** not one read-only statement, or it touches what the warehouse does not expose (files, extensions) */
  | "rejected"
  /** DuckDB could not run it (syntax, unknown column, …) */
  | "sql"
  /** a marts/features/staging table that the models have not built yet */
  | "not_built"
  /** ran past its deadline and was interrupted */
  | "timeout"
  /** no warehouse to run it on (held by another process, unreadable) */
  | "unavailable";

export class QueryError extends Error {
  constructor(
    message: string,
    readonly code: QueryErrorCode,
    /** What to do about it. */
    readonly hint?: string,
  ) {
    super(message);
    this.name = "QueryError";
  }
}

/** Rows one query returns at most, unless the caller asks for fewer. */
export const MAX_QUERY_ROWS = 10_000;
export const DEFAULT_QUERY_TIMEOUT_MS = 30_000;

export interface QueryLimits {
  /** The query is interrupted after this long. */
  timeoutMs: number;
  /** At most this many rows are returned; `truncated` says when there were more. */
  maxRows: number;
}

export interface QueryResult {
  columns: { name: string; type: string }[];
  rows: Record<string, unknown>[];
  /** True when the query had more rows than `maxRows` and only the first ones are here. */
  truncated: boolean;
  /** Something the reader should know about the answer (a row cap hit, no warehouse yet). */
  notice?: string;
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

const MODEL_SCHEMAS = /\b(marts|features|staging|assertions)\s*\./i;

/** DuckDB's message turned into a coded error that says what to do. */
function fromDuckDb(e: unknown, sql: string, limits: QueryLimits, interrupted: boolean): QueryError {
  if (e instanceof QueryError) return e;
  const msg = (e as Error).message;
  if (interrupted || /^INTERRUPT Error/i.test(msg)) {
    return new QueryError(
      `the query ran longer than ${limits.timeoutMs / 1000} s and was stopped`,
      "timeout",
      "narrow it (a WHERE on event_date, a LIMIT, an aggregate), or raise TIDELINE_QUERY_TIMEOUT_MS where the warehouse runs",
    );
  }
  if (/^Permission Error/i.test(msg)) {
    return new QueryError(
      `only the warehouse's own tables can be queried: ${msg}`,
      "rejected",
      "files, URLs, other databases and extensions are off for operator SQL; load data through the pipeline or `npx tideline backfill`",
    );
  }
  if (/^Catalog Error/i.test(msg) && MODEL_SCHEMAS.test(sql)) {
    return new QueryError(`SQL error: ${msg}`, "not_built", "the models have not built this table yet: run `npx tideline models run`");
  }
  return new QueryError(`SQL error: ${msg}`, "sql");
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
  if (count !== 1) throw new QueryError(`expected exactly one SQL statement, got ${count}`, "rejected", "run statements one at a time");
  let type: StatementType;
  try {
    type = (await extracted.prepare(0)).statementType;
  } catch (e) {
    throw fromDuckDb(e, sql, { timeoutMs: 0, maxRows: 0 }, false);
  }
  if (type !== StatementType.SELECT) {
    throw new QueryError(
      `only read-only queries are allowed (SELECT, WITH … SELECT, DESCRIBE, SHOW, SUMMARIZE); this is a ${StatementType[type]} statement`,
      "rejected",
    );
  }
}

export const DEFAULT_QUERY_LIMITS: QueryLimits = { timeoutMs: DEFAULT_QUERY_TIMEOUT_MS, maxRows: MAX_QUERY_ROWS };

export async function runReadOnly(con: DuckDBConnection, sql: string, limits: QueryLimits = DEFAULT_QUERY_LIMITS): Promise<QueryResult> {
  await assertReadOnly(con, sql);
  await con.run("BEGIN TRANSACTION");
  let interrupted = false;
  const timer = setTimeout(() => {
    interrupted = true;
    con.interrupt();
  }, limits.timeoutMs);
  try {
    // Reads chunks only until one row past the cap: a huge result is never materialised.
    const reader = await con.streamAndReadUntil(sql, limits.maxRows + 1);
    clearTimeout(timer);
    const types = reader.columnTypes();
    const names = reader.columnNames();
    const truncated = reader.currentRowCount > limits.maxRows;
    const rows = reader
      .getRowObjectsJson()
      .slice(0, limits.maxRows)
      .map((row) => {
        const out: Record<string, unknown> = {};
        names.forEach((n, i) => (out[n] = toJsonValue(types[i]!, (row as Record<string, unknown>)[n])));
        return out;
      });
    return {
      columns: names.map((name, i) => ({ name, type: types[i]!.toString() })),
      rows,
      truncated,
      ...(truncated ? { notice: `only the first ${limits.maxRows} rows are returned; add a LIMIT or aggregate to see what you need` } : {}),
    };
  } catch (e) {
    throw fromDuckDb(e, sql, limits, interrupted);
  } finally {
    clearTimeout(timer);
    await con.run("ROLLBACK").catch(() => undefined);
  }
}

/** A query on its own connection of a running instance: an interrupt stops that query only. */
export async function queryInstance(instance: DuckDBInstance, sql: string, limits: QueryLimits): Promise<QueryResult> {
  const con = await instance.connect();
  try {
    return await runReadOnly(con, sql, limits);
  } finally {
    con.closeSync();
  }
}

/**
 * Opens the warehouse file read-only and locked down (no lock conflict with other readers; fails
 * while a writer holds it). Before anything was ever loaded there is no file: the query then runs
 * against the empty tables of the contract in memory, so it answers as it will once data arrives,
 * with a notice saying so.
 */
export async function queryFile(path: string, sql: string, limits: QueryLimits = DEFAULT_QUERY_LIMITS): Promise<QueryResult> {
  const fresh = !existsSync(path);
  let instance: DuckDBInstance;
  try {
    instance = fresh
      ? await DuckDBInstance.create(":memory:", NO_EXTENSION_LOADING)
      : await DuckDBInstance.create(path, { ...NO_EXTENSION_LOADING, access_mode: "READ_ONLY" });
  } catch (e) {
    const msg = (e as Error).message;
    if (/lock/i.test(msg)) {
      throw new QueryError(
        `the warehouse ${path} is held by another process (DuckDB allows one writer) and no operator API answered`,
        "unavailable",
        "if `npm start` runs, set TIDELINE_DASHBOARD_PORT and TIDELINE_DATA_DIR as it has them; if a backfill or models run from the CLI holds it, wait for it to finish",
      );
    }
    throw new QueryError(`could not open the warehouse ${path}: ${msg}`, "unavailable", "check TIDELINE_WAREHOUSE, or clear local state with `npx tideline reset`");
  }
  try {
    if (fresh) {
      const setup = await instance.connect();
      await setup.run(warehouseDdl());
      setup.closeSync();
    }
    await lockDown(instance);
    const r = await queryInstance(instance, sql, limits);
    if (!fresh) return r;
    const empty = `no warehouse at ${path} yet: this answer comes from the contract's empty tables; start the platform (npm start) and send events, or run \`npx tideline backfill\``;
    return { ...r, notice: r.notice ? `${empty}; ${r.notice}` : empty };
  } finally {
    instance.closeSync();
  }
}

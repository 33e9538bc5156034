/**
 * Where model SQL runs. The runner only needs `run` and `query`, so it can drive a DuckDB file it
 * opens itself, the live connection of the running pipeline (which holds DuckDB's single write lock
 * while `npm start` runs), or BigQuery.
 */
import type { DuckDBConnection } from "@duckdb/node-api";
import type { Dialect } from "./compile.js";
import { openWarehouseFile } from "../duckdb/open.js";

export interface Executor {
  readonly dialect: Dialect;
  run(sql: string): Promise<void>;
  query(sql: string): Promise<Record<string, unknown>[]>;
  close?(): Promise<void>;
}

/** Wraps an open DuckDB connection (e.g. the pipeline's). Sessions run in UTC so CAST(ts AS DATE) is the UTC date. */
export async function duckDbExecutor(con: DuckDBConnection, onClose?: () => void): Promise<Executor> {
  // An instance locked down for operator SQL (duckdb/open.ts) runs in UTC already and refuses any SET.
  const tz = (await con.runAndReadAll("SELECT current_setting('TimeZone')")).getRows()[0]![0];
  if (tz !== "UTC" && tz !== "Etc/UTC") await con.run("SET TimeZone = 'UTC'");
  return {
    dialect: "duckdb",
    async run(sql) {
      await con.run(sql);
    },
    async query(sql) {
      const reader = await con.runAndReadAll(sql);
      return reader.getRowObjectsJson() as Record<string, unknown>[];
    },
    async close() {
      onClose?.();
    },
  };
}

/** Opens a DuckDB file for writing (fails if another process, e.g. `npm start`, holds it). */
export async function openDuckDbFile(path: string): Promise<Executor> {
  const instance = await openWarehouseFile(path, "is `npm start` running? Stop it, or run the models through the running platform's operator API");
  const con = await instance.connect();
  return duckDbExecutor(con, () => {
    con.closeSync();
    instance.closeSync();
  });
}

/** The subset of @google-cloud/bigquery's client the runner uses (so tests can assert the exact SQL). */
export interface BigQueryLike {
  query(options: { query: string; location?: string; useLegacySql?: boolean }): Promise<[Record<string, unknown>[], ...unknown[]]>;
}

export function bigQueryExecutor(client: BigQueryLike, location = "US"): Executor {
  return {
    dialect: "bigquery",
    async run(sql) {
      await client.query({ query: sql, location, useLegacySql: false });
    },
    async query(sql) {
      const [rows] = await client.query({ query: sql, location, useLegacySql: false });
      return rows;
    },
  };
}

/**
 * The local warehouse: one DuckDB file under .data/ with one writer (this process). A micro-batch
 * is committed in ONE transaction: raw rows (the ones `lookup` found not stored: DuckDB admits one
 * writer process, and process-batch.ts runs each batch's lookup and commit before the next batch's,
 * so the lookup is exact; the raw tables carry no key index, see keyCheckedByLoader),
 * CDC state upserts guarded by source position, dead letters, touched partitions, metric increments
 * and the watermarks. Rows reach DuckDB as NDJSON files read by read_json with the contract's column
 * types: DuckDB's own parser is far faster than binding tens of columns per row from JavaScript.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { availableParallelism, tmpdir } from "node:os";
import type { DuckDBInstance, DuckDBConnection } from "@duckdb/node-api";
import { opsDeadLetters, rawCdcChanges, rawEvents, rawWebhooks, type TableSpec, tableId } from "../../contracts/tables.js";
import { opsPartitionsTouched, opsRealtimeMetrics, opsWatermarks } from "../../contracts/pipeline-tables.js";
import type { Stream } from "../../contracts/records.js";
import type { CommitOptions, WarehouseSink } from "../../pipeline/warehouse-sink.js";
import type { CommitBatch, Lookup, StoredState } from "../../pipeline/transforms/batch.js";
import { CORE_COLUMNS, CORE_TABLES, keyOf, type AppliedPosition, type CoreTableName } from "../../pipeline/transforms/cdc.js";
import { columnNames, readJsonColumns, selectWithDefaults, warehouseDdl } from "./ddl.js";
import { writeRowsNdjson, writeSourcesNdjson } from "../stage-ndjson.js";
import { lockDown, NO_EXTENSION_LOADING, openWarehouseFile } from "./open.js";
import { hasSourceText } from "../../pipeline/transforms/parse.js";
import { EVENT_TIME_COLUMNS } from "../../pipeline/transforms/types.js";
import { watermarkRow, type WatermarkState } from "../../pipeline/transforms/event-time.js";

const SHM_DIR = "/dev/shm";
/** Fewer, larger checkpoints: loads commit often and DuckDB's 16 MB default checkpoints every few batches. */
const CHECKPOINT_THRESHOLD = "256MB";

export const DEFAULT_WAREHOUSE_PATH = ".data/warehouse.duckdb";

export function warehousePath(): string {
  return resolve(process.env.TIDELINE_WAREHOUSE ?? DEFAULT_WAREHOUSE_PATH);
}

const sqlString = (s: string) => `'${s.replaceAll("'", "''")}'`;
const idList = (ids: string[]) => JSON.stringify(ids);

export class DuckDbSink implements WarehouseSink {
  readonly kind = "duckdb" as const;
  private stagingRoot: string;
  private fileSeq = 0;

  private constructor(
    readonly path: string,
    readonly instance: DuckDBInstance,
    readonly con: DuckDBConnection,
  ) {
    // Staged NDJSON is written and read once per commit: a RAM-backed directory keeps that off the disk.
    const base = existsSync(SHM_DIR) ? SHM_DIR : path === ":memory:" ? tmpdir() : dirname(path);
    mkdirSync(base, { recursive: true });
    this.stagingRoot = mkdtempSync(join(base, "tideline-staging-"));
  }

  /**
   * `serveQueries`: the instance also answers operator SQL (the pipeline service), so it is locked
   * down (open.ts): files only from its own staging directory, no extensions, configuration fixed
   * from here on. A sink that serves no queries (a CLI backfill) keeps its configuration open.
   */
  static async open(path = warehousePath(), o: { serveQueries?: boolean } = {}): Promise<DuckDbSink> {
    if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
    const instance = await openWarehouseFile(path, "stop the other pipeline (npm start or a running backfill) and retry", o.serveQueries ? NO_EXTENSION_LOADING : {});
    const sink = new DuckDbSink(path, instance, await instance.connect());
    await sink.con.run(`SET checkpoint_threshold = '${CHECKPOINT_THRESHOLD}'`);
    if (o.serveQueries) await lockDown(instance, [sink.stagingRoot + "/"]);
    return sink;
  }

  private reader: DuckDBConnection | null = null;

  /**
   * A second connection for read-only queries (operator API): DuckDB transactions are per
   * connection, so reads never land inside a commit in flight and see only committed batches.
   */
  async readConnection(): Promise<DuckDBConnection> {
    this.reader ??= await this.instance.connect();
    return this.reader;
  }

  async init(): Promise<void> {
    await this.con.run(warehouseDdl());
  }

  /**
   * DuckDB runs one thread per core; while a backfill's prepare workers keep `threads` cores busy,
   * DuckDB's extra threads only contend with them (measured: 2.5 s more CPU and a slower load per
   * million events on two cores), so it gets the cores that are left, at least one.
   */
  async shareCores(threads: number): Promise<() => Promise<void>> {
    const r = await this.con.runAndReadAll("SELECT current_setting('threads') AS t, current_setting('lock_configuration') AS locked");
    const [t, locked] = r.getRows()[0]!;
    // Locked down for operator SQL (open): the thread count stays as it is.
    if (locked === true) return async () => undefined;
    const before = Number(t);
    await this.con.run(`SET threads = ${Math.max(1, availableParallelism() - threads)}`);
    return async () => {
      await this.con.run(`SET threads = ${before}`);
    };
  }

  /**
   * Everything a batch needs to know, in ONE query (UNION ALL): each round trip waits for the
   * JavaScript thread, which is busy preparing the next batch, so several small queries cost far
   * more than their DuckDB time.
   */
  async lookup(l: Lookup): Promise<StoredState> {
    const parts: string[] = [];
    const params: string[] = [];
    const ids = (list: string[]) => {
      params.push(idList(list));
      return `(SELECT unnest(from_json(?::JSON, '["VARCHAR"]')))`;
    };
    // The event-date range lets DuckDB skip row groups by their min/max (rows arrive roughly in
    // date order), so the lookup does not scan the whole table as it grows.
    const stored = (kind: string, t: TableSpec, list: string[], dates: [string, string] | undefined) => {
      if (list.length === 0 || !dates) return;
      parts.push(
        `SELECT '${kind}' AS kind, event_id AS id, NULL::VARCHAR AS pos, NULL::BOOLEAN AS deleted, NULL::BIGINT AS w, NULL::BIGINT AS m
         FROM ${tableId(t)} WHERE event_date BETWEEN ${sqlString(dates[0])}::DATE AND ${sqlString(dates[1])}::DATE AND event_id IN ${ids(list)}`,
      );
    };
    stored("events", rawEvents, l.eventIds, l.dates.events);
    stored("webhooks", rawWebhooks, l.webhookIds, l.dates.webhooks);
    stored("cdc", rawCdcChanges, l.cdcIds, l.dates.cdc);
    const byTable = new Map<CoreTableName, string[]>();
    for (const k of l.cdcKeys) byTable.set(k.table, [...(byTable.get(k.table) ?? []), k.id]);
    for (const [table, list] of byTable) {
      parts.push(`SELECT 'core.${table}', id, _position, _deleted, NULL, NULL FROM core.${table} WHERE id IN ${ids(list)}`);
    }
    parts.push(`SELECT 'watermark', stream, NULL, NULL, epoch_ms(watermark_ts), epoch_ms(max_event_ts) FROM ${tableId(opsWatermarks)}`);
    const r = await this.con.runAndReadAll(parts.join("\nUNION ALL\n"), params);
    const state = { events: new Set<string>(), webhooks: new Set<string>(), cdc: new Set<string>(), cdcPositions: new Map<string, AppliedPosition>(), watermarks: new Map<Stream, WatermarkState>() };
    for (const [kind, id, pos, deleted, w, m] of r.getRows()) {
      if (kind === "events" || kind === "webhooks" || kind === "cdc") state[kind].add(String(id));
      else if (kind === "watermark") state.watermarks.set(id as Stream, { stream: String(id), watermarkMs: Number(w), maxEventMs: Number(m) });
      else state.cdcPositions.set(keyOf(String(kind).slice("core.".length) as CoreTableName, String(id)), { position: String(pos), deleted: Boolean(deleted) });
    }
    return state;
  }

  async watermarks(): Promise<Map<Stream, WatermarkState>> {
    const r = await this.con.runAndReadAll(`SELECT stream, epoch_ms(watermark_ts), epoch_ms(max_event_ts) FROM ${tableId(opsWatermarks)}`);
    return new Map(
      r.getRows().map(([stream, w, m]) => [stream as Stream, { stream: String(stream), watermarkMs: Number(w), maxEventMs: Number(m) }]),
    );
  }

  private stage(rows: object[], extraColumns?: readonly string[]): string {
    const file = join(this.stagingRoot, `${++this.fileSeq}.ndjson`);
    writeRowsNdjson(file, rows, extraColumns);
    return file;
  }

  private readJson(file: string, t: TableSpec) {
    return `read_json(${sqlString(file)}, format = 'newline_delimited', columns = ${readJsonColumns(t)})`;
  }

  /** Stages the rows and returns the INSERT that loads them (none for no rows). */
  private insertSql(t: TableSpec, rows: object[], conflict: string | null, extraColumns?: readonly string[]): string[] {
    if (rows.length === 0) return [];
    const file = this.stage(rows, extraColumns);
    return [`INSERT INTO ${tableId(t)} BY NAME SELECT * FROM ${this.readJson(file, t)}${conflict === null ? "" : ` ON CONFLICT ${conflict}`}`];
  }

  /**
   * Event rows with their message text are staged as that text alone, and the INSERT derives the
   * pipeline's columns in SQL exactly as assignEventTime did (UTC date of event_ts; late by the
   * batch's watermark minus event_ts when positive): no per-row column text to build and write, and
   * whole archive objects go to the file as they are. Members of the text that are not contract
   * columns (a forged `is_late`, say) are ignored. Rows without text are staged as JSON.
   */
  private eventsInsertSql(b: CommitBatch, conflict: string | null): string[] {
    const plain = b.events.filter((r) => !hasSourceText(r));
    const out = this.insertSql(rawEvents, plain, conflict, EVENT_TIME_COLUMNS);
    if (plain.length === b.events.length) return out;
    const columns = readJsonColumns(rawEvents, EVENT_TIME_COLUMNS);
    let from = 0;
    // One staged file per run of rows judged against one watermark (one per archive object in a
    // backfill's transaction; one for a streaming batch), read by ONE scan and joined to its
    // watermark by file name: one INSERT per transaction (DuckDB writes an insert of a row group or
    // more straight to its file; separate small inserts all went through its write-ahead log).
    const files: [string, number | null][] = [];
    for (const { end, watermarkMs } of b.eventsLateAgainst) {
      const sourced = plain.length === 0 ? b.events.slice(from, end) : b.events.slice(from, end).filter(hasSourceText);
      from = end;
      if (sourced.length === 0) continue;
      const file = join(this.stagingRoot, `${++this.fileSeq}.ndjson`);
      writeSourcesNdjson(file, sourced);
      files.push([file, watermarkMs]);
    }
    if (files.length > 0) {
      const ts = "epoch_ms(s.event_ts)";
      const lateness = `CASE WHEN w.wm IS NOT NULL AND ${ts} < w.wm THEN w.wm - ${ts} ELSE 0 END`;
      out.push(
        `INSERT INTO ${tableId(rawEvents)} BY NAME SELECT ${selectWithDefaults(rawEvents, "s", ["filename"])}, CAST(timezone('UTC', s.event_ts) AS DATE) AS event_date, (${lateness}) > 0 AS is_late,
           ${lateness} AS lateness_ms, ${sqlString(b.loadedAt)}::TIMESTAMPTZ AS loaded_at
         FROM read_json([${files.map(([f]) => sqlString(f)).join(", ")}], format = 'newline_delimited', columns = ${columns}, filename = true) s
         JOIN (VALUES ${files.map(([f, w]) => `(${sqlString(f)}, ${w === null ? "NULL" : w}::BIGINT)`).join(", ")}) AS w(filename, wm) USING (filename)${conflict === null ? "" : ` ON CONFLICT ${conflict}`}`,
      );
    }
    if (from !== b.events.length) throw new Error(`internal error: lateness segments cover ${from} of ${b.events.length} event rows`);
    return out;
  }

  /**
   * Raw rows are inserted without ON CONFLICT. A warehouse file created before the raw tables lost
   * their primary key still has one: should it reject a key stored outside the dedup window, the
   * transaction rolls back and the batch is committed again with ON CONFLICT DO NOTHING.
   */
  async commit(b: CommitBatch, opts: CommitOptions): Promise<void> {
    try {
      await this.commitOnce(b, opts, null);
    } catch (e) {
      if (!/constraint/i.test((e as Error).message)) throw e;
      await this.commitOnce(b, opts, "DO NOTHING");
    }
  }

  private async commitOnce(b: CommitBatch, opts: CommitOptions, rawConflict: "DO NOTHING" | null): Promise<void> {
    const now = b.loadedAt;
    // Every statement of the batch goes to DuckDB as ONE multi-statement query: each round trip
    // waits for the JavaScript thread, which is meanwhile preparing the next batch.
    const stmts: string[] = [];
    const insert = (...args: Parameters<DuckDbSink["insertSql"]>) => stmts.push(...this.insertSql(...args));
    try {
      stmts.push(...this.eventsInsertSql(b, rawConflict));
      insert(rawWebhooks, b.webhooks, rawConflict);
      insert(rawCdcChanges, b.cdcChanges, rawConflict);
      for (const t of b.coreTruncates) {
        const p = sqlString(t.position);
        stmts.push(
          `UPDATE core.${t.table} SET _deleted = true, _position = ${p}, _source_ts = ${sqlString(t.source_ts)}::TIMESTAMPTZ, _updated_at = ${sqlString(now)}::TIMESTAMPTZ WHERE _position < ${p}`,
        );
      }
      for (const table of Object.keys(CORE_TABLES) as CoreTableName[]) {
        const rows = b.coreRows
          .filter((r) => r.table === table)
          .map((r) => ({ ...r.values, id: r.id, _position: r._position, _source_ts: r._source_ts, _deleted: r._deleted, _updated_at: now }));
        if (rows.length === 0) continue;
        // A delete or tombstone keeps the last known values where it carries none (the row stays, flagged).
        const sets = CORE_COLUMNS[table]
          .filter((c) => c.name !== "id")
          .map((c) => `${c.name} = CASE WHEN excluded._deleted THEN coalesce(excluded.${c.name}, ${table}.${c.name}) ELSE excluded.${c.name} END`);
        const meta = ["_position", "_source_ts", "_deleted", "_updated_at"].map((c) => `${c} = excluded.${c}`);
        insert(CORE_TABLES[table], rows, `(id) DO UPDATE SET ${[...sets, ...meta].join(", ")} WHERE ${table}._position < excluded._position`);
      }
      insert(opsDeadLetters, b.deadLetters, "DO NOTHING");
      insert(
        opsPartitionsTouched,
        b.partitions.map((p) => ({ ...p, first_loaded_at: now, last_loaded_at: now, last_late_at: p.late_rows > 0 ? now : null })),
        `(table_name, event_date) DO UPDATE SET rows_loaded = partitions_touched.rows_loaded + excluded.rows_loaded,
           late_rows = partitions_touched.late_rows + excluded.late_rows, last_loaded_at = excluded.last_loaded_at,
           last_late_at = coalesce(excluded.last_late_at, partitions_touched.last_late_at)`,
      );
      insert(
        opsRealtimeMetrics,
        b.metrics.map((m) => ({ ...m, updated_at: now })),
        `(stream, minute) DO UPDATE SET events = realtime_metrics.events + excluded.events, orders = realtime_metrics.orders + excluded.orders,
           revenue = realtime_metrics.revenue + excluded.revenue, late_events = realtime_metrics.late_events + excluded.late_events,
           updated_at = excluded.updated_at`,
      );
      if (opts.persistWatermarks) {
        insert(
          opsWatermarks,
          b.watermarks.map((w) => watermarkRow(w, now)),
          `(stream) DO UPDATE SET watermark_ts = greatest(watermarks.watermark_ts, excluded.watermark_ts),
             max_event_ts = greatest(watermarks.max_event_ts, excluded.max_event_ts), out_of_orderness_ms = excluded.out_of_orderness_ms,
             updated_at = excluded.updated_at`,
        );
      }
      await this.con.run(["BEGIN TRANSACTION", ...stmts, "COMMIT"].join(";\n"));
    } catch (e) {
      await this.con.run("ROLLBACK").catch(() => undefined);
      throw e;
    } finally {
      rmSync(this.stagingRoot, { recursive: true, force: true });
      mkdirSync(this.stagingRoot, { recursive: true });
    }
  }

  async close(): Promise<void> {
    this.reader?.closeSync();
    this.con.closeSync();
    this.instance.closeSync();
    rmSync(this.stagingRoot, { recursive: true, force: true });
  }
}

export { columnNames };

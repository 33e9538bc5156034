/**
 * The production warehouse: BigQuery through the official client (@google-cloud/bigquery).
 * A micro-batch is loaded with load jobs (NDJSON) into per-batch staging tables and then applied
 * with MERGE statements inside ONE multi-statement transaction, so a batch lands entirely or not
 * at all and a retried batch changes nothing (MERGE on the contract keys). Tables are created from
 * contracts/ with the generated partitioning and clustering (raw.events requires a partition filter,
 * which every statement here supplies).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { randomUUID } from "node:crypto";
import { opsDeadLetters, rawCdcChanges, rawEvents, rawWebhooks, type TableSpec, tableId } from "../../contracts/tables.js";
import { opsPartitionsTouched, opsRealtimeMetrics, opsWatermarks } from "../../contracts/pipeline-tables.js";
import { bigQueryTable } from "../../contracts/generators/bigquery.js";
import { columnsOf } from "../../contracts/generators/columns.js";
import type { Stream } from "../../contracts/records.js";
import type { CommitOptions, WarehouseSink } from "../../pipeline/warehouse-sink.js";
import type { CommitBatch, Lookup, StoredState } from "../../pipeline/transforms/batch.js";
import { CORE_COLUMNS, CORE_TABLES, keyOf, type AppliedPosition, type CoreTableName } from "../../pipeline/transforms/cdc.js";
import { dedupWindowOf, watermarkRow, type WatermarkState } from "../../pipeline/transforms/event-time.js";
import { warehouseTables } from "../duckdb/ddl.js";
import { writeRowsNdjson } from "../stage-ndjson.js";
import { EVENT_TIME_COLUMNS } from "../../pipeline/transforms/types.js";

/** The part of the BigQuery client this sink uses; `new BigQuery()` satisfies it. */
export interface BigQueryLike {
  projectId: string;
  query(options: { query: string; params?: Record<string, unknown>; location?: string }): Promise<[Record<string, unknown>[], ...unknown[]]>;
  dataset(id: string): {
    exists(): Promise<[boolean]>;
    create(options?: object): Promise<unknown>;
    table(id: string): {
      exists(): Promise<[boolean]>;
      load(source: string, metadata: object): Promise<unknown>;
    };
    createTable(id: string, options: object): Promise<unknown>;
  };
}

export interface BigQuerySinkOptions {
  client: BigQueryLike;
  location?: string;
  /** Names staging tables; injectable so tests can assert exact SQL. */
  batchId?: () => string;
}

const lit = (s: string) => `'${s.replaceAll("\\", "\\\\").replaceAll("'", "\\'")}'`;

export class BigQuerySink implements WarehouseSink {
  readonly kind = "bigquery" as const;
  private readonly client: BigQueryLike;
  private readonly location: string | undefined;
  private readonly batchId: () => string;

  constructor(o: BigQuerySinkOptions) {
    this.client = o.client;
    this.location = o.location;
    this.batchId = o.batchId ?? (() => randomUUID().replaceAll("-", ""));
  }

  private ref(t: Pick<TableSpec, "dataset" | "name">, suffix = "") {
    return `\`${this.client.projectId}.${t.dataset}.${t.name}${suffix}\``;
  }

  private async query(sql: string, params?: Record<string, unknown>) {
    const [rows] = await this.client.query({ query: sql, ...(params ? { params } : {}), ...(this.location ? { location: this.location } : {}) });
    return rows;
  }

  async init(): Promise<void> {
    const tables = warehouseTables();
    for (const ds of [...new Set(tables.map((t) => t.dataset))]) {
      const d = this.client.dataset(ds);
      if (!(await d.exists())[0]) await d.create(this.location ? { location: this.location } : {});
    }
    for (const t of tables) {
      const d = this.client.dataset(t.dataset);
      if ((await d.table(t.name).exists())[0]) continue;
      const { tableReference: _ref, ...resource } = bigQueryTable(t);
      await d.createTable(t.name, resource);
    }
  }

  async lookup(l: Lookup): Promise<StoredState> {
    const stored = async (t: TableSpec, ids: string[], dates: [string, string] | undefined) => {
      if (ids.length === 0 || !dates) return new Set<string>();
      const rows = await this.query(
        `SELECT event_id FROM ${this.ref(t)} WHERE event_date BETWEEN @min_date AND @max_date AND event_id IN UNNEST(@ids)`,
        { ids, min_date: dates[0], max_date: dates[1] },
      );
      return new Set(rows.map((r) => String(r.event_id)));
    };
    const cdcPositions = new Map<string, AppliedPosition>();
    const byTable = new Map<CoreTableName, string[]>();
    for (const k of l.cdcKeys) byTable.set(k.table, [...(byTable.get(k.table) ?? []), k.id]);
    for (const [table, ids] of byTable) {
      const rows = await this.query(`SELECT id, _position, _deleted FROM ${this.ref(CORE_TABLES[table])} WHERE id IN UNNEST(@ids)`, { ids });
      for (const r of rows) cdcPositions.set(keyOf(table, String(r.id)), { position: String(r._position), deleted: Boolean(r._deleted) });
    }
    const wm = await this.query(`SELECT stream, UNIX_MILLIS(watermark_ts) AS w, UNIX_MILLIS(max_event_ts) AS m FROM ${this.ref(opsWatermarks)}`);
    const watermarks = new Map<Stream, WatermarkState>(
      wm.map((r) => [r.stream as Stream, { stream: String(r.stream), watermarkMs: Number(r.w), maxEventMs: Number(r.m) }]),
    );
    return {
      events: await stored(rawEvents, l.eventIds, l.dates.events),
      webhooks: await stored(rawWebhooks, l.webhookIds, l.dates.webhooks),
      cdc: await stored(rawCdcChanges, l.cdcIds, l.dates.cdc),
      cdcPositions,
      watermarks,
    };
  }

  /** The statements of one batch: MERGEs in a transaction, then dropping the staging tables. */
  commitSql(b: CommitBatch, staged: Map<TableSpec, string>, opts: CommitOptions): string {
    const now = lit(b.loadedAt);
    const stmts: string[] = [];
    const stg = (t: TableSpec) => this.ref(t, staged.get(t)!);
    const dateBounds = (rows: { event_date: string }[]) => {
      const [min, max] = dedupWindowOf(rows, (r) => r.event_date)!;
      return `T.event_date BETWEEN DATE ${lit(min)} AND DATE ${lit(max)}`;
    };
    const insertOnly = (t: TableSpec, on: string) =>
      stmts.push(`MERGE ${this.ref(t)} T USING ${stg(t)} S ON ${on}\nWHEN NOT MATCHED THEN INSERT ROW;`);
    if (staged.has(rawEvents)) insertOnly(rawEvents, `T.event_id = S.event_id AND ${dateBounds(b.events)}`);
    if (staged.has(rawWebhooks)) insertOnly(rawWebhooks, `T.event_id = S.event_id AND ${dateBounds(b.webhooks)}`);
    if (staged.has(rawCdcChanges)) insertOnly(rawCdcChanges, `T.event_id = S.event_id AND ${dateBounds(b.cdcChanges)}`);
    for (const t of b.coreTruncates) {
      const p = lit(t.position);
      stmts.push(
        `UPDATE ${this.ref(CORE_TABLES[t.table])} SET _deleted = TRUE, _position = ${p}, _source_ts = TIMESTAMP ${lit(t.source_ts)}, _updated_at = TIMESTAMP ${now} WHERE _position < ${p};`,
      );
    }
    for (const table of Object.keys(CORE_TABLES) as CoreTableName[]) {
      const spec = CORE_TABLES[table];
      if (!staged.has(spec)) continue;
      const sets = CORE_COLUMNS[table]
        .filter((c) => c.name !== "id")
        .map((c) => `${c.name} = IF(S._deleted, COALESCE(S.${c.name}, T.${c.name}), S.${c.name})`);
      const meta = ["_position", "_source_ts", "_deleted", "_updated_at"].map((c) => `${c} = S.${c}`);
      stmts.push(
        `MERGE ${this.ref(spec)} T USING ${stg(spec)} S ON T.id = S.id\nWHEN MATCHED AND T._position < S._position THEN UPDATE SET ${[...sets, ...meta].join(", ")}\nWHEN NOT MATCHED THEN INSERT ROW;`,
      );
    }
    if (staged.has(opsDeadLetters)) insertOnly(opsDeadLetters, "T.dead_letter_id = S.dead_letter_id");
    if (staged.has(opsPartitionsTouched)) {
      stmts.push(
        `MERGE ${this.ref(opsPartitionsTouched)} T USING ${stg(opsPartitionsTouched)} S ON T.table_name = S.table_name AND T.event_date = S.event_date\n` +
          `WHEN MATCHED THEN UPDATE SET rows_loaded = T.rows_loaded + S.rows_loaded, late_rows = T.late_rows + S.late_rows, last_loaded_at = S.last_loaded_at, last_late_at = COALESCE(S.last_late_at, T.last_late_at)\n` +
          `WHEN NOT MATCHED THEN INSERT ROW;`,
      );
    }
    if (staged.has(opsRealtimeMetrics)) {
      stmts.push(
        `MERGE ${this.ref(opsRealtimeMetrics)} T USING ${stg(opsRealtimeMetrics)} S ON T.stream = S.stream AND T.minute = S.minute\n` +
          `WHEN MATCHED THEN UPDATE SET events = T.events + S.events, orders = T.orders + S.orders, revenue = T.revenue + S.revenue, late_events = T.late_events + S.late_events, updated_at = S.updated_at\n` +
          `WHEN NOT MATCHED THEN INSERT ROW;`,
      );
    }
    if (opts.persistWatermarks && staged.has(opsWatermarks)) {
      stmts.push(
        `MERGE ${this.ref(opsWatermarks)} T USING ${stg(opsWatermarks)} S ON T.stream = S.stream\n` +
          `WHEN MATCHED THEN UPDATE SET watermark_ts = GREATEST(T.watermark_ts, S.watermark_ts), max_event_ts = GREATEST(T.max_event_ts, S.max_event_ts), out_of_orderness_ms = S.out_of_orderness_ms, updated_at = S.updated_at\n` +
          `WHEN NOT MATCHED THEN INSERT ROW;`,
      );
    }
    // Dropping tables is DDL, which BigQuery does not allow inside a transaction.
    const drops = [...staged.keys()].map((t) => `DROP TABLE IF EXISTS ${stg(t)};`);
    return ["BEGIN TRANSACTION;", ...stmts, "COMMIT TRANSACTION;", ...drops].join("\n");
  }

  /** Staged rows per table, as the warehouse rows of the batch. */
  stagedRows(b: CommitBatch, opts: CommitOptions): [TableSpec, object[]][] {
    const now = b.loadedAt;
    const out: [TableSpec, object[]][] = [
      [rawEvents, b.events],
      [rawWebhooks, b.webhooks],
      [rawCdcChanges, b.cdcChanges],
    ];
    for (const table of Object.keys(CORE_TABLES) as CoreTableName[]) {
      out.push([
        CORE_TABLES[table],
        b.coreRows
          .filter((r) => r.table === table)
          .map((r) => ({ ...r.values, id: r.id, _position: r._position, _source_ts: r._source_ts, _deleted: r._deleted, _updated_at: now })),
      ]);
    }
    out.push([opsDeadLetters, b.deadLetters]);
    out.push([opsPartitionsTouched, b.partitions.map((p) => ({ ...p, first_loaded_at: now, last_loaded_at: now, last_late_at: p.late_rows > 0 ? now : null }))]);
    out.push([opsRealtimeMetrics, b.metrics.map((m) => ({ ...m, updated_at: now }))]);
    if (opts.persistWatermarks) {
      out.push([opsWatermarks, b.watermarks.map((w) => watermarkRow(w, now))]);
    }
    return out.filter(([, rows]) => rows.length > 0);
  }

  async commit(b: CommitBatch, opts: CommitOptions): Promise<void> {
    const tables = this.stagedRows(b, opts);
    if (tables.length === 0) return;
    const id = this.batchId();
    const dir = mkdtempSync(join(tmpdir(), "tideline-bq-"));
    const staged = new Map<TableSpec, string>();
    try {
      for (const [t, rows] of tables) {
        const file = join(dir, `${tableId(t)}.ndjson`);
        writeRowsNdjson(file, rows, t === rawEvents ? EVENT_TIME_COLUMNS : undefined);
        const suffix = `__stg_${id}`;
        await this.client
          .dataset(t.dataset)
          .table(`${t.name}${suffix}`)
          .load(file, {
            sourceFormat: "NEWLINE_DELIMITED_JSON",
            schema: { fields: columnsOf(t.schema).map((c) => ({ name: c.name, type: c.type, mode: c.nullable ? "NULLABLE" : "REQUIRED" })) },
            writeDisposition: "WRITE_TRUNCATE",
            // Event rows are their message text plus the pipeline's columns (stage-ndjson.ts): members
            // the contract drops are skipped, as the contract's parser drops them.
            ignoreUnknownValues: true,
            createDisposition: "CREATE_IF_NEEDED",
          });
        staged.set(t, suffix);
      }
      await this.query(this.commitSql(b, staged, opts));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  async close(): Promise<void> {}
}

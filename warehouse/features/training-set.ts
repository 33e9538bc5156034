/**
 * Point-in-time correct training sets (docs/features.md): each label row of features.*_labels_daily
 * for an entity and feature date F is joined to that entity's latest feature row known at midnight
 * UTC of F (never a later one), at most MAX_FEATURE_STALENESS_DAYS old, and kept only when its label
 * window had fully elapsed by the data the last successful models run covered
 * (ops.model_runs.loaded_through). One SQL text per dialect: DuckDB locally, GoogleSQL for BigQuery.
 */
import { DuckDBInstance } from "@duckdb/node-api";
import { existsSync, mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";

export type Dialect = "duckdb" | "bigquery";

interface LabelSpec {
  /** features.<labels> holds the label with label_window_end; features.<features> the features. */
  labels: string;
  features: string;
  entity: string;
  description: string;
}

const CUSTOMER = { labels: "customer_labels_daily", features: "customer_features_daily", entity: "customer_id" };
export const LABELS: Record<string, LabelSpec> = {
  purchased_next_30d: { ...CUSTOMER, description: "the customer places an order (not cancelled) in the 30 days from F on" },
  orders_next_30d: { ...CUSTOMER, description: "orders (not cancelled) the customer places in the 30 days from F on" },
  revenue_next_30d: { ...CUSTOMER, description: "net revenue of those orders (reporting currency)" },
};

/** A feature row older than this (days before F) is not used: the features columns are null instead. */
export const MAX_FEATURE_STALENESS_DAYS = 7;

export interface TrainingSetOptions {
  label: string;
  from: string;
  to: string;
}

export class TrainingSetError extends Error {
  override name = "TrainingSetError";
  constructor(
    message: string,
    readonly hint: string,
    /** 2: bad arguments; 3: the warehouse cannot be read (missing, held by another process, models not run). */
    readonly exitCode: 2 | 3,
  ) {
    super(message);
  }
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const isDate = (d: string) => DATE.test(d) && !Number.isNaN(Date.parse(`${d}T00:00:00Z`)) && new Date(`${d}T00:00:00Z`).toISOString().startsWith(d);

export function validate(o: TrainingSetOptions): LabelSpec {
  const spec = LABELS[o.label];
  if (!spec) throw new TrainingSetError(`unknown label ${JSON.stringify(o.label)}`, `labels: ${Object.keys(LABELS).join(", ")} (docs/features.md)`, 2);
  for (const [k, v] of [["--from", o.from], ["--to", o.to]] as const) if (!isDate(v)) throw new TrainingSetError(`${k} must be a date like 2026-03-01, not ${JSON.stringify(v)}`, "dates are UTC feature dates", 2);
  if (o.from > o.to) throw new TrainingSetError(`--from ${o.from} is after --to ${o.to}`, "swap them", 2);
  return spec;
}

/** The dialect's forms of the few constructs that differ (the rest is SQL both run). */
function dialectOf(d: Dialect, project?: string) {
  const bq = d === "bigquery";
  return {
    table: (schema: string, name: string) => (bq ? `\`${project}.${schema}.${name}\`` : `${schema}.${name}`),
    date: (s: string) => `DATE '${s}'`,
    string: bq ? "STRING" : "VARCHAR",
    dayStart: (e: string) => (bq ? `TIMESTAMP(${e})` : `CAST(${e} AS TIMESTAMPTZ)`),
    subDaysTs: (e: string, n: number) => (bq ? `TIMESTAMP_SUB(${e}, INTERVAL ${n} DAY)` : `(${e} - INTERVAL ${n} DAY)`),
    subDays: (e: string, n: number) => (bq ? `DATE_SUB(${e}, INTERVAL ${n} DAY)` : `CAST(${e} - INTERVAL ${n} DAY AS DATE)`),
    except: bq ? "EXCEPT" : "EXCLUDE",
  };
}

/** Label windows in the range and how many of them had elapsed (the rest are left out). */
export function windowsSql(o: TrainingSetOptions, dialect: Dialect, project?: string): string {
  const spec = validate(o);
  const q = dialectOf(dialect, project);
  return `WITH cutoff AS (
  SELECT MAX(loaded_through) AS loaded_through FROM ${q.table("ops", "model_runs")} WHERE status = 'success'
)
SELECT COUNT(*) AS windows,
  SUM(CASE WHEN ${q.dayStart("l.label_window_end")} <= (SELECT loaded_through FROM cutoff) THEN 1 ELSE 0 END) AS elapsed,
  (SELECT CAST(loaded_through AS ${q.string}) FROM cutoff) AS loaded_through
FROM ${q.table("features", spec.labels)} AS l
WHERE l.feature_date BETWEEN ${q.date(o.from)} AND ${q.date(o.to)}`;
}

export function trainingSetSql(o: TrainingSetOptions, dialect: Dialect, project?: string): string {
  const spec = validate(o);
  const q = dialectOf(dialect, project);
  return `WITH cutoff AS (
  -- The labels are as the last successful models run computed them, from data loaded up to this instant.
  SELECT MAX(loaded_through) AS loaded_through FROM ${q.table("ops", "model_runs")} WHERE status = 'success'
),
labels AS (
  SELECT CAST(l.${spec.entity} AS ${q.string}) AS entity_id, ${q.dayStart("l.feature_date")} AS feature_timestamp, l.${o.label} AS label
  FROM ${q.table("features", spec.labels)} AS l
  WHERE l.feature_date BETWEEN ${q.date(o.from)} AND ${q.date(o.to)}
    -- Only fully elapsed windows: every day of [feature_date, label_window_end) was loaded before the run.
    AND ${q.dayStart("l.label_window_end")} <= (SELECT loaded_through FROM cutoff)
),
feature_rows AS (
  SELECT CAST(${spec.entity} AS ${q.string}) AS feature_entity_id, ${q.dayStart("feature_date")} AS features_as_of, * ${q.except} (${spec.entity}, feature_date)
  FROM ${q.table("features", spec.features)}
  WHERE feature_date BETWEEN ${q.subDays(q.date(o.from), MAX_FEATURE_STALENESS_DAYS)} AND ${q.date(o.to)}
)
SELECT l.entity_id, l.feature_timestamp, f.* ${q.except} (feature_entity_id), l.label AS ${o.label}
FROM labels AS l
LEFT JOIN feature_rows AS f
  ON f.feature_entity_id = l.entity_id
  -- Point in time: the latest feature row known at the label's instant, never a later one.
  AND f.features_as_of <= l.feature_timestamp
  AND f.features_as_of > ${q.subDaysTs("l.feature_timestamp", MAX_FEATURE_STALENESS_DAYS)}
WHERE TRUE
QUALIFY ROW_NUMBER() OVER (PARTITION BY l.entity_id, l.feature_timestamp ORDER BY f.features_as_of DESC) = 1
ORDER BY l.feature_timestamp, l.entity_id`;
}

export interface TrainingSetResult {
  rows: number;
  windows: number;
  dropped: number;
  loadedThrough: string | null;
  out: string;
}

const sqlString = (s: string) => `'${s.replaceAll("'", "''")}'`;

/** Writes the training set to a Parquet file from the DuckDB warehouse, opened read-only. */
export async function writeTrainingSet(o: TrainingSetOptions & { warehouse: string; out: string }): Promise<TrainingSetResult> {
  validate(o);
  if (!o.out.endsWith(".parquet")) throw new TrainingSetError(`--out must name a .parquet file, not ${JSON.stringify(o.out)}`, "e.g. --out training.parquet", 2);
  if (!existsSync(o.warehouse)) {
    throw new TrainingSetError(`there is no warehouse at ${o.warehouse}`, "load data first (npm start and `npx tideline generate`, or `npx tideline generate --rows`), then `npx tideline models run`", 3);
  }
  let instance: DuckDBInstance;
  try {
    instance = await DuckDBInstance.create(o.warehouse, { access_mode: "READ_ONLY" });
  } catch (e) {
    const msg = (e as Error).message;
    if (/lock/i.test(msg)) {
      throw new TrainingSetError(`another process holds the warehouse (${msg.split("\n")[0]})`, "the running platform (npm start) or a CLI backfill or models run writes it: stop npm start with Ctrl-C, or wait for the command, then run this again", 3);
    }
    throw e;
  }
  const con = await instance.connect();
  try {
    let windows: Record<string, unknown> | undefined;
    try {
      [windows] = (await (await con.runAndReadAll(windowsSql(o, "duckdb"))).getRowObjectsJS()) as Record<string, unknown>[];
    } catch (e) {
      if (/Catalog Error/i.test((e as Error).message)) {
        throw new TrainingSetError(`the warehouse has no feature, label or models-run tables yet (${(e as Error).message.split("\n")[0]})`, "run `npx tideline models run` (stop npm start first, or let its schedule run them)", 3);
      }
      throw e;
    }
    const loadedThrough = (windows!.loaded_through as string | null) ?? null;
    if (loadedThrough === null) throw new TrainingSetError("no models run has succeeded on this warehouse, so no label is final", "run `npx tideline models run`", 3);
    const out = resolve(o.out);
    mkdirSync(dirname(out), { recursive: true });
    const written = await con.runAndReadAll(`COPY (${trainingSetSql(o, "duckdb")}) TO ${sqlString(out)} (FORMAT PARQUET)`);
    const rows = Number((written.getRowObjectsJS()[0] as Record<string, unknown> | undefined)?.Count ?? 0);
    const total = Number(windows!.windows);
    return { rows, windows: total, dropped: total - Number(windows!.elapsed ?? 0), loadedThrough, out };
  } finally {
    con.closeSync();
    instance.closeSync();
  }
}

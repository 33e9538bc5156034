/**
 * Run parameters: what an incremental run rebuilds, as literal values bound into the compiled SQL.
 * Models name them `@run_<name>` (includes/rebuild.js writes the predicates); the runner replaces
 * each with a literal of the target dialect before sending the statement, so every statement is
 * self-contained (BigQuery prunes partitions on `IN UNNEST([DATE '…', …])` and on date ranges, and
 * an emulator or a reviewer can run a statement as it is printed).
 */
import type { Dialect } from "./compile.js";

export type ParamValue = { kind: "date"; value: string } | { kind: "dates"; value: string[] } | { kind: "timestamp"; value: string };
export type RunParams = Record<string, ParamValue>;

export interface RunWindow {
  fullRefresh: boolean;
  /** Loads after this instant are new to this run (the previous successful run's loaded_through). */
  since: string;
  /** The newest load this run covers. */
  loadedThrough: string;
  /** UTC partitions of raw.events and raw.cdc_changes loaded since `since`. */
  eventsDates: string[];
  cdcDates: string[];
  /** UTC partitions of raw.webhooks loaded since `since`. */
  webhookDates: string[];
}

/** A date that sorts after every partition: a "from" with nothing to rebuild. */
export const NEVER = "9999-12-31";
const DAY_MS = 86_400_000;

export const addDays = (d: string, n: number) => new Date(Date.parse(`${d}T00:00:00Z`) + n * DAY_MS).toISOString().slice(0, 10);

function around(dates: string[], k: number): string[] {
  const out = new Set<string>();
  for (const d of dates) for (let off = -k; off <= k; off++) out.add(addDays(d, off));
  return [...out].sort();
}

const min = (xs: string[]) => (xs.length ? [...xs].sort()[0]! : NEVER);

/**
 * The parameters of a run. Each incremental model documents which it reads:
 * - run_events_dates / run_cdc_dates / run_webhook_dates: raw partitions loaded since the last run (staging rebuilds them);
 * - run_events_near: those ±2 days (UTC partitions read to rebuild the local days below);
 * - run_local_dates: those ±1 day (reporting-time-zone days a UTC day can fall on);
 * - run_session_from: first reporting day whose sessions are rebuilt (the day before the earliest touched one);
 * - run_features_from: first feature date rebuilt for customers (sessions from run_session_from on, and
 *   everything loaded since the last run, change features only from there);
 * - run_products_from: first feature date rebuilt for products (inputs are filtered by load time);
 * - run_since / run_loaded_through: the load-time window of the run.
 */
export function runParams(w: RunWindow): RunParams {
  const sessionFrom = w.eventsDates.length ? addDays(min(w.eventsDates), -1) : NEVER;
  const sinceDate = w.since.slice(0, 10);
  const featuresFrom = [sessionFrom === NEVER ? NEVER : addDays(sessionFrom, -1), sinceDate].sort()[0]!;
  return {
    run_since: { kind: "timestamp", value: w.since },
    run_loaded_through: { kind: "timestamp", value: w.loadedThrough },
    run_events_dates: { kind: "dates", value: w.eventsDates },
    run_events_near: { kind: "dates", value: around(w.eventsDates, 2) },
    run_local_dates: { kind: "dates", value: around(w.eventsDates, 1) },
    run_cdc_dates: { kind: "dates", value: w.cdcDates },
    run_webhook_dates: { kind: "dates", value: w.webhookDates },
    run_session_from: { kind: "date", value: sessionFrom },
    run_features_from: { kind: "date", value: featuresFrom },
    run_products_from: { kind: "date", value: sinceDate },
  };
}

const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;
const TS_RE = /^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}(:?\d{2})?)?$/;

function dateLiteral(d: string): string {
  if (!DATE_RE.test(d)) throw new Error(`run parameter date ${JSON.stringify(d)} is not YYYY-MM-DD`);
  return `DATE '${d}'`;
}

function scalar(name: string, v: ParamValue, dialect: Dialect): string {
  if (v.kind === "date") return dateLiteral(v.value);
  if (v.kind === "timestamp") {
    if (!TS_RE.test(v.value)) throw new Error(`run parameter timestamp ${JSON.stringify(v.value)} is not an ISO instant`);
    return dialect === "bigquery" ? `TIMESTAMP '${v.value}'` : `CAST('${v.value}' AS TIMESTAMPTZ)`;
  }
  throw new Error(`@${name} is a list of dates; use it as IN UNNEST(@${name})`);
}

/**
 * Replaces every `@run_<name>` in the SQL with its literal; an unknown name is a bug in a model.
 * Date lists are written `col IN UNNEST(@run_x)` in every dialect: BigQuery gets an array literal,
 * DuckDB a constant IN-list (which it pushes into the scan as a filter); an empty list matches nothing.
 */
export function bindParams(sql: string, dialect: Dialect, params: RunParams): string {
  const lookup = (name: string) => {
    const v = params[name];
    if (!v) throw new Error(`the models use @${name}, which the runner does not provide (known: ${Object.keys(params).sort().join(", ")})`);
    return v;
  };
  return sql
    .replace(/UNNEST\(\s*@(run_[a-z_]+)\s*\)/g, (_, name: string) => {
      const v = lookup(name);
      if (v.kind !== "dates") throw new Error(`@${name} is a single value; compare with it directly instead of UNNEST(@${name})`);
      if (dialect === "bigquery") return v.value.length ? `UNNEST([${v.value.map(dateLiteral).join(", ")}])` : "UNNEST(CAST([] AS ARRAY<DATE>))";
      return v.value.length ? `(${v.value.map(dateLiteral).join(", ")})` : "(NULL)";
    })
    .replace(/@(run_[a-z_]+)\b/g, (_, name: string) => scalar(name, lookup(name), dialect));
}

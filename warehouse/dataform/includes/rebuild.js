// Partition rebuilds of incremental models. The runner binds every `@run_<name>` to a literal before
// it sends a statement (warehouse/models/params.ts lists them and what they mean), so BigQuery sees
// constant predicates it prunes partitions with: `IN UNNEST([DATE '…', …])` or a date range.
// Full builds of raw.events, whose BigQuery table requires a partition filter, name the whole range.
const bigquery = ((dataform.projectConfig.vars && dataform.projectConfig.vars.dialect) || "bigquery") === "bigquery";

/** Predicate: col is one of the dates of a list parameter (e.g. "events_dates"). */
function inDates(col, param) {
  return `${col} IN UNNEST(@run_${param})`;
}

/** Predicate: col on or after a date parameter (e.g. "session_from"), minus `days`. */
function from(col, param, days) {
  if (!days) return `${col} >= @run_${param}`;
  return `${col} >= ${bigquery ? `DATE_SUB(@run_${param}, INTERVAL ${days} DAY)` : `CAST(@run_${param} - INTERVAL (${days}) DAY AS DATE)`}`;
}

/** A run parameter as an SQL expression (e.g. "since" → the timestamp). */
function param(name) {
  return `@run_${name}`;
}

/** Predicate for a full read of a partition-filtered table: every partition, named as a range. */
function allDates(col) {
  return `${col} BETWEEN DATE '1970-01-01' AND DATE '9999-12-31'`;
}

module.exports = { inDates, from, param, allDates };

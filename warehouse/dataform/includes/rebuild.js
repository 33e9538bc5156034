// Partition rebuilds of incremental models. Before it runs the graph, the model runner writes to
// ops.model_rebuild_dates (partition_date, touched, rebuild) the dates the pipeline touched since the
// last run (touched), those and their neighbours a day either side (rebuild: sessions cross
// midnight) and one more day either side (inputs of the rebuild days' sessions). Incremental
// queries read their inputs only from those dates; every predicate is an IN over the table, which
// engines turn into a partition-pruning semi-join. The runner then replaces the partitions the query
// produced plus the rebuild dates: all of them, or only the touched ones for models tagged
// "touched-partitions" (models whose day depends on that day's input alone, and point-in-time
// models that rebuild every day from the earliest touched one).
const REBUILD_TABLE = "ops.model_rebuild_dates";
const bigquery = ((dataform.projectConfig.vars && dataform.projectConfig.vars.dialect) || "bigquery") === "bigquery";

function table() {
  return bigquery ? `\`${dataform.projectConfig.defaultDatabase}.${REBUILD_TABLE}\`` : REBUILD_TABLE;
}

function addDays(d, n) {
  return bigquery ? `DATE_ADD(${d}, INTERVAL ${n} DAY)` : `CAST(${d} + INTERVAL (${n}) DAY AS DATE)`;
}

/** Predicate: col is one of the rebuild dates (touched or neighbour). */
function inDates(col) {
  return `${col} IN (SELECT partition_date FROM ${table()} WHERE rebuild)`;
}

/** Predicate: col is a date the pipeline touched. */
function inTouched(col) {
  return `${col} IN (SELECT partition_date FROM ${table()} WHERE touched)`;
}

/** Predicate: col is a rebuild date or a day next to one (the inputs of windowed logic such as sessions). */
function nearDates(col) {
  return `${col} IN (SELECT partition_date FROM ${table()})`;
}

/** Predicate: col on or after the earliest touched date minus `days` (point-in-time features: every later day depends on it). */
function afterFirst(col, days) {
  return `${col} >= (SELECT ${addDays("MIN(partition_date)", -(days || 0))} FROM ${table()} WHERE touched)`;
}

module.exports = { REBUILD_TABLE, table, inDates, inTouched, nearDates, afterFirst };

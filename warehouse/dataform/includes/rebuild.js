// Partition rebuilds of incremental models. The model runner writes the dates to rebuild (the
// partitions the pipeline touched since the last run, widened by a day each way because sessions
// cross midnight) to ops.model_rebuild_dates before it runs the graph; incremental queries read
// their input only from around those dates and the runner replaces exactly those partitions.
const REBUILD_TABLE = "ops.model_rebuild_dates";
const bigquery = ((dataform.projectConfig.vars && dataform.projectConfig.vars.dialect) || "bigquery") === "bigquery";

function table() {
  return bigquery ? `\`${dataform.projectConfig.defaultDatabase}.${REBUILD_TABLE}\`` : REBUILD_TABLE;
}

function addDays(d, n) {
  return bigquery ? `DATE_ADD(${d}, INTERVAL ${n} DAY)` : `CAST(${d} + INTERVAL (${n}) DAY AS DATE)`;
}

/** Predicate: col is one of the rebuild dates. */
function inDates(col) {
  return `${col} IN (SELECT partition_date FROM ${table()})`;
}

/** Predicate: col within the rebuild dates widened by `days` either side (for inputs of windowed logic). */
function nearDates(col, days) {
  return `${col} BETWEEN (SELECT ${addDays("MIN(partition_date)", -days)} FROM ${table()}) AND (SELECT ${addDays("MAX(partition_date)", days)} FROM ${table()})`;
}

/** Predicate: col on or after the earliest rebuild date minus `days` (for point-in-time features, which every later day depends on, and labels, which look `days` ahead). */
function afterFirst(col, days) {
  return `${col} >= (SELECT ${addDays("MIN(partition_date)", -(days || 0))} FROM ${table()})`;
}

module.exports = { REBUILD_TABLE, table, inDates, nearDates, afterFirst };

// Dialect helpers: the models are BigQuery SQL in production and DuckDB SQL locally. Each helper
// returns the construct of the dialect chosen by the `dialect` compile variable, so one model file
// serves both warehouses without a transpiler guessing at semantics.
const dialect = (dataform.projectConfig.vars && dataform.projectConfig.vars.dialect) || "bigquery";
const bq = dialect === "bigquery";

/** Text value at a JSON path ('$.a.b') of a JSON column, or NULL. */
function jsonString(col, path) {
  return bq ? `JSON_VALUE(${col}, '${path}')` : `json_extract_string(${col}, '${path}')`;
}

/** Numeric value at a JSON path (numbers or numeric strings), NULL when absent or not a number. */
function jsonNumber(col, path) {
  return bq ? `SAFE_CAST(JSON_VALUE(${col}, '${path}') AS FLOAT64)` : `TRY_CAST(json_extract_string(${col}, '${path}') AS DOUBLE)`;
}

/** Whole seconds from a to b (timestamps). */
function secondsBetween(a, b) {
  return bq ? `TIMESTAMP_DIFF(${b}, ${a}, SECOND)` : `date_diff('second', ${a}, ${b})`;
}

/** Days from date a to date b. */
function daysBetween(a, b) {
  return bq ? `DATE_DIFF(${b}, ${a}, DAY)` : `date_diff('day', ${a}, ${b})`;
}

/** date plus n days (n may be negative), as a DATE. */
function addDays(d, n) {
  return bq ? `DATE_ADD(${d}, INTERVAL ${n} DAY)` : `CAST(${d} + INTERVAL (${n}) DAY AS DATE)`;
}

/** UTC date of a timestamp (DuckDB sessions run with TimeZone=UTC). */
function toDate(ts) {
  return `CAST(${ts} AS DATE)`;
}

/** Midnight UTC at the start of a date, as a timestamp. */
function dayStart(d) {
  return bq ? `TIMESTAMP(${d})` : `CAST(${d} AS TIMESTAMPTZ)`;
}

/** Monday of the ISO week of a date. */
function weekStart(d) {
  return bq ? `DATE_TRUNC(${d}, ISOWEEK)` : `CAST(date_trunc('week', ${d}) AS DATE)`;
}

/** Milliseconds since the epoch of a timestamp. */
function epochMillis(ts) {
  return bq ? `UNIX_MILLIS(${ts})` : `epoch_ms(${ts})`;
}

/** SQL type names. */
const types = bq
  ? { string: "STRING", int: "INT64", float: "FLOAT64", numeric: "NUMERIC", bool: "BOOL", date: "DATE", timestamp: "TIMESTAMP" }
  : { string: "VARCHAR", int: "BIGINT", float: "DOUBLE", numeric: "DECIMAL(38,9)", bool: "BOOLEAN", date: "DATE", timestamp: "TIMESTAMPTZ" };

/** a / b, NULL when b is 0 or NULL. */
function safeDivide(a, b) {
  return bq ? `SAFE_DIVIDE(${a}, ${b})` : `(CAST(${a} AS DOUBLE) / NULLIF(${b}, 0))`;
}

/** One row per date from start to end inclusive, column `d` (a FROM item). */
function dateSpine(start, end, alias) {
  return bq
    ? `UNNEST(GENERATE_DATE_ARRAY(${start}, ${end}, INTERVAL 1 DAY)) AS ${alias}`
    : `(SELECT CAST(range AS DATE) AS ${alias} FROM range(CAST(${start} AS TIMESTAMP), CAST(${end} AS TIMESTAMP) + INTERVAL 1 DAY, INTERVAL 1 DAY)) AS ${alias}_spine`;
}

/** SELECT of one row per date `alias` from start to end inclusive (start/end: expressions over `fromTable`). */
function dateSpineSelect(start, end, alias, fromTable) {
  return bq
    ? `SELECT ${alias} FROM ${fromTable}, UNNEST(GENERATE_DATE_ARRAY(${start}, ${end}, INTERVAL 1 DAY)) AS ${alias}`
    : `SELECT CAST(unnest(generate_series(CAST(${start} AS TIMESTAMP), CAST(${end} AS TIMESTAMP), INTERVAL 1 DAY)) AS DATE) AS ${alias} FROM ${fromTable}`;
}

/** Traffic channel of a session from campaign and referrer columns. */
function channel(campaignSource, campaignMedium, referrerMedium) {
  return `CASE
    WHEN ${campaignMedium} IN ('cpc', 'ppc', 'paid', 'paidsearch', 'paid_social', 'display') THEN 'paid'
    WHEN ${campaignMedium} = 'email' THEN 'email'
    WHEN ${campaignMedium} IN ('social', 'social-network') THEN 'social'
    WHEN ${campaignSource} IS NOT NULL THEN 'campaign'
    WHEN ${referrerMedium} IN ('search') THEN 'organic_search'
    WHEN ${referrerMedium} IN ('social') THEN 'social'
    WHEN ${referrerMedium} IN ('email') THEN 'email'
    WHEN ${referrerMedium} IN ('paid') THEN 'paid'
    WHEN ${referrerMedium} IN ('unknown') THEN 'referral'
    ELSE 'direct'
  END`;
}

module.exports = { dialect, jsonString, jsonNumber, secondsBetween, daysBetween, addDays, toDate, dayStart, weekStart, epochMillis, types, safeDivide, dateSpine, dateSpineSelect, channel };

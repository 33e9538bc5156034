// Dialect helpers: the models are BigQuery SQL in production and DuckDB SQL locally. Each helper
// returns the construct of the dialect chosen by the `dialect` compile variable, so one model file
// serves both warehouses without a transpiler guessing at semantics.
const vars = dataform.projectConfig.vars || {};
const dialect = vars.dialect || "bigquery";
const bq = dialect === "bigquery";
const TIMEZONE = vars.reporting_timezone || "UTC";
const utc = TIMEZONE === "UTC";

/** SQL type names. Money is NUMERIC (DECIMAL(38, 9) in DuckDB): exact sums, no binary fractions. */
const types = bq
  ? { string: "STRING", int: "INT64", float: "FLOAT64", numeric: "NUMERIC", bool: "BOOL", date: "DATE", timestamp: "TIMESTAMP" }
  : { string: "VARCHAR", int: "BIGINT", float: "DOUBLE", numeric: "DECIMAL(38,9)", bool: "BOOLEAN", date: "DATE", timestamp: "TIMESTAMPTZ" };

const str = (s) => `'${String(s).replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;

/** Text value at a JSON path ('$.a.b') of a JSON column or JSON value, or NULL. */
function jsonString(col, path) {
  return bq ? `JSON_VALUE(${col}, '${path}')` : `json_extract_string(${col}, '${path}')`;
}

/** Numeric value at a JSON path (numbers or numeric strings) as a DOUBLE, NULL when absent or not a number. */
function jsonNumber(col, path) {
  return bq ? `SAFE_CAST(JSON_VALUE(${col}, '${path}') AS FLOAT64)` : `TRY_CAST(json_extract_string(${col}, '${path}') AS DOUBLE)`;
}

/** Exact decimal at a JSON path (a JSON number or a decimal string), NULL when absent or not a number. */
function jsonDecimal(col, path) {
  return toDecimal(jsonString(col, path));
}

/** Text to NUMERIC, NULL when it is not a number. */
function toDecimal(text) {
  return bq ? `SAFE_CAST(${text} AS NUMERIC)` : `TRY_CAST(${text} AS DECIMAL(38,9))`;
}

/** Integer at a JSON path, NULL when absent or not an integer. */
function jsonInt(col, path) {
  return bq ? `SAFE_CAST(JSON_VALUE(${col}, '${path}') AS INT64)` : `TRY_CAST(json_extract_string(${col}, '${path}') AS BIGINT)`;
}

/** The JSON type at a path, the same words in both dialects: number, string, boolean, null, array, object; NULL when absent. */
function jsonKind(col, path) {
  if (bq) return `JSON_TYPE(JSON_QUERY(${col}, '${path}'))`;
  return `CASE json_type(${col}, '${path}') WHEN 'VARCHAR' THEN 'string' WHEN 'ARRAY' THEN 'array' WHEN 'OBJECT' THEN 'object' WHEN 'NULL' THEN 'null' WHEN 'BOOLEAN' THEN 'boolean' WHEN 'UBIGINT' THEN 'number' WHEN 'BIGINT' THEN 'number' WHEN 'DOUBLE' THEN 'number' WHEN 'HUGEINT' THEN 'number' WHEN 'UHUGEINT' THEN 'number' END`;
}

/**
 * FROM-clause fragment: one row per element of the JSON array at `path` of `col`, as the JSON value
 * `alias` and its 0-based position `alias_index`. Anything but an array gives no rows.
 */
function jsonArrayJoin(col, path, alias) {
  return bq
    ? `CROSS JOIN UNNEST(JSON_QUERY_ARRAY(${col}, '${path}')) AS ${alias} WITH OFFSET AS ${alias}_index`
    : `CROSS JOIN LATERAL (SELECT unnest(json_extract(${col}, '${path}[*]')) AS ${alias}, unnest(range(len(json_extract(${col}, '${path}[*]')))) AS ${alias}_index) AS ${alias}_rows`;
}

/**
 * An amount exactly as the pipeline's real-time metrics read it (pipeline/transforms/metrics.ts):
 * `total`, else `revenue` when total is absent or null; a JSON number, or a string that is a plain
 * decimal, rounded to 6 places; anything else counts 0.
 */
function realtimeAmount(col) {
  const pick = (path) => `CASE ${jsonKind(col, path)}
      WHEN 'number' THEN ROUND(${jsonDecimal(col, path)}, 6)
      WHEN 'string' THEN CASE WHEN ${regexpFull(`TRIM(${jsonString(col, path)})`, "-?[0-9]+(\\.[0-9]+)?")} THEN ROUND(${toDecimal(`TRIM(${jsonString(col, path)})`)}, 6) ELSE 0 END
      ELSE 0 END`;
  return `CAST(CASE WHEN COALESCE(${jsonKind(col, "$.total")}, 'null') != 'null' THEN ${pick("$.total")} ELSE ${pick("$.revenue")} END AS ${types.numeric})`;
}

/** TRUE when the whole text matches the regular expression. */
function regexpFull(text, re) {
  return bq ? `REGEXP_CONTAINS(${text}, r'^${re}$')` : `regexp_full_match(${text}, '${re}')`;
}

/**
 * A CDC column value (text of a JSON scalar) as a timestamp, as the pipeline's CDC apply reads it
 * (pipeline/transforms/cdc.ts toTimestamp): an integer is days, seconds, ms, µs or ns by magnitude
 * (Debezium's temporal encodings), anything else an ISO-8601 text.
 */
function cdcTimestamp(text) {
  const n = bq ? `SAFE_CAST(${text} AS INT64)` : `TRY_CAST(${text} AS BIGINT)`;
  const isInt = regexpFull(`TRIM(${text})`, "-?[0-9]+");
  if (bq) {
    return `CASE WHEN ${isInt} THEN CASE
        WHEN ABS(${n}) < 1000000 THEN TIMESTAMP(DATE_ADD(DATE '1970-01-01', INTERVAL ${n} DAY))
        WHEN ABS(${n}) < 100000000000 THEN TIMESTAMP_SECONDS(${n})
        WHEN ABS(${n}) < 100000000000000 THEN TIMESTAMP_MILLIS(${n})
        WHEN ABS(${n}) < 100000000000000000 THEN TIMESTAMP_MICROS(${n})
        ELSE TIMESTAMP_MICROS(DIV(${n}, 1000)) END
      ELSE SAFE_CAST(${text} AS TIMESTAMP) END`;
  }
  return `CASE WHEN ${isInt} THEN CASE
        WHEN abs(${n}) < 1000000 THEN CAST(DATE '1970-01-01' + CAST(${n} AS INTEGER) AS TIMESTAMPTZ)
        WHEN abs(${n}) < 100000000000 THEN to_timestamp(${n})
        WHEN abs(${n}) < 100000000000000 THEN CAST(epoch_ms(${n}) AS TIMESTAMPTZ)
        WHEN abs(${n}) < 100000000000000000 THEN CAST(make_timestamp(${n}) AS TIMESTAMPTZ)
        ELSE CAST(make_timestamp(${n} // 1000) AS TIMESTAMPTZ) END
      ELSE TRY_CAST(${text} AS TIMESTAMPTZ) END`;
}

/** Whole seconds from a to b (timestamps). */
function secondsBetween(a, b) {
  return bq ? `TIMESTAMP_DIFF(${b}, ${a}, SECOND)` : `date_diff('second', ${a}, ${b})`;
}

/** Milliseconds from a to b (timestamps). */
function millisBetween(a, b) {
  return bq ? `TIMESTAMP_DIFF(${b}, ${a}, MILLISECOND)` : `date_diff('millisecond', ${a}, ${b})`;
}

/** Days from date a to date b. */
function daysBetween(a, b) {
  return bq ? `DATE_DIFF(${b}, ${a}, DAY)` : `date_diff('day', ${a}, ${b})`;
}

/** date plus n days (n may be negative or an expression), as a DATE. */
function addDays(d, n) {
  return bq ? `DATE_ADD(${d}, INTERVAL ${n} DAY)` : `CAST(${d} + INTERVAL (${n}) DAY AS DATE)`;
}

/** timestamp plus n days. */
function addDaysTs(ts, n) {
  return bq ? `TIMESTAMP_ADD(${ts}, INTERVAL ${n} DAY)` : `(${ts} + INTERVAL (${n}) DAY)`;
}

/** timestamp plus n seconds. */
function addSeconds(ts, n) {
  return bq ? `TIMESTAMP_ADD(${ts}, INTERVAL ${n} SECOND)` : `(${ts} + INTERVAL (${n}) SECOND)`;
}

/** UTC date of a timestamp (DuckDB sessions run with TimeZone=UTC). */
function toDate(ts) {
  return `CAST(${ts} AS DATE)`;
}

/** Date of a timestamp in the reporting time zone (reporting_timezone): the day of every daily mart. */
function localDate(ts) {
  if (utc) return toDate(ts);
  return bq ? `DATE(${ts}, ${str(TIMEZONE)})` : `CAST(timezone(${str(TIMEZONE)}, ${ts}) AS DATE)`;
}

/** The instant a reporting-time-zone day starts. */
function localDayStart(d) {
  if (utc) return dayStart(d);
  return bq ? `TIMESTAMP(${d}, ${str(TIMEZONE)})` : `timezone(${str(TIMEZONE)}, CAST(${d} AS TIMESTAMP))`;
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

/** Largest integer ≤ a / b (integers). */
function intDiv(a, b) {
  return bq ? `DIV(${a}, ${b})` : `(${a} // ${b})`;
}

/** a / b, NULL when b is 0 or NULL (a ratio, as a float). */
function safeDivide(a, b) {
  return bq ? `SAFE_DIVIDE(${a}, ${b})` : `(CAST(${a} AS DOUBLE) / NULLIF(${b}, 0))`;
}

/** a / b of money, NULL when b is 0 or NULL, as NUMERIC rounded to 9 places. */
function moneyDivide(a, b) {
  return bq ? `ROUND(SAFE_DIVIDE(${a}, ${b}), 9)` : `CAST(CAST(${a} AS DOUBLE) / NULLIF(${b}, 0) AS DECIMAL(38,9))`;
}

/** A money value (NUMERIC) times a NUMERIC factor, rounded back to NUMERIC's 9 places. */
function moneyTimes(a, b) {
  return bq ? `(${a} * ${b})` : `CAST(${a} * ${b} AS DECIMAL(38,9))`;
}

/** SELECT of one row per date `alias` from start to end inclusive (start/end: expressions over `fromTable`). */
function dateSpineSelect(start, end, alias, fromTable) {
  return bq
    ? `SELECT ${alias} FROM ${fromTable}, UNNEST(GENERATE_DATE_ARRAY(${start}, ${end}, INTERVAL 1 DAY)) AS ${alias}`
    : `SELECT CAST(unnest(generate_series(CAST(${start} AS TIMESTAMP), CAST(${end} AS TIMESTAMP), INTERVAL 1 DAY)) AS DATE) AS ${alias} FROM ${fromTable}`;
}

/** SELECT of the `columns` of `fromTable` and one row per integer `alias` from start to end inclusive (expressions over `fromTable`). */
function intSpineSelect(start, end, alias, fromTable, columns) {
  const cols = (columns || []).map((c) => `${c}, `).join("");
  return bq
    ? `SELECT ${cols}${alias} FROM ${fromTable}, UNNEST(GENERATE_ARRAY(${start}, ${end})) AS ${alias}`
    : `SELECT ${cols}unnest(generate_series(CAST(${start} AS BIGINT), CAST(${end} AS BIGINT))) AS ${alias} FROM ${fromTable}`;
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

module.exports = {
  dialect, types, jsonString, jsonNumber, jsonDecimal, toDecimal, jsonInt, jsonKind, jsonArrayJoin, realtimeAmount, regexpFull, cdcTimestamp,
  secondsBetween, millisBetween, daysBetween, addDays, addDaysTs, addSeconds, toDate, localDate, localDayStart, dayStart, weekStart, epochMillis, intDiv,
  safeDivide, moneyDivide, moneyTimes, dateSpineSelect, intSpineSelect, channel,
};

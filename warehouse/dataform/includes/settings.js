// The project's settings (workflow_settings.yaml vars), read and checked once: a wrong value fails
// the compile with what to write instead, rather than giving wrong numbers.
const vars = dataform.projectConfig.vars || {};

function fail(name, why) {
  throw new Error(`workflow_settings.yaml vars.${name}: ${why}`);
}

function positiveInt(name, fallback) {
  const raw = vars[name] === undefined ? String(fallback) : String(vars[name]);
  if (!/^[1-9][0-9]*$/.test(raw)) fail(name, `must be a positive whole number, not "${raw}"`);
  return Number(raw);
}

function currency(name, fallback) {
  const raw = vars[name] === undefined || vars[name] === "" ? fallback : String(vars[name]);
  if (!/^[A-Z]{3}$/.test(raw)) fail(name, `must be an ISO 4217 currency code such as USD or EUR, not "${raw}"`);
  return raw;
}

const ORDER_SOURCES = ["cdc", "shopify", "events"];

function precedence() {
  const raw = vars.order_source_precedence === undefined ? ORDER_SOURCES.join(",") : String(vars.order_source_precedence);
  const list = raw.split(/[\s,>]+/).filter(Boolean);
  if (list.length !== ORDER_SOURCES.length || ORDER_SOURCES.some((s) => !list.includes(s))) {
    fail("order_source_precedence", `must list cdc, shopify and events once each, most trusted first, separated by commas or spaces (e.g. "cdc,shopify,events"), not "${raw}"`);
  }
  return list;
}

const timezone = vars.reporting_timezone === undefined || vars.reporting_timezone === "" ? "UTC" : String(vars.reporting_timezone);
if (!/^(UTC|[A-Za-z]+(\/[A-Za-z0-9_+-]+)+)$/.test(timezone)) fail("reporting_timezone", `must be UTC or an IANA time zone name such as Europe/Berlin, not "${timezone}"`);

const reportingCurrency = currency("reporting_currency", "USD");
const tolerance = vars.revenue_tolerance === undefined ? "0.01" : String(vars.revenue_tolerance);
if (!/^[0-9]+(\.[0-9]+)?$/.test(tolerance)) fail("revenue_tolerance", `must be a non-negative decimal, not "${tolerance}"`);

module.exports = {
  /** Currency every amount of the marts is converted to. */
  reportingCurrency,
  /** Currency of amounts sent without one. */
  defaultCurrency: currency("default_currency", reportingCurrency),
  /** IANA zone of the days of the daily marts. */
  timezone,
  /** A session ends after this many seconds without an event... */
  sessionTimeoutSeconds: positiveInt("session_timeout_seconds", 1800),
  /** ...and is cut every this many days of uninterrupted activity. */
  sessionMaxDays: positiveInt("session_max_days", 3),
  /** Sessions up to this many days before an order can be credited with it. */
  attributionLookbackDays: positiveInt("attribution_lookback_days", 30),
  /** Order sources, most trusted first: the order fact takes its values from the first one that has the order. */
  orderSourcePrecedence: precedence(),
  /** Revenue figures that differ by more than this (reporting currency) fail the reconciliation. */
  revenueTolerance: tolerance,
  /** Days of the label window after a feature date. */
  labelWindowDays: 30,
  /** SQL: the precedence rank (1 = most trusted) of an order source column. */
  sourceRank(col) {
    return `CASE ${col} ${precedence().map((s, i) => `WHEN '${s}' THEN ${i + 1}`).join(" ")} END`;
  },
};

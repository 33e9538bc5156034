// The metrics layer: every business metric defined once, with its grain, filter and SQL. The daily
// marts are generated from these definitions (marts.daily_kpis), docs/metrics.md is generated from
// them (warehouse/models/metrics-doc.ts; a test fails when it is stale), and the dashboard reads
// them through warehouse/models/metrics.ts. This file is plain data plus pure functions so that
// Node can load it too; the dialect-specific SQL comes from the `sql` helpers passed in.

/** Models a metric can aggregate: the mart, its date column (reporting time zone) and what a row is. */
const MODELS = {
  sessions: { schema: "marts", table: "sessions", date: "session_date", row: "one browser session (marts.sessions)" },
  orders: { schema: "marts", table: "orders", date: "order_date", row: "one order fact (marts.orders)" },
};

/**
 * kind: count (rows passing the filter), sum (of `expression` over rows passing the filter),
 * count_distinct (of `expression`), or ratio (numerator / denominator, two other metrics of the same grain).
 * format: integer, money (reporting currency), or rate (0..1).
 */
const METRICS = [
  { name: "sessions", label: "Sessions", model: "sessions", kind: "count", filter: null, format: "integer",
    description: "Browser sessions that started that day (server-side events never make a session)." },
  { name: "users", label: "Users", model: "sessions", kind: "count_distinct", expression: "COALESCE(user_id, visitor_id)", filter: null, format: "integer",
    description: "Distinct people with a session that day: the stitched user id when known, else the visitor id." },
  { name: "purchasing_sessions", label: "Sessions with a purchase", model: "sessions", kind: "count", filter: "has_order_completed", format: "integer",
    description: "Sessions that an order (of any source, not cancelled) belongs to." },
  { name: "orders", label: "Orders", model: "orders", kind: "count", filter: "NOT is_cancelled", format: "integer",
    description: "Orders placed that day, one per order id across CDC, Shopify and Order Completed events, cancelled orders excluded." },
  { name: "repeat_orders", label: "Repeat orders", model: "orders", kind: "count", filter: "NOT is_cancelled AND customer_order_number > 1", format: "integer",
    description: "Of the orders, those that were not the customer's first." },
  { name: "gross_revenue", label: "Gross revenue", model: "orders", kind: "sum", expression: "gross_revenue", filter: "NOT is_cancelled", format: "money",
    description: "Order totals of the orders, in the reporting currency (converted at the order date's rate)." },
  { name: "refunded_revenue", label: "Refunds", model: "orders", kind: "sum", expression: "refunded_revenue", filter: "NOT is_cancelled", format: "money",
    description: "The refunded part of gross revenue (refunds from every source, at most the order total), by the order's date." },
  { name: "net_revenue", label: "Net revenue", model: "orders", kind: "sum", expression: "net_revenue", filter: "NOT is_cancelled", format: "money",
    description: "Gross revenue minus refunds: cancelled and refunded amounts excluded." },
  { name: "revenue", label: "Revenue", model: "orders", kind: "sum", expression: "net_revenue", filter: "NOT is_cancelled", format: "money",
    description: "The headline revenue: net revenue." },
  { name: "conversion_rate", label: "Conversion rate", kind: "ratio", numerator: "purchasing_sessions", denominator: "sessions", format: "rate",
    description: "Sessions with a purchase / sessions; null when there were no sessions." },
  { name: "average_order_value", label: "Average order value", kind: "ratio", numerator: "gross_revenue", denominator: "orders", format: "money",
    description: "Gross revenue / orders; null without orders." },
  { name: "repeat_order_rate", label: "Repeat order rate", kind: "ratio", numerator: "repeat_orders", denominator: "orders", format: "rate",
    description: "Repeat orders / orders; null without orders." },
];

const byName = Object.fromEntries(METRICS.map((m) => [m.name, m]));

function metric(name) {
  const m = byName[name];
  if (!m) throw new Error(`no metric named ${name} in includes/metrics.js (known: ${METRICS.map((x) => x.name).join(", ")})`);
  return m;
}

/** The aggregate SQL of a count/sum/count_distinct metric over its model's rows. */
function aggregateSql(m, sql) {
  const when = (v) => (m.filter ? `CASE WHEN ${m.filter} THEN ${v} END` : v);
  if (m.kind === "count") return m.filter ? `COUNT(${when("1")})` : "COUNT(*)";
  if (m.kind === "count_distinct") return `COUNT(DISTINCT ${when(m.expression)})`;
  if (m.kind === "sum") return `COALESCE(SUM(${when(m.expression)}), ${m.format === "money" ? `CAST(0 AS ${sql.types.numeric})` : "0"})`;
  throw new Error(`metric ${m.name} is a ${m.kind}; only count, sum and count_distinct aggregate rows`);
}

/** The SQL of a ratio metric from its parts' columns. */
function ratioSql(m, sql, column) {
  const num = column(m.numerator);
  const den = column(m.denominator);
  return m.format === "money" ? sql.moneyDivide(num, den) : sql.safeDivide(num, den);
}

/**
 * A query with one row per day (`day_column`) and one column per named metric, over the marts of
 * their models. `ref(table)` resolves a mart (Dataform's ref), `sql` the dialect helpers.
 */
function dailyQuery(names, { ref, sql, dayColumn }) {
  const wanted = names.map(metric);
  const needed = new Set();
  for (const m of wanted) {
    if (m.kind === "ratio") [m.numerator, m.denominator].forEach((n) => needed.add(n));
    else needed.add(m.name);
  }
  const base = [...needed].map(metric);
  const models = [...new Set(base.map((m) => m.model))];
  const ctes = models.map((model) => {
    const cols = base.filter((m) => m.model === model).map((m) => `${aggregateSql(m, sql)} AS ${m.name}`);
    return `${model}_daily AS (\n  SELECT ${MODELS[model].date} AS ${dayColumn}, ${cols.join(", ")}\n  FROM ${ref(MODELS[model].schema, MODELS[model].table)}\n  GROUP BY ${MODELS[model].date}\n)`;
  });
  const days = `days AS (\n  ${models.map((model) => `SELECT ${dayColumn} FROM ${model}_daily`).join("\n  UNION DISTINCT\n  ")}\n)`;
  const column = (name) => {
    const m = metric(name);
    return `COALESCE(${m.model}_daily.${m.name}, ${m.format === "money" ? `CAST(0 AS ${sql.types.numeric})` : "0"})`;
  };
  const selects = wanted.map((m) => `${m.kind === "ratio" ? ratioSql(m, sql, column) : column(m.name)} AS ${m.name}`);
  const joins = models.map((model) => `LEFT JOIN ${model}_daily ON ${model}_daily.${dayColumn} = days.${dayColumn}`);
  return `WITH ${[...ctes, days].join(",\n")}\nSELECT days.${dayColumn}, ${selects.join(",\n  ")}\nFROM days\n${joins.join("\n")}`;
}

/** Column description of a metric in a daily mart. */
function describe(name) {
  const m = metric(name);
  return m.description;
}

module.exports = { MODELS, METRICS, metric, aggregateSql, dailyQuery, describe };

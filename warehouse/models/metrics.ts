/**
 * The metrics layer for Node: the definitions of warehouse/dataform/includes/metrics.js (the one
 * file the Dataform marts are generated from), typed for the dashboard and the docs, and
 * docs/metrics.md generated from them.
 *   npx tsx warehouse/models/metrics.ts          rewrite docs/metrics.md
 *   npx tsx warehouse/models/metrics.ts --check  exit 1 when it is out of date
 */
import { readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { PROJECT_DIR } from "./compile.js";

export interface MetricDefinition {
  name: string;
  label: string;
  description: string;
  kind: "count" | "sum" | "count_distinct" | "ratio";
  format: "integer" | "money" | "rate";
  /** count, sum, count_distinct: the mart the metric aggregates, its filter and expression. */
  model?: "sessions" | "orders";
  filter?: string | null;
  expression?: string;
  /** ratio: the two metrics divided. */
  numerator?: string;
  denominator?: string;
}

interface SqlHelpers {
  types: { numeric: string };
  safeDivide(a: string, b: string): string;
  moneyDivide(a: string, b: string): string;
}

interface MetricsModule {
  MODELS: Record<string, { schema: string; table: string; date: string; row: string }>;
  METRICS: MetricDefinition[];
  aggregateSql(m: MetricDefinition, sql: SqlHelpers): string;
  dailyQuery(names: string[], opts: { ref: (schema: string, table: string) => string; sql: SqlHelpers; dayColumn: string }): string;
}

const metricsModule = createRequire(import.meta.url)(resolve(PROJECT_DIR, "includes/metrics.js")) as MetricsModule;

export const METRICS: readonly MetricDefinition[] = metricsModule.METRICS;
export const METRIC_MODELS = metricsModule.MODELS;

/** The DuckDB forms of the dialect helpers the metrics use (as includes/sql.js writes them for DuckDB). */
const DUCKDB: SqlHelpers = {
  types: { numeric: "DECIMAL(38,9)" },
  safeDivide: (a, b) => `(CAST(${a} AS DOUBLE) / NULLIF(${b}, 0))`,
  moneyDivide: (a, b) => `CAST(CAST(${a} AS DOUBLE) / NULLIF(${b}, 0) AS DECIMAL(38,9))`,
};

/**
 * DuckDB SQL computing the named metrics per day straight from the marts (what marts.daily_kpis
 * stores), for the dashboard to filter on any date range: one row per `day`.
 */
export function dailyMetricsSql(names: string[]): string {
  return metricsModule.dailyQuery(names, { ref: (schema, table) => `${schema}.${table}`, sql: DUCKDB, dayColumn: "day" });
}

export const METRICS_DOC = resolve(dirname(fileURLToPath(import.meta.url)), "../../docs/metrics.md");

const cell = (s: string) => s.replace(/\|/g, "\\|").replace(/\s+/g, " ").trim();

/** docs/metrics.md, generated from the definitions. */
export function metricsDoc(): string {
  const lines = [
    "# Metrics",
    "",
    "<!-- Generated from warehouse/dataform/includes/metrics.js by warehouse/models/metrics.ts; do not edit by hand (a test fails when it is stale). -->",
    "",
    "Every business metric is defined once, in `warehouse/dataform/includes/metrics.js`: its grain (the mart",
    "whose rows it aggregates, by that mart's day in the reporting time zone), its filter and its SQL. The",
    "daily marts are generated from these definitions (each metric is a column of `marts.daily_kpis`), the",
    "dashboard reads them through `warehouse/models/metrics.ts` (`dailyMetricsSql` computes any of them per",
    "day straight from the marts), and this page is generated from them. Money is in the reporting currency",
    "(`reporting_currency`, default USD); days are in the reporting time zone (`reporting_timezone`, default UTC).",
    "",
    "To add a metric, add it to `METRICS` in that file (a `count`, `sum` or `count_distinct` over a mart, or a",
    "`ratio` of two metrics of the same grain), add it to `marts.daily_kpis` if it belongs there, and run",
    "`npx tsx warehouse/models/metrics.ts` and `npx tsx warehouse/models/dictionary.ts`.",
    "",
    "## Grains",
    "",
    "| model | mart | day column | one row is |",
    "|---|---|---|---|",
    ...Object.entries(metricsModule.MODELS).map(([name, m]) => `| ${name} | \`${m.schema}.${m.table}\` | \`${m.date}\` | ${cell(m.row)} |`),
    "",
    "## Metrics",
    "",
    "| metric | label | definition | grain | filter | SQL | format |",
    "|---|---|---|---|---|---|---|",
  ];
  for (const m of METRICS) {
    const sql = m.kind === "ratio" ? `${m.numerator} / ${m.denominator}` : metricsModule.aggregateSql(m, DUCKDB).replace("DECIMAL(38,9)", "NUMERIC");
    const grain = m.kind === "ratio" ? `ratio of ${m.numerator} and ${m.denominator}` : `${m.model} per day`;
    lines.push(`| \`${m.name}\` | ${cell(m.label)} | ${cell(m.description)} | ${cell(grain)} | ${m.filter ? `\`${cell(m.filter)}\`` : "—"} | \`${cell(sql)}\` | ${m.format} |`);
  }
  lines.push("");
  return lines.join("\n");
}

function main() {
  const next = metricsDoc();
  if (process.argv.includes("--check")) {
    let current = "";
    try {
      current = readFileSync(METRICS_DOC, "utf8");
    } catch {
      current = "";
    }
    if (current !== next) {
      process.stderr.write("docs/metrics.md is out of date with includes/metrics.js; run: npx tsx warehouse/models/metrics.ts\n");
      process.exitCode = 1;
    }
    return;
  }
  writeFileSync(METRICS_DOC, next);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();

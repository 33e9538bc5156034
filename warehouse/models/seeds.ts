/**
 * Reference data the models read that does not come from the pipeline: the dated exchange rates,
 * loaded from a CSV file users can replace (default warehouse/dataform/seeds/exchange_rates.csv,
 * or TIDELINE_EXCHANGE_RATES, or --exchange-rates) into reference.exchange_rates before the models run.
 *
 * The file is parsed here rather than with a CSV library: its format is three unquoted columns, and
 * each value is checked against a strict pattern anyway so that a mistake is reported by line.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Dialect } from "./compile.js";

export const DEFAULT_EXCHANGE_RATES = resolve(dirname(fileURLToPath(import.meta.url)), "../dataform/seeds/exchange_rates.csv");
export const EXCHANGE_RATES_TABLE = { schema: "reference", name: "exchange_rates" } as const;

export interface ExchangeRate {
  rate_date: string;
  currency: string;
  /** Units of `currency` per one unit of the file's base currency (the base itself has rate 1). */
  rate: string;
}

export class SeedError extends Error {
  override name = "SeedError";
}

const HEADER = "rate_date,currency,rate";
const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;
const CURRENCY_RE = /^[A-Z]{3}$/;
const RATE_RE = /^\d+(\.\d{1,9})?$/;

export function exchangeRatesPath(explicit?: string): string {
  return explicit ?? process.env.TIDELINE_EXCHANGE_RATES ?? DEFAULT_EXCHANGE_RATES;
}

/** Parses and checks the file; every error names the line and what to write instead. */
export function parseExchangeRates(text: string, file: string): ExchangeRate[] {
  const rows: ExchangeRate[] = [];
  const seen = new Set<string>();
  let header = false;
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === "" || line.startsWith("#")) continue;
    const at = `${file}:${i + 1}`;
    if (!header) {
      if (line.replace(/\s/g, "") !== HEADER) throw new SeedError(`${at}: the first line must be the header "${HEADER}" (rate = units of the currency per one unit of the base currency), not "${line}"`);
      header = true;
      continue;
    }
    const parts = line.split(",").map((p) => p.trim());
    if (parts.length !== 3) throw new SeedError(`${at}: expected 3 comma-separated values (${HEADER}), got ${parts.length}: "${line}"`);
    const [rateDate, currency, rate] = parts as [string, string, string];
    if (!DATE_RE.test(rateDate) || Number.isNaN(Date.parse(`${rateDate}T00:00:00Z`))) throw new SeedError(`${at}: rate_date "${rateDate}" is not a date (YYYY-MM-DD)`);
    if (!CURRENCY_RE.test(currency)) throw new SeedError(`${at}: currency "${currency}" is not an ISO 4217 code (three capital letters, e.g. EUR)`);
    if (!RATE_RE.test(rate) || !/[1-9]/.test(rate)) throw new SeedError(`${at}: rate "${rate}" must be a positive decimal with at most 9 decimal places`);
    const key = `${rateDate} ${currency}`;
    if (seen.has(key)) throw new SeedError(`${at}: a second rate for ${currency} on ${rateDate}; keep one row per currency and date`);
    seen.add(key);
    rows.push({ rate_date: rateDate, currency, rate });
  }
  if (!header) throw new SeedError(`${file} is empty; it needs the header "${HEADER}" and at least the rates of the currencies your orders use`);
  return rows;
}

export function loadExchangeRates(path = exchangeRatesPath()): ExchangeRate[] {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new SeedError(`cannot read the exchange rates file ${path} (${(e as Error).message}); point TIDELINE_EXCHANGE_RATES or --exchange-rates at a CSV with the header "${HEADER}"`);
  }
  return parseExchangeRates(text, path);
}

/** A digest of the rates: a changed file makes the next run a full refresh (amounts are converted with it). */
export function ratesDigest(rows: ExchangeRate[]): string {
  const h = createHash("sha256");
  for (const r of [...rows].sort((a, b) => `${a.rate_date}${a.currency}`.localeCompare(`${b.rate_date}${b.currency}`))) h.update(`${r.rate_date},${r.currency},${r.rate}\n`);
  return h.digest("hex").slice(0, 16);
}

const CHUNK_ROWS = 2000;

/** Statements replacing reference.exchange_rates with the rows. */
export function exchangeRateStatements(rows: ExchangeRate[], dialect: Dialect, database?: string): string[] {
  const t = EXCHANGE_RATES_TABLE;
  const target = dialect === "bigquery" ? `\`${database}.${t.schema}.${t.name}\`` : `${t.schema}.${t.name}`;
  const out =
    dialect === "bigquery"
      ? [`CREATE OR REPLACE TABLE ${target} (rate_date DATE, currency STRING, rate NUMERIC) OPTIONS(description="Dated exchange rates loaded from the exchange-rates file: rate = units of currency per one unit of the file's base currency.")`]
      : [`CREATE SCHEMA IF NOT EXISTS ${t.schema}`, `CREATE OR REPLACE TABLE ${target} (rate_date DATE, currency VARCHAR, rate DECIMAL(38,9))`];
  const num = (r: string) => (dialect === "bigquery" ? `NUMERIC '${r}'` : `CAST('${r}' AS DECIMAL(38,9))`);
  for (let i = 0; i < rows.length; i += CHUNK_ROWS) {
    const values = rows.slice(i, i + CHUNK_ROWS).map((r) => `(DATE '${r.rate_date}', '${r.currency}', ${num(r.rate)})`);
    out.push(`INSERT INTO ${target} (rate_date, currency, rate) VALUES ${values.join(", ")}`);
  }
  return out;
}

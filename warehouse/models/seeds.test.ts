/** The exchange-rates file: strict parsing with errors by line, and the statements that load it. */
import { describe, expect, it } from "vitest";
import { DEFAULT_EXCHANGE_RATES, exchangeRateStatements, loadExchangeRates, parseExchangeRates, ratesDigest, SeedError } from "./seeds.js";
import { bindParams, runParams } from "./params.js";

describe("exchange rates file", () => {
  it("the project's file parses and has the reporting currency's base", () => {
    const rows = loadExchangeRates(DEFAULT_EXCHANGE_RATES);
    expect(rows.find((r) => r.currency === "USD")).toEqual({ rate_date: "2000-01-01", currency: "USD", rate: "1" });
    expect(rows.find((r) => r.currency === "EUR")?.rate).toBe("0.92");
  });

  it("names the line and what to write instead", () => {
    const f = "rates.csv";
    expect(() => parseExchangeRates("", f)).toThrow(SeedError);
    expect(() => parseExchangeRates("date,ccy,value\n", f)).toThrow(/rates.csv:1: the first line must be the header "rate_date,currency,rate"/);
    expect(() => parseExchangeRates("rate_date,currency,rate\n2026-01-01,eur,1\n", f)).toThrow(/rates.csv:2: currency "eur" is not an ISO 4217 code/);
    expect(() => parseExchangeRates("rate_date,currency,rate\n2026-13-01,EUR,1\n", f)).toThrow(/rates.csv:2: rate_date "2026-13-01" is not a date/);
    expect(() => parseExchangeRates("rate_date,currency,rate\n2026-01-01,EUR,-1\n", f)).toThrow(/rates.csv:2: rate "-1" must be a positive decimal/);
    expect(() => parseExchangeRates("rate_date,currency,rate\n2026-01-01,EUR,0\n", f)).toThrow(/must be a positive decimal/);
    expect(() => parseExchangeRates("# c\nrate_date,currency,rate\n2026-01-01,EUR,1\n2026-01-01,EUR,2\n", f)).toThrow(/rates.csv:4: a second rate for EUR on 2026-01-01/);
    expect(() => loadExchangeRates(".data/scratch/no-such-rates.csv")).toThrow(/cannot read the exchange rates file .*no-such-rates.csv/);
  });

  it("loads in chunks and digests by content, whatever the order", () => {
    const rows = parseExchangeRates("rate_date,currency,rate\n2026-01-01,EUR,0.9\n2026-02-01,EUR,0.91\n", "f");
    expect(exchangeRateStatements(rows, "bigquery", "p")).toEqual([
      `CREATE OR REPLACE TABLE \`p.reference.exchange_rates\` (rate_date DATE, currency STRING, rate NUMERIC) OPTIONS(description="Dated exchange rates loaded from the exchange-rates file: rate = units of currency per one unit of the file's base currency.")`,
      "INSERT INTO `p.reference.exchange_rates` (rate_date, currency, rate) VALUES (DATE '2026-01-01', 'EUR', NUMERIC '0.9'), (DATE '2026-02-01', 'EUR', NUMERIC '0.91')",
    ]);
    expect(ratesDigest(rows)).toBe(ratesDigest([...rows].reverse()));
    expect(ratesDigest(rows)).not.toBe(ratesDigest(rows.slice(1)));
  });
});

describe("run parameters", () => {
  const params = runParams({ fullRefresh: false, since: "2026-03-04 10:00:00+00", loadedThrough: "2026-03-05 00:00:00+00", eventsDates: ["2026-03-03", "2026-03-05"], cdcDates: [], webhookDates: [] });

  it("rebuild sessions from the day before the earliest touched day, features from there or the last load", () => {
    expect(params.run_session_from).toEqual({ kind: "date", value: "2026-03-02" });
    expect(params.run_features_from).toEqual({ kind: "date", value: "2026-03-01" });
    expect(params.run_products_from).toEqual({ kind: "date", value: "2026-03-04" });
    expect(params.run_local_dates).toEqual({ kind: "dates", value: ["2026-03-02", "2026-03-03", "2026-03-04", "2026-03-05", "2026-03-06"] });
  });

  it("are bound as literals of each dialect; an empty list matches nothing; an unknown name is an error", () => {
    const sql = "SELECT 1 FROM t WHERE d IN UNNEST(@run_events_dates) AND c IN UNNEST(@run_cdc_dates) AND s >= @run_session_from AND l > @run_since";
    expect(bindParams(sql, "bigquery", params)).toBe(
      "SELECT 1 FROM t WHERE d IN UNNEST([DATE '2026-03-03', DATE '2026-03-05']) AND c IN UNNEST(CAST([] AS ARRAY<DATE>)) AND s >= DATE '2026-03-02' AND l > TIMESTAMP '2026-03-04 10:00:00+00'",
    );
    expect(bindParams(sql, "duckdb", params)).toBe(
      "SELECT 1 FROM t WHERE d IN (DATE '2026-03-03', DATE '2026-03-05') AND c IN (NULL) AND s >= DATE '2026-03-02' AND l > CAST('2026-03-04 10:00:00+00' AS TIMESTAMPTZ)",
    );
    expect(() => bindParams("SELECT @run_nope", "duckdb", params)).toThrow(/@run_nope, which the runner does not provide/);
    expect(() => bindParams("SELECT @run_events_dates", "duckdb", params)).toThrow(/is a list of dates; use it as IN UNNEST/);
  });
});

/**
 * `npx tideline cost --events-per-day N [--json]`: the monthly cost per component of running
 * tideline in production, streaming and micro-batch side by side (infra/cost/model.ts, prices in
 * infra/cost/prices.json; docs/cost.md).
 */
import { Command, InvalidArgumentError, Option } from "commander";
import { DEFAULT_ASSUMPTIONS, estimate, formatEstimate, PRICES, type CostAssumptions } from "../../infra/cost/model.js";

const USAGE = "usage: npx tideline cost --events-per-day <n, e.g. 5000000 or 5M> [--event-bytes <n>] [--events-per-request <n>] [--queries-per-day <n>] [--json]";

const SUFFIX: Record<string, number> = { "": 1, k: 1e3, K: 1e3, m: 1e6, M: 1e6, b: 1e9, B: 1e9 };

/** A positive count: digits (with optional , or _ separators, a decimal part or an exponent) and an optional k/M/B. */
export function parseCount(v: string, what: string, { integer = false, min = Number.MIN_VALUE } = {}): number {
  const m = /^(\d[\d,_]*(?:\.\d+)?(?:e\d+)?)([kKmMbB]?)$/.exec(v.trim());
  const n = m ? Number(m[1]!.replace(/[,_]/g, "")) * SUFFIX[m[2]!]! : Number.NaN;
  if (!Number.isFinite(n) || n < min || (integer && !Number.isInteger(n))) {
    throw new InvalidArgumentError(`${what} must be a ${integer ? "whole " : ""}number of at least ${min === Number.MIN_VALUE ? "1" : min} (got "${v}")`);
  }
  return n;
}

export function costCommand(): Command {
  const count = (what: string, opts?: { integer?: boolean; min?: number }) => (v: string) => parseCount(v, what, opts);
  return new Command("cost")
    .description(`monthly cost of tideline in production per component, streaming vs micro-batch (list prices of ${PRICES.compiled})`)
    .requiredOption("--events-per-day <n>", "events per day (5000000, 5M, 1B)", count("--events-per-day", { min: 1 }))
    .option("--event-bytes <n>", "bytes of one enriched record", count("--event-bytes", { integer: true, min: 100 }), DEFAULT_ASSUMPTIONS.eventBytes)
    .option("--events-per-request <n>", "events per HTTP request (1 for browser beacons)", count("--events-per-request", { min: 1 }), DEFAULT_ASSUMPTIONS.eventsPerRequest)
    .option("--queries-per-day <n>", "analyst and dashboard queries per day", count("--queries-per-day", { integer: true, min: 0 }), DEFAULT_ASSUMPTIONS.queriesPerDay)
    .option("--gib-per-query <n>", "GiB each of those queries scans", count("--gib-per-query", { min: 0 }), DEFAULT_ASSUMPTIONS.bytesPerQuery / 1024 ** 3)
    .option("--months <n>", "months of history already stored", count("--months", { integer: true, min: 0 }), DEFAULT_ASSUMPTIONS.monthsOfHistory)
    .option("--micro-batch-minutes <n>", "minutes between micro-batch runs", count("--micro-batch-minutes", { integer: true, min: 1 }), DEFAULT_ASSUMPTIONS.microBatchIntervalMinutes)
    .addOption(new Option("--composer-size <size>", "Composer 3 environment size").choices(["small", "medium", "large"]).default("small"))
    .option("--json", "the estimate as JSON")
    .showHelpAfterError(USAGE)
    .action((o: { eventsPerDay: number; eventBytes: number; eventsPerRequest: number; queriesPerDay: number; gibPerQuery: number; months: number; microBatchMinutes: number; composerSize: string; json?: boolean }) => {
      const overrides: Partial<CostAssumptions> = {
        eventBytes: o.eventBytes,
        eventsPerRequest: o.eventsPerRequest,
        queriesPerDay: o.queriesPerDay,
        bytesPerQuery: o.gibPerQuery * 1024 ** 3,
        monthsOfHistory: o.months,
        microBatchIntervalMinutes: o.microBatchMinutes,
        composerSize: `ENVIRONMENT_SIZE_${o.composerSize.toUpperCase()}` as CostAssumptions["composerSize"],
      };
      const e = estimate(o.eventsPerDay, overrides);
      console.log(o.json ? JSON.stringify(e, null, 2) : formatEstimate(e));
    });
}
export default costCommand;

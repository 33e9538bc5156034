/**
 * `npx tideline generate --days <n> --users <n>`: a seeded, realistic e-commerce workload sent through
 * the edge (Segment batches, CDC, Shopify and HubSpot webhooks) with a progress bar; `--rows` writes
 * the same workload straight into a DuckDB warehouse file instead (no edge; tests and benchmarks).
 */
import { Command } from "commander";
import cliProgress from "cli-progress";
import { warehousePath } from "../../warehouse/duckdb/sink.js";
import { warehouseDdl } from "../../warehouse/duckdb/ddl.js";
import { openDuckDbFile } from "../../warehouse/models/executor.js";
import { generateWorkload, workloadStats, type WorkloadOptions } from "../../workload/generate.js";
import { writeWorkloadRows } from "../../workload/rows.js";
import { requestsFor, SendError, sendRequests } from "../../workload/send.js";
import { edgeUrl } from "../../platform/local/settings.js";

interface GenerateOpts {
  days: string;
  users: string;
  seed: string;
  start?: string;
  edge?: string;
  rows?: boolean;
  warehouse?: string;
  concurrency: string;
}

function positiveInt(name: string, v: string, max: number): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > max) throw new Error(`--${name} must be a whole number from 1 to ${max}, not ${v}`);
  return n;
}

function bar(label: string) {
  return new cliProgress.SingleBar(
    { format: `${label} [{bar}] {percentage}% | {value}/{total} {unit}`, stream: process.stderr, noTTYOutput: true, notTTYSchedule: 2000, hideCursor: true },
    cliProgress.Presets.shades_classic,
  );
}

export async function runGenerate(o: GenerateOpts, out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): Promise<number> {
  let wo: WorkloadOptions;
  try {
    const start = o.start ? new Date(`${o.start}T00:00:00Z`) : undefined;
    if (start && Number.isNaN(start.getTime())) throw new Error(`--start must be a date like 2026-03-01, not ${o.start}`);
    wo = { seed: Number(o.seed) | 0, days: positiveInt("days", o.days, 3650), users: positiveInt("users", o.users, 10_000_000), start };
  } catch (e) {
    err.write(`tideline generate: ${(e as Error).message}\n`);
    return 2;
  }
  try {
    if (o.rows) {
      const path = o.warehouse ?? warehousePath();
      const exec = await openDuckDbFile(path);
      const b = bar("rows");
      b.start(wo.users, 0, { unit: "visitors" });
      try {
        await exec.run(warehouseDdl());
        const r = await writeWorkloadRows(exec, wo, { onProgress: (done) => b.update(done) });
        b.stop();
        out.write(`generate: wrote ${r.events} events and ${r.orders} orders for ${wo.users} visitors over ${wo.days} days into ${path}\n`);
      } finally {
        b.stop();
        await exec.close?.();
      }
      return 0;
    }
    const edge = o.edge ?? edgeUrl();
    const items = generateWorkload(wo);
    const stats = workloadStats(items);
    const total = items.reduce((n, it) => n + (it.kind === "hubspot" ? it.body.length : 1), 0);
    const b = bar("send");
    b.start(total, 0, { unit: "records" });
    const r = await sendRequests(edge, requestsFor(items, edge), { concurrency: positiveInt("concurrency", o.concurrency, 64), onProgress: (n) => b.update(n) });
    b.stop();
    out.write(
      `generate: sent ${r.items} records in ${r.requests} requests to ${edge} (${stats.events} events incl. ${stats.botEvents} bot, ${stats.duplicates} duplicate, ${stats.late} late; ` +
        `${Object.values(stats.cdc).reduce((a, x) => a + x, 0)} CDC changes; ${Object.values(stats.shopify).reduce((a, x) => a + x, 0)} Shopify and ${stats.hubspot} HubSpot webhooks); ` +
        `${r.rejected} rejected, ${r.retries} retries\n`,
    );
    return r.rejected > 0 ? 1 : 0;
  } catch (e) {
    err.write(`\ntideline generate: ${e instanceof SendError ? e.message : `failed: ${(e as Error).message}`}\n`);
    return 1;
  }
}

export function generateCommand(): Command {
  return new Command("generate")
    .description("send a seeded, realistic e-commerce workload through the edge (or write it as warehouse rows with --rows)")
    .option("--days <n>", "days of activity", "7")
    .option("--users <n>", "visitors", "1000")
    .option("--seed <n>", "random seed (same seed, same workload)", "42")
    .option("--start <date>", "first day (UTC, YYYY-MM-DD); default: --days days ago")
    .option("--edge <url>", "edge base URL (default: TIDELINE_EDGE_URL, else http://127.0.0.1:<TIDELINE_EDGE_PORT, 8787>)")
    .option("--rows", "write rows straight into the DuckDB warehouse instead of sending (stop `npm start` first)")
    .option("--warehouse <path>", "DuckDB file for --rows (default: .data/warehouse.duckdb)")
    .option("--concurrency <n>", "requests in flight", "4")
    .action(async (opts: GenerateOpts) => {
      process.exitCode = await runGenerate(opts);
    });
}

export default generateCommand;

/**
 * `npx tideline backfill --from <date> --to <date> [--streams events,webhooks,cdc]`: replays the raw
 * archive (gzip NDJSON in the raw bucket of the Cloud Storage emulator) for a UTC date range into the
 * warehouse, with a progress bar on stderr. Re-running gives the same tables. While `npm start`
 * runs, the pipeline process holds the warehouse, so the backfill runs there through its operator API.
 */
import { Command } from "commander";
import { ndjsonMessages } from "./ndjson.js";
import cliProgress from "cli-progress";
import { dashboardPort } from "../../pipeline/operator-api.js";
import { runBackfill, type BackfillResult } from "../../pipeline/backfill.js";
import { datesBetween, GcsArchive } from "../../pipeline/sources/archive.js";
import { batchOptionsFromEnv, RAW_BUCKET } from "../../pipeline/options.js";
import { DuckDbSink, warehousePath } from "../../warehouse/duckdb/sink.js";
import type { BatchStats } from "../../pipeline/transforms/batch.js";
import type { InputStream } from "../../pipeline/transforms/types.js";

const STREAMS: InputStream[] = ["events", "webhooks", "cdc", "dead-letters"];

interface Progress {
  objectsDone: number;
  objectsTotal: number;
  stats: BatchStats;
}

function progressBar(enabled: boolean) {
  const bar = new cliProgress.SingleBar(
    { format: "backfill [{bar}] {value}/{total} objects | {loaded} rows loaded, {duplicates} already stored, {dead} dead letters", stream: process.stderr, noTTYOutput: true, notTTYSchedule: 2000 },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    update(p: Progress) {
      if (!enabled) return;
      const payload = { loaded: p.stats.loaded, duplicates: p.stats.duplicates, dead: p.stats.deadLettered };
      if (!started) {
        bar.start(p.objectsTotal, p.objectsDone, payload);
        started = true;
      } else bar.update(p.objectsDone, payload);
    },
    stop() {
      if (started) bar.stop();
    },
  };
}

/** Runs the backfill inside a running pipeline; null when none answers. */
async function viaOperatorApi(body: object, onProgress: (p: Progress) => void): Promise<BackfillResult | null> {
  let res: Response;
  try {
    res = await fetch(`http://127.0.0.1:${dashboardPort()}/api/backfill`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  } catch {
    return null;
  }
  if (res.status === 404 || !(res.headers.get("content-type") ?? "").includes("ndjson")) return null;
  for await (const msg of ndjsonMessages<{ progress?: Progress; done?: boolean; result?: BackfillResult; error?: { message: string } }>(res)) {
    if (msg.progress) onProgress(msg.progress);
    if (msg.error) throw new Error(msg.error.message);
    if (msg.done) return msg.result!;
  }
  throw new Error("the pipeline closed the backfill request without a result; see its log");
}

export async function backfill(opts: { from: string; to: string; streams?: string; progress?: boolean }): Promise<number> {
  const bar = progressBar(opts.progress ?? true);
  try {
    datesBetween(opts.from, opts.to);
    const streams = (opts.streams ? opts.streams.split(",").map((s) => s.trim()) : ["events", "webhooks", "cdc"]) as InputStream[];
    const unknown = streams.filter((s) => !STREAMS.includes(s));
    if (unknown.length) throw new Error(`unknown stream ${unknown.join(", ")}; choose from ${STREAMS.join(", ")}`);
    let result = await viaOperatorApi({ from: opts.from, to: opts.to, streams }, (p) => bar.update(p));
    if (!result) {
      const sink = await DuckDbSink.open(warehousePath());
      try {
        await sink.init();
        result = await runBackfill({ from: opts.from, to: opts.to, streams, reader: new GcsArchive(), sink, batch: batchOptionsFromEnv(), onProgress: (p) => bar.update(p) });
      } finally {
        await sink.close();
      }
    }
    bar.stop();
    const s = result.stats;
    process.stderr.write(
      `backfill ${opts.from}..${opts.to}: ${result.objects} archive objects from gs://${RAW_BUCKET}, ${s.messages} records: ${s.loaded} loaded (${s.late} late), ${s.duplicates} already stored, ${s.deadLettered} dead letters\n`,
    );
    return 0;
  } catch (e) {
    bar.stop();
    const msg = (e as Error).message;
    const hint = /ECONNREFUSED|fetch failed/.test(msg) ? ` (is the Cloud Storage emulator running? npm start starts it; STORAGE_EMULATOR_HOST points elsewhere)` : "";
    process.stderr.write(`tideline backfill: ${msg}${hint}\n`);
    return 1;
  }
}

export function backfillCommand(): Command {
  return new Command("backfill")
    .description("replay the raw archive for a UTC date range into the warehouse (idempotent)")
    .requiredOption("--from <date>", "first UTC date, YYYY-MM-DD")
    .requiredOption("--to <date>", "last UTC date, YYYY-MM-DD (inclusive)")
    .option("--streams <list>", "comma-separated streams: events,webhooks,cdc,dead-letters", "events,webhooks,cdc")
    .option("--no-progress", "no progress bar")
    .action(async (o: { from: string; to: string; streams: string; progress: boolean }) => {
      process.exitCode = await backfill(o);
    });
}

export default backfillCommand;

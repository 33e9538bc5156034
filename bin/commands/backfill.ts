/**
 * `npx tideline backfill --from <date> --to <date> [--streams events,webhooks,cdc]`: replays the raw
 * archive (gzip NDJSON in the raw bucket of the Cloud Storage emulator) for a UTC date range into the
 * warehouse, with a progress bar on stderr. Re-running gives the same tables. While `npm start`
 * runs, the pipeline process holds the warehouse, so the backfill runs there through its operator API.
 */
import { Command } from "commander";
import cliProgress from "cli-progress";
import { operatorClient, OperatorApiError, OperatorApiUnavailable, type OperatorClient } from "../../platform/api/client.js";
import { BackfillRequest } from "../../platform/api/schemas.js";
import { runBackfill, type BackfillResult } from "../../pipeline/backfill.js";
import { GcsArchive } from "../../pipeline/sources/archive.js";
import { batchOptionsFromEnv, RAW_BUCKET } from "../../pipeline/options.js";
import { DuckDbSink, warehousePath } from "../../warehouse/duckdb/sink.js";
import type { BatchStats } from "../../pipeline/transforms/batch.js";
import { explain } from "./query.js";

interface Progress {
  objectsDone: number;
  objectsTotal: number;
  stats: BatchStats;
}

function progressBar(enabled: boolean, stream: NodeJS.WritableStream) {
  const bar = new cliProgress.SingleBar(
    { format: "backfill [{bar}] {value}/{total} objects | {loaded} rows loaded, {duplicates} already stored, {dead} dead letters", stream, noTTYOutput: true, notTTYSchedule: 2000 },
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

/** The request as the operator API validates it, with the API's field names turned into the flags. */
function request(opts: { from: string; to: string; streams?: string }): BackfillRequest {
  const r = BackfillRequest.safeParse({
    from: opts.from,
    to: opts.to,
    streams: (opts.streams ?? "events,webhooks,cdc").split(",").map((s) => s.trim()).filter(Boolean),
  });
  if (!r.success) throw new Error(r.error.issues.map((i) => `--${String(i.path[0] ?? "from")} ${i.message}`).join("; "));
  return r.data;
}

export async function backfill(
  opts: { from: string; to: string; streams?: string; progress?: boolean },
  err: NodeJS.WritableStream = process.stderr,
  client?: OperatorClient,
): Promise<number> {
  const bar = progressBar(opts.progress ?? true, err);
  try {
    const req = request(opts);
    let result: BackfillResult;
    try {
      // While `npm start` runs, the pipeline holds the warehouse: the backfill runs there.
      result = await (client ?? operatorClient()).backfill(req, (p) => bar.update(p));
    } catch (e) {
      if (!(e instanceof OperatorApiUnavailable)) throw e;
      const sink = await DuckDbSink.open(warehousePath());
      try {
        await sink.init();
        result = await runBackfill({ ...req, reader: new GcsArchive(), sink, batch: batchOptionsFromEnv(), onProgress: (p) => bar.update(p) });
      } finally {
        await sink.close();
      }
    }
    bar.stop();
    const s = result.stats;
    err.write(
      `backfill ${req.from}..${req.to}: ${result.objects} archive objects from gs://${RAW_BUCKET}, ${s.messages} records: ${s.loaded} loaded (${s.late} late), ${s.duplicates} already stored, ${s.deadLettered} dead letters\n`,
    );
    return 0;
  } catch (e) {
    bar.stop();
    if (e instanceof OperatorApiError) {
      err.write(`tideline backfill: ${explain(e)}\n`);
      return 1;
    }
    const msg = (e as Error).message;
    const hint = /ECONNREFUSED|fetch failed/.test(msg) ? ` (is the Cloud Storage emulator running? npm start starts it; STORAGE_EMULATOR_HOST points elsewhere)` : "";
    err.write(`tideline backfill: ${msg}${hint}\n`);
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

/**
 * `npx tideline reconcile [--since <time>] [--json]`: compares the raw archive (what the edge
 * forwarded) with the warehouse and loads what is missing, idempotently. While `npm start` runs,
 * the pipeline process holds the warehouse, so it runs there through the operator API; otherwise
 * on the warehouse file. `npm start` runs it by itself after a restart.
 */
import { Command } from "commander";
import { operatorClient, OperatorApiError, OperatorApiUnavailable, type OperatorClient } from "../../platform/api/client.js";
import type { ReconcileResult } from "../../platform/api/schemas.js";
import { describeReconcile, duckDbStoredIds, parseSince, reconcileArchive } from "../../pipeline/reconcile.js";
import { GcsArchive } from "../../pipeline/sources/archive.js";
import { batchOptionsFromEnv, RAW_BUCKET } from "../../pipeline/options.js";
import { DuckDbSink, warehousePath } from "../../warehouse/duckdb/sink.js";
import { explain } from "./query.js";

export const DEFAULT_SINCE = "7d";

export async function reconcile(
  opts: { since?: string; json?: boolean },
  out: NodeJS.WritableStream = process.stdout,
  err: NodeJS.WritableStream = process.stderr,
  client?: OperatorClient,
): Promise<number> {
  try {
    const since = parseSince(opts.since ?? DEFAULT_SINCE);
    let result: ReconcileResult;
    try {
      result = await (client ?? operatorClient()).reconcile({ since: since.toISOString() });
    } catch (e) {
      if (!(e instanceof OperatorApiUnavailable)) throw e;
      const sink = await DuckDbSink.open(warehousePath());
      const stored = duckDbStoredIds(sink.instance);
      try {
        await sink.init();
        result = await reconcileArchive({ since, reader: new GcsArchive(), sink, stored, batch: batchOptionsFromEnv() });
      } finally {
        stored.close();
        await sink.close();
      }
    }
    if (opts.json) out.write(JSON.stringify(result) + "\n");
    else err.write(`${describeReconcile(result)} (gs://${RAW_BUCKET})\n`);
    return 0;
  } catch (e) {
    if (e instanceof OperatorApiError) {
      err.write(`tideline reconcile: ${explain(e)}\n`);
      return 1;
    }
    const msg = (e as Error).message;
    const hint = /ECONNREFUSED|fetch failed/.test(msg) ? " (is the Cloud Storage emulator running? npm start starts it; STORAGE_EMULATOR_HOST points elsewhere)" : "";
    err.write(`tideline reconcile: ${msg}${hint}\n`);
    return 1;
  }
}

export function reconcileCommand(): Command {
  return new Command("reconcile")
    .description("load what the raw archive holds and the warehouse lacks (idempotent; npm start runs it after a restart)")
    .option("--since <time>", "archive objects from this time on: ISO time, date, or a duration back from now (90m, 6h, 7d)", DEFAULT_SINCE)
    .option("--json", "print the result as one JSON object on stdout")
    .action(async (o: { since: string; json?: boolean }) => {
      process.exitCode = await reconcile(o);
    });
}

export default reconcileCommand;

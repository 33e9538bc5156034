/**
 * The local platform's pipeline service (a service of `npm start`, platform/local/start.ts): it wires
 * the single-node engine to its local source and sink — the Pub/Sub emulator's subscriptions and the
 * landing bucket in, the DuckDB warehouse (the one writer) out — and serves the operator API
 * (platform/api) on ports built from them, with the in-process models schedule.
 */
import type { DuckDBConnection } from "@duckdb/node-api";
import { DuckDbSink, warehousePath } from "../../warehouse/duckdb/sink.js";
import { queryInstance } from "../../warehouse/duckdb/query.js";
import { runModelsOnConnection, type ModelsRunMessage, type ModelsRunRequest } from "../../warehouse/models/service.js";
import type { RunResult } from "../../warehouse/models/run.js";
import { ensureResources } from "../../infra/local/pubsub-emulator.js";
import { batchOptionsFromEnv, LANDING_BUCKET } from "../../pipeline/options.js";
import { LandingLoader } from "../../pipeline/sources/landing.js";
import { PubSubSource } from "../../pipeline/sources/pubsub.js";
import { StreamingPipeline } from "../../pipeline/streaming.js";
import { runBackfill } from "../../pipeline/backfill.js";
import { duckDbStoredIds, reconcileArchive } from "../../pipeline/reconcile.js";
import { GcsArchive } from "../../pipeline/sources/archive.js";
import { ModelsSchedule, modelsIntervalSeconds } from "../../pipeline/models-schedule.js";
import { startOperatorApi, type OperatorApiServer } from "../api/server.js";
import type { OperatorPorts } from "../api/ports.js";
import { localSettings, pubsubEmulatorHost } from "./settings.js";

interface Running {
  sink: DuckDbSink;
  pipeline: StreamingPipeline;
  landing: LandingLoader;
  api: OperatorApiServer;
  schedule: ModelsSchedule;
}
let running: Running | null = null;
let modelsConnection: DuckDBConnection | null = null;
let modelsRun: Promise<void> = Promise.resolve();
let lastModelsRun: { finishedAt: string; result: RunResult } | null = null;

export const pipelineService = {
  name: "pipeline",
  get url(): string {
    return `http://127.0.0.1:${localSettings().dashboardPort}/api/pipeline`;
  },
  async start(): Promise<void> {
    if (running) return;
    process.env.PUBSUB_EMULATOR_HOST = pubsubEmulatorHost();
    // Locally there is no Google metadata server; without this the auth library probes for one and warns.
    process.env.METADATA_SERVER_DETECTION ??= "none";
    const intervalSeconds = modelsIntervalSeconds();
    const sink = await DuckDbSink.open(warehousePath(), { serveQueries: true });
    try {
      const schedule = new ModelsSchedule({ intervalSeconds, run: () => scheduledModelsRun(sink), log: (l) => console.error(l) });
      await sink.init();
      const source = PubSubSource.local(process.env.PUBSUB_PROJECT_ID ?? localSettings().project);
      // Idempotent; npm start has done it already, a standalone run may not have.
      await ensureResources(process.env.PUBSUB_EMULATOR_HOST!, process.env.PUBSUB_PROJECT_ID ?? localSettings().project).catch((e: Error) => {
        throw new Error(
          `could not reach the Pub/Sub emulator at ${process.env.PUBSUB_EMULATOR_HOST} to set up the pipeline's subscriptions (${e.message}); start it first (npm start does) or point PUBSUB_EMULATOR_HOST at it`,
        );
      });
      const pipeline = new StreamingPipeline({ sink, source, batch: batchOptionsFromEnv(), log: (l) => console.error(l) });
      const ports: OperatorPorts = {
        warehouse: sink.path,
        query: (sql, limits) => queryInstance(sink.instance, sql, limits),
        status: () => pipeline.status,
        backfill: async (req, progress) => {
          const result = await runBackfill({ from: req.from, to: req.to, ...(req.streams ? { streams: req.streams } : {}), reader: new GcsArchive(), sink, batch: batchOptionsFromEnv(), onProgress: progress });
          schedule.trigger("after a backfill");
          return result;
        },
        runModels: (req, emit) => serializedModelsRun(sink, req, emit),
        lastModelsRun: () => lastModelsRun,
        reconcile: async (req) => {
          const stored = duckDbStoredIds(sink.instance);
          try {
            const result = await reconcileArchive({ since: new Date(req.since), reader: new GcsArchive(), sink, stored, batch: batchOptionsFromEnv() });
            if (result.stats.loaded > 0) schedule.trigger("after a reconcile");
            return result;
          } finally {
            stored.close();
          }
        },
      };
      const api = await startOperatorApi({ ports });
      pipeline.start();
      const landing = new LandingLoader({
        pubsub: source.pubsub,
        reader: new GcsArchive(LANDING_BUCKET),
        sink,
        batch: batchOptionsFromEnv(),
        log: (l) => console.error(l),
        onLoaded: () => schedule.trigger("after a landing upload"),
      });
      landing.start();
      schedule.start();
      running = { sink, pipeline, api, landing, schedule };
    } catch (e) {
      await sink.close();
      throw e;
    }
  },
  /** Status of the streaming pipeline while it runs (batches, totals, last error). */
  status() {
    return running?.pipeline.status ?? null;
  },
  async stop(): Promise<void> {
    const r = running;
    running = null;
    if (!r) return;
    await r.schedule.stop();
    await r.landing.stop();
    await r.pipeline.stop();
    await r.api.close();
    await modelsRun;
    modelsConnection?.closeSync();
    modelsConnection = null;
    await r.sink.close();
  },
};

/**
 * The models run in this process because it holds the warehouse, on their own connection (DuckDB
 * transactions are per connection, so they never interleave with the pipeline's commits), one run
 * at a time, whoever asks (the API or the schedule).
 */
function serializedModelsRun(sink: DuckDbSink, request: ModelsRunRequest, emit: (m: ModelsRunMessage) => void): Promise<void> {
  const run = modelsRun.then(async () => {
    modelsConnection ??= await sink.instance.connect();
    await runModelsOnConnection(modelsConnection, request, (m) => {
      if ("done" in m) lastModelsRun = { finishedAt: new Date().toISOString(), result: m.result };
      emit(m);
    });
  });
  modelsRun = run.catch(() => undefined);
  return run;
}

async function scheduledModelsRun(sink: DuckDbSink) {
  const out: { result?: RunResult; failure?: { message: string; model?: string; assertion?: string } } = {};
  await serializedModelsRun(sink, {}, (m) => {
    if ("done" in m) out.result = m.result;
    else if ("error" in m) out.failure = m.error;
  });
  const f = out.failure;
  if (f) throw new Error(`${f.message}${f.model ? ` (model ${f.model}${f.assertion ? `, assertion ${f.assertion}` : ""})` : ""}`);
  if (!out.result) throw new Error("the models run ended without a result");
  const r = out.result;
  return { seconds: r.seconds, summary: `done in ${r.seconds.toFixed(2)} s (${r.fullRefresh ? "full refresh" : `${r.touchedDates.length} touched partition dates`})` };
}

/**
 * `npm run bench:pipeline`: the pipeline's batch throughput on N archived events (default 1,000,000,
 * BENCH_EVENTS to change) — gzip NDJSON objects laid out as the edge archives them, replayed through
 * the single-node engine into a fresh DuckDB file — next to DuckDB's own read_json load of
 * the same files in the same run (target: ≥ 0.3× of it), in interleaved trials (BENCH_TRIALS,
 * default 3) whose median ratio is the figure: other work on the machine hits both sides alike.
 * Then streaming freshness on the Pub/Sub emulator: publish → row committed in raw.events, p50/p95.
 * Peak RSS of this process at the end. BENCH_SERVE_QUERIES=1 opens the sink as the pipeline service does.
 */
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { DuckDBInstance } from "@duckdb/node-api";
import { PubSub } from "@google-cloud/pubsub";
import { rawEvents } from "../contracts/tables.js";
import { runBackfill } from "../pipeline/backfill.js";
import { PubSubSource } from "../pipeline/sources/pubsub.js";
import { ensureResources } from "../infra/local/pubsub-emulator.js";
import { StreamingPipeline } from "../pipeline/streaming.js";
import { eventRecord } from "../pipeline/testing/records.js";
import { startEmulator } from "../pipeline/testing/pubsub-emulator.js";
import { DuckDbSink } from "../warehouse/duckdb/sink.js";
import { readJsonColumns } from "../warehouse/duckdb/ddl.js";
import { runReadOnly } from "../warehouse/duckdb/query.js";
import { LOCAL_PROJECT } from "../contracts/defaults.js";
import { DirArchive, writeEventArchive } from "./archive.js";

const EVENTS = Number(process.env.BENCH_EVENTS ?? 1_000_000);
const TRIALS = Math.max(1, Number(process.env.BENCH_TRIALS ?? 3));
const PER_OBJECT = 5000;
/** BENCH_SERVE_QUERIES=1: the sink locked down as `npm start` opens it (its thread count then stays fixed). */
const SERVE_QUERIES = process.env.BENCH_SERVE_QUERIES === "1";
const FRESHNESS_EVENTS = Number(process.env.BENCH_FRESHNESS_EVENTS ?? 2000);
const FRESHNESS_RATE_PER_S = 500;
const ROOT = join(process.cwd(), ".data/scratch/bench-pipeline");
const ARCHIVE = join(ROOT, "archive");

let peakRss = 0;
const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 100);
const mb = (b: number) => `${(b / 1024 / 1024).toFixed(0)} MB`;

/** Closing each database (its final checkpoint) is timed apart and printed, not counted in either rate. */
const closeMs = { baseline: 0, pipeline: 0 };

async function duckdbBaseline(): Promise<number> {
  const path = join(ROOT, "baseline.duckdb");
  rmSync(path, { force: true });
  const db = await DuckDBInstance.create(path);
  const con = await db.connect();
  const t0 = performance.now();
  await con.run(
    `CREATE TABLE events AS SELECT * FROM read_json('${join(ARCHIVE, "raw/events/**/*.ndjson.gz")}', format = 'newline_delimited', compression = 'gzip', columns = ${readJsonColumns({ ...rawEvents, schema: rawEvents.schema.pick(Object.fromEntries(Object.keys(rawEvents.schema.shape).filter((k) => !["event_date", "is_late", "lateness_ms", "loaded_at"].includes(k)).map((k) => [k, true]))) } as never)})`,
  );
  const ms = performance.now() - t0;
  const n = Number((await con.runAndReadAll("SELECT count(*) FROM events")).getRows()[0]![0]);
  if (n !== EVENTS) throw new Error(`baseline loaded ${n} rows, expected ${EVENTS}`);
  const c0 = performance.now();
  con.closeSync();
  db.closeSync();
  closeMs.baseline = performance.now() - c0;
  rmSync(path, { force: true });
  return ms;
}

async function pipelineBatch(): Promise<{ ms: number; loaded: number }> {
  const path = join(ROOT, "pipeline.duckdb");
  rmSync(path, { force: true });
  const sink = await DuckDbSink.open(path, { serveQueries: SERVE_QUERIES });
  await sink.init();
  const t0 = performance.now();
  const r = await runBackfill({ from: "2026-11-20", to: "2026-11-23", reader: new DirArchive(ARCHIVE), sink });
  const ms = performance.now() - t0;
  const n = (await runReadOnly(sink.con, "SELECT count(*) AS n FROM raw.events")).rows[0]!.n;
  if (n !== EVENTS || r.stats.loaded !== EVENTS) throw new Error(`pipeline loaded ${n} rows (${r.stats.loaded} reported), expected ${EVENTS}`);
  const c0 = performance.now();
  await sink.close();
  closeMs.pipeline = performance.now() - c0;
  rmSync(path, { force: true });
  return { ms, loaded: r.stats.loaded };
}

async function freshness(): Promise<{ p50: number; p95: number; n: number }> {
  const emulator = await startEmulator();
  process.env.PUBSUB_EMULATOR_HOST = emulator.host;
  process.env.METADATA_SERVER_DETECTION = "none";
  const path = join(ROOT, "freshness.duckdb");
  rmSync(path, { force: true });
  const pubsub = new PubSub({ projectId: LOCAL_PROJECT });
  const sink = await DuckDbSink.open(path);
  try {
    await ensureResources(emulator.host, LOCAL_PROJECT);
    await sink.init();
    const source = new PubSubSource(new PubSub({ projectId: LOCAL_PROJECT }));
    const pipeline = new StreamingPipeline({ sink, source });
    pipeline.start();
    const topic = pubsub.topic("events", { batching: { maxMessages: 100, maxMilliseconds: 5 } });
    const published = new Map<string, number>();
    const t0 = Date.now();
    for (let i = 0; i < FRESHNESS_EVENTS; i++) {
      // Paced like live traffic; the clock starts when the record leaves the publisher (edge side).
      const due = t0 + (i * 1000) / FRESHNESS_RATE_PER_S;
      if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
      const now = new Date().toISOString();
      const r = eventRecord(2_000_000 + i, now, { received_at: now });
      published.set(r.event_id, Date.now());
      void topic.publishMessage({ data: Buffer.from(JSON.stringify(r)), attributes: { stream: "events", source: "web", event_id: r.event_id, event_ts: now } });
    }
    await topic.flush();
    const deadline = Date.now() + 60_000;
    while (pipeline.status.totals.loaded < FRESHNESS_EVENTS && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    await pipeline.stop();
    const rows = (await runReadOnly(sink.con, "SELECT quantile_cont(epoch_ms(loaded_at) - epoch_ms(received_at), [0.5, 0.95]) AS q, count(*) AS n FROM raw.events")).rows[0]!;
    const [p50, p95] = rows.q as number[];
    return { p50: p50!, p95: p95!, n: rows.n as number };
  } finally {
    await sink.close();
    await pubsub.close();
    await emulator.stop();
    rmSync(path, { force: true });
  }
}

async function main() {
  mkdirSync(ROOT, { recursive: true });
  console.log(`bench:pipeline — ${EVENTS.toLocaleString("en")} archived events, ${PER_OBJECT} per object`);
  const g0 = performance.now();
  // Generated by a child process: a million records built in this one left a heap that made the
  // garbage collector slow the pipeline measured after it (about 1 s more per million).
  const child = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), GENERATE], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
  if (child.status !== 0) throw new Error(`generating the archive failed (exit ${child.status})`);
  const a = JSON.parse(child.stdout.trim().split("\n").at(-1)!) as { bytes: number; objects: number };
  console.log(`  archive: ${a.objects} objects, ${mb(a.bytes)} gzip (generated in ${((performance.now() - g0) / 1000).toFixed(1)} s, not measured)`);

  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const ratios: number[] = [];
  const strictRatios: number[] = [];
  let firstTrialRss = 0;
  for (let t = 1; t <= TRIALS; t++) {
    const baselineMs = await duckdbBaseline();
    const baselineRate = EVENTS / (baselineMs / 1000);
    const p = await pipelineBatch();
    const rate = p.loaded / (p.ms / 1000);
    ratios.push(rate / baselineRate);
    // The rates end at the durable commit. Closing writes what is still only in memory and the
    // write-ahead log into the file; timed apart and printed, so the ratio can be read both ways.
    strictRatios.push((baselineMs + closeMs.baseline) / (p.ms + closeMs.pipeline));
    console.log(
      `  trial ${t}/${TRIALS}: DuckDB read_json load ${(baselineMs / 1000).toFixed(2)} s = ${Math.round(baselineRate).toLocaleString("en")} events/s; ` +
        `pipeline batch (backfill) ${(p.ms / 1000).toFixed(2)} s = ${Math.round(rate).toLocaleString("en")} events/s; ${(rate / baselineRate).toFixed(2)}× ` +
        `(closing counted: ${((p.ms + closeMs.pipeline) / 1000).toFixed(2)} s against ${((baselineMs + closeMs.baseline) / 1000).toFixed(2)} s = ${strictRatios.at(-1)!.toFixed(2)}×)`,
    );
    if (t === 1) firstTrialRss = Math.max(peakRss, process.resourceUsage().maxRSS * 1024);
  }
  console.log(`  pipeline batch throughput: ${median(ratios).toFixed(2)}× DuckDB's own load, median of ${TRIALS} (target ≥ 0.3×); with each database's close counted: ${median(strictRatios).toFixed(2)}×`);

  const f = await freshness();
  console.log(`  streaming freshness (Pub/Sub publish → row committed), ${f.n} events at ${FRESHNESS_RATE_PER_S}/s: p50 ${Math.round(f.p50)} ms, p95 ${Math.round(f.p95)} ms`);
  clearInterval(sampler);
  // Memory freed by one trial mostly stays with the process's allocators, so the first trial's peak is the one that compares.
  console.log(`  peak RSS: ${mb(firstTrialRss)} in the first trial (one DuckDB load and one backfill); ${mb(Math.max(peakRss, process.resourceUsage().maxRSS * 1024))} by the end`);
  rmSync(ROOT, { recursive: true, force: true });
}

const GENERATE = "--generate-archive";
if (process.argv.includes(GENERATE)) {
  clearInterval(sampler);
  console.log(JSON.stringify(writeEventArchive(ARCHIVE, EVENTS, PER_OBJECT)));
} else main().catch((e) => {
  console.error(e);
  process.exit(1);
});

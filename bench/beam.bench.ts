/**
 * `npm run bench:beam`: batch throughput of the Beam pipeline (pipeline/beam, Python) on Beam's
 * local runners beside the single-node engine, on the same archive in one run: N archived events
 * (BENCH_EVENTS, default 50,000) as gzip NDJSON objects of 5,000 laid out as the edge archives them.
 *  - single-node engine: runBackfill into a fresh DuckDB file (its prepare pool on worker threads);
 *  - Beam: `run(--source archive)` on each runner of BENCH_BEAM_RUNNERS (default FnApiRunner; PrismRunner too)
 *    with the in-memory warehouse, so the figure is the graph's (parse, validate, dedup, event time,
 *    metrics, CDC) and not a warehouse's; CPU seconds are the Python process's and its children's.
 * Events/s per core = events / CPU seconds. Needs `bash infra/local/setup.sh beam` (and `go` for Prism).
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { runBackfill } from "../pipeline/backfill.js";
import { DuckDbSink } from "../warehouse/duckdb/sink.js";
import { runReadOnly } from "../warehouse/duckdb/query.js";
import { DirArchive, writeEventArchive } from "./archive.js";

const EVENTS = Number(process.env.BENCH_EVENTS ?? 50_000);
const PER_OBJECT = 5000;
const RUNNERS = (process.env.BENCH_BEAM_RUNNERS ?? "FnApiRunner").split(",").filter(Boolean);
const ROOT = join(process.cwd(), ".data/scratch/bench-beam");
const ARCHIVE = join(ROOT, "archive");
const PYTHON = join(process.cwd(), ".venv/beam/bin/python");
const PRISM = join(process.cwd(), ".tools/bin/prism");

async function singleNode(): Promise<{ s: number; cpu: number }> {
  const path = join(ROOT, "single-node.duckdb");
  rmSync(path, { force: true });
  const sink = await DuckDbSink.open(path);
  await sink.init();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await runBackfill({ from: "2026-11-20", to: "2026-11-23", reader: new DirArchive(ARCHIVE), sink });
  const s = (performance.now() - t0) / 1000;
  const used = process.cpuUsage(cpu0);
  const n = Number((await runReadOnly(sink.con, "SELECT count(*) AS n FROM raw.events")).rows[0]!.n);
  await sink.close();
  rmSync(path, { force: true });
  if (n !== EVENTS) throw new Error(`single-node engine loaded ${n} rows, expected ${EVENTS}`);
  // Worker threads' CPU is in this process's usage.
  return { s, cpu: (used.user + used.system) / 1e6 };
}

const BEAM_RUN = `
import json, resource, sys, time
from tideline_beam.pipeline import run
from tideline_beam.sinks.memory import MemoryWarehouse
t0 = time.perf_counter()
run(sys.argv[1:])
s = time.perf_counter() - t0
me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"s": s, "cpu": me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime, "rows": len(MemoryWarehouse("pipeline").rows("raw.events")), "rss_mb": me.ru_maxrss / 1024}))
`;

function beam(runner: string): { s: number; cpu: number; rows: number; rss_mb: number } {
  const args = ["-c", BEAM_RUN, "--project", "tideline-local", "--source", "archive", "--from_date", "2026-11-20", "--to_date", "2026-11-23"];
  args.push("--archive_root", ARCHIVE, "--warehouse", "memory", "--runner", runner);
  if (runner === "PrismRunner") args.push("--prism_location", PRISM, "--environment_type", "LOOPBACK");
  const r = spawnSync(PYTHON, args, { cwd: join(process.cwd(), "pipeline/beam"), encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  const last = r.stdout.trim().split("\n").pop() ?? "";
  if (r.status !== 0 || !last.startsWith("{")) throw new Error(`the Beam run on ${runner} failed (exit ${r.status}):\n${r.stderr.slice(-3000)}`);
  return JSON.parse(last);
}

async function main() {
  if (!existsSync(PYTHON)) throw new Error("the Beam pipeline's environment is missing: run bash infra/local/setup.sh beam");
  mkdirSync(ROOT, { recursive: true });
  const { objects } = writeEventArchive(ARCHIVE, EVENTS, PER_OBJECT);
  console.log(`archive: ${EVENTS.toLocaleString("en")} events in ${objects} gzip NDJSON objects`);
  const rate = (n: number, s: number) => Math.round(n / s).toLocaleString("en");
  const sn = await singleNode();
  console.log(`single-node engine → DuckDB:        ${sn.s.toFixed(1)} s, ${rate(EVENTS, sn.s)} events/s, ${rate(EVENTS, sn.cpu)} events/s per CPU-second`);
  for (const runner of RUNNERS) {
    if (runner === "PrismRunner" && !existsSync(PRISM)) {
      console.log(`Beam on PrismRunner: skipped (.tools/bin/prism missing: bash infra/local/setup.sh go)`);
      continue;
    }
    const b = beam(runner);
    // Printed, not thrown: a runner that drops rows is a finding to see beside its figures.
    if (b.rows !== EVENTS) console.log(`Beam on ${runner}: the in-memory warehouse holds ${b.rows.toLocaleString("en")} of ${EVENTS.toLocaleString("en")} events: its figures below do not count a full load`);
    console.log(`Beam on ${runner.padEnd(11)} → memory:   ${b.s.toFixed(1)} s, ${rate(EVENTS, b.s)} events/s, ${rate(EVENTS, b.cpu)} events/s per CPU-second, peak RSS ${b.rss_mb.toFixed(0)} MB`);
  }
  rmSync(ROOT, { recursive: true, force: true });
}

await main();

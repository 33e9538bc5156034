/**
 * `npm run bench:models [-- --events N] [-- --days D]`: a full build of every model over N events
 * (default 10,000,000, over 90 days) of the generated workload on DuckDB, then one more hour of data
 * loaded as the pipeline would and an incremental run, printed side by side.
 * Target: the incremental run takes ≤ 10% of the full build's time.
 * The warehouse lives under .data/scratch/ and is deleted afterwards (pass --keep to keep it).
 */
import { mkdirSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { warehouseDdl } from "../warehouse/duckdb/ddl.js";
import { compileProject } from "../warehouse/models/compile.js";
import { openDuckDbFile } from "../warehouse/models/executor.js";
import { runModels, type RunResult } from "../warehouse/models/run.js";
import { generateWorkload, workloadStats } from "../workload/generate.js";
import { writeWorkloadRows } from "../workload/rows.js";

const DAY_MS = 86_400_000;

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const n = Number(process.argv[i + 1]?.replace(/_/g, ""));
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} needs a positive number`);
  return n;
}

const events = arg("events", 10_000_000);
const days = arg("days", 90);
const seed = arg("seed", 2026);
const start = new Date(Date.UTC(2026, 0, 1));

// Events per visitor of this workload (bots included, redeliveries not), from a sample.
const sample = workloadStats(generateWorkload({ seed, days, users: 3000, start }));
const perVisitor = (sample.events - sample.duplicates) / 3000;
const users = Math.ceil(events / perVisitor);

const dir = resolve(".data/scratch", `bench-models-${process.pid}`);
mkdirSync(dir, { recursive: true });
const exec = await openDuckDbFile(join(dir, "warehouse.duckdb"));
const threads = await exec.query("SELECT current_setting('threads') AS t");
if (process.argv.includes("--no-autocheckpoint")) await exec.run("SET checkpoint_threshold = '100GB'");
const log = (s: string) => process.stderr.write(s + "\n");

try {
  await exec.run(warehouseDdl());
  log(`bench:models — generating ${users.toLocaleString()} visitors (~${events.toLocaleString()} events) over ${days} days into DuckDB (${String(threads[0]?.t)} threads)…`);
  let t = performance.now();
  const base = await writeWorkloadRows(exec, { seed, days, users, start }, {
    loadedAt: new Date(start.getTime() + days * DAY_MS).toISOString(),
    chunkUsers: 50_000,
    onProgress: (done, total, n) => log(`  loaded ${done.toLocaleString()}/${total.toLocaleString()} visitors, ${n.toLocaleString()} events`),
  });
  const loadSeconds = (performance.now() - t) / 1000;

  const graph = await compileProject("duckdb");
  log("full build…");
  const full = await runModels(exec, { graph, fullRefresh: true });

  // One more hour: visitors whose activity starts in the hour after the period, loaded later.
  const hourStart = new Date(start.getTime() + days * DAY_MS);
  const hourUsers = Math.max(1, Math.round(users / (days * 24)));
  t = performance.now();
  const hour = await writeWorkloadRows(exec, { seed: seed + 1, days: 1 / 24, users: hourUsers, start: hourStart }, { loadedAt: new Date(hourStart.getTime() + 2 * 3_600_000).toISOString(), skipCatalogue: true });
  const hourLoadSeconds = (performance.now() - t) / 1000;
  log("incremental run…");
  const inc = await runModels(exec, { graph });

  const rowsOf = (r: RunResult, name: string) => r.results.find((x) => x.name === name)?.rows ?? 0;
  const lines: string[] = [];
  lines.push(`bench:models — DuckDB, ${base.events.toLocaleString()} events (${users.toLocaleString()} visitors, ${base.orders.toLocaleString()} orders, ${days} days); load ${loadSeconds.toFixed(1)} s`);
  lines.push(`then +1 hour: ${hour.events.toLocaleString()} events, ${hour.orders} orders (load ${hourLoadSeconds.toFixed(2)} s); touched partitions: ${inc.touchedDates.join(", ")}; sessions rebuilt from ${String(inc.params.run_session_from?.value)}, features from ${String(inc.params.run_features_from?.value)}`);
  lines.push("");
  lines.push(`${"model".padEnd(36)} ${"full s".padStart(8)} ${"full rows".padStart(12)}   ${"incr s".padStart(8)} ${"incr mode".padStart(11)} ${"incr rows".padStart(12)}`);
  for (const r of full.results.filter((x) => x.kind !== "assertion")) {
    const i = inc.results.find((x) => x.name === r.name);
    lines.push(`${r.name.padEnd(36)} ${r.seconds.toFixed(2).padStart(8)} ${String(r.rows).padStart(12)}   ${(i?.seconds ?? 0).toFixed(2).padStart(8)} ${(i?.mode ?? "-").padStart(11)} ${String(i?.rows ?? "-").padStart(12)}`);
  }
  const checks = (r: RunResult) => r.results.filter((x) => x.kind === "assertion").reduce((s, x) => s + x.seconds, 0);
  lines.push(`${"assertions".padEnd(36)} ${checks(full).toFixed(2).padStart(8)} ${"".padStart(12)}   ${checks(inc).toFixed(2).padStart(8)}`);
  lines.push(`${"TOTAL (compile excluded)".padEnd(36)} ${full.seconds.toFixed(2).padStart(8)} ${"".padStart(12)}   ${inc.seconds.toFixed(2).padStart(8)}`);
  const ratio = inc.seconds / full.seconds;
  lines.push("");
  lines.push(`incremental / full = ${(ratio * 100).toFixed(1)}% (target ≤ 10%: ${ratio <= 0.1 ? "met" : "NOT met"}); sessions ${rowsOf(full, "staging.int_sessions").toLocaleString()} → ${rowsOf(inc, "staging.int_sessions").toLocaleString()}`);
  process.stdout.write(lines.join("\n") + "\n");
} finally {
  await exec.close?.();
  if (!process.argv.includes("--keep")) rmSync(dir, { recursive: true, force: true });
}

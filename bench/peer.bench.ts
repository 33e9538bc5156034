/**
 * `npm run bench:peer`: one load generator, the same Segment /v1/batch bodies at the same concurrency
 * on loopback, against tideline's edge (the Worker in workerd under wrangler, forwarding to the
 * Pub/Sub and Cloud Storage emulators as in `npm start`) and against a peer, in one run. Prints, per
 * target, events/s of wall time, events per CPU-second of the target's server processes ("per core")
 * and p50/p99 request latency.
 *
 * The peer the issue names, RudderStack's rudder-server, is not served by the Go module proxy (every
 * version is refused, see BENCHMARKS.md), and no other Segment-compatible ingestion server is
 * installable from the reachable registries. What runs instead is labelled as what it is: a
 * durable-write floor (bench/peer/pg-floor.ts), the least work rudder-server's gateway does before
 * its 200 (write-key check, JSON parse, one committed INSERT per request into a PostgreSQL jobs
 * table), on PostgreSQL from Debian run as a non-root user with a throwaway data folder.
 *
 * Options (environment): BENCH_REQUESTS (default 400), BENCH_EVENTS_PER_REQUEST (100),
 * BENCH_CONCURRENCY (8), BENCH_SKIP_FLOOR=1 to run tideline alone.
 */
import { execFileSync } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import os from "node:os";
import { performance } from "node:perf_hooks";
import { segmentBatch } from "../test/fixtures/segment-events.js";
import { startStack } from "../test/support/stack.js";
import { startPgFloor } from "./peer/pg-floor-launcher.js";

const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 400);
const PER_REQUEST = Number(process.env.BENCH_EVENTS_PER_REQUEST ?? 100);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 8);
const WARMUP = 20;
const WRITE_KEY = "local_dev_write_key";
const CLK_TCK = Number(execFileSync("getconf", ["CLK_TCK"]).toString().trim());

/** Every live process under `root` (itself included), from /proc: the servers' workers and backends. */
function tree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const stat = procStat(Number(name));
    if (!stat) continue;
    const list = children.get(stat.ppid) ?? [];
    list.push(Number(name));
    children.set(stat.ppid, list);
  }
  const out: number[] = [];
  const walk = (pid: number) => {
    out.push(pid);
    for (const c of children.get(pid) ?? []) walk(c);
  };
  walk(root);
  return out;
}

function procStat(pid: number): { ppid: number; comm: string; cpu: number; reaped: number } | null {
  try {
    const raw = readFileSync(`/proc/${pid}/stat`, "utf8");
    // comm may hold spaces and parentheses: fields start after the last ')'.
    const close = raw.lastIndexOf(")");
    const f = raw.slice(close + 2).split(" ");
    const comm = raw.slice(raw.indexOf("(") + 1, close);
    return { ppid: Number(f[1]), comm, cpu: (Number(f[11]) + Number(f[12])) / CLK_TCK, reaped: (Number(f[13]) + Number(f[14])) / CLK_TCK };
  } catch {
    return null;
  }
}

/** CPU seconds of a set of server processes, children that exited and were reaped included. */
function cpuSeconds(pids: number[]): number {
  let s = 0;
  for (const pid of pids) {
    const st = procStat(pid);
    if (st) s += st.cpu + st.reaped;
  }
  return s;
}

interface Target {
  name: string;
  url: string;
  /** The server processes whose CPU counts. */
  pids: () => number[];
}

function bodies(seedBase: number, n: number): string[] {
  return Array.from({ length: n }, (_, i) => JSON.stringify(segmentBatch(PER_REQUEST, seedBase + i)));
}

async function load(target: Target, payloads: string[]) {
  const auth = `Basic ${Buffer.from(`${WRITE_KEY}:`).toString("base64")}`;
  const latencies: number[] = [];
  let next = 0;
  let failed = 0;
  let firstFailure = "";
  const worker = async (w: number) => {
    // One client IP per connection, as distinct SDK clients would be (the edge rate-limits per key and IP).
    const ip = `198.51.100.${w + 1}`;
    for (let i = next++; i < payloads.length; i = next++) {
      const t0 = performance.now();
      const res = await fetch(`${target.url}/v1/batch`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: auth, "cf-connecting-ip": ip, "x-real-ip": ip },
        body: payloads[i],
      });
      const text = await res.text();
      latencies.push(performance.now() - t0);
      if (res.status !== 200) {
        failed++;
        firstFailure ||= `${res.status} ${text.slice(0, 200)}`;
      }
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, (_, w) => worker(w)));
  return { wallMs: performance.now() - t0, latencies, failed, firstFailure };
}

/**
 * Waits until the target's processes stop using CPU (queue consumers, checkpoints finish the work):
 * two quiet seconds in a row, since the edge's queue holds a partial batch for up to a second.
 */
async function settle(pids: number[], maxMs = 30_000): Promise<void> {
  const end = Date.now() + maxMs;
  let last = cpuSeconds(pids);
  let quiet = 0;
  while (Date.now() < end && quiet < 2) {
    await new Promise((r) => setTimeout(r, 1000));
    const now = cpuSeconds(pids);
    quiet = now - last < 0.02 ? quiet + 1 : 0;
    last = now;
  }
}

function pct(sorted: number[], p: number) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function measure(target: Target, seedBase: number) {
  await load(target, bodies(seedBase + 1_000_000, WARMUP));
  const payloads = bodies(seedBase, REQUESTS);
  const pids = target.pids();
  await settle(pids, 10_000);
  const cpu0 = cpuSeconds(pids);
  const run = await load(target, payloads);
  await settle(pids);
  const cpu = cpuSeconds(pids) - cpu0;
  const sorted = [...run.latencies].sort((a, b) => a - b);
  const events = REQUESTS * PER_REQUEST;
  return {
    name: target.name,
    processes: pids.length,
    events,
    failed: run.failed,
    firstFailure: run.firstFailure,
    eventsPerSec: events / (run.wallMs / 1000),
    cpu,
    eventsPerCpuSec: events / cpu,
    p50: pct(sorted, 50),
    p99: pct(sorted, 99),
  };
}

async function main() {
  console.log(
    `peer bench: ${REQUESTS} requests × ${PER_REQUEST} events (Segment /v1/batch, Basic write key), concurrency ${CONCURRENCY}, loopback; ` +
      `Node ${process.version}, ${os.cpus().length} cores (${os.cpus()[0]?.model ?? "?"}), load average ${os.loadavg().map((l) => l.toFixed(1)).join(" ")}`,
  );
  const results: Awaited<ReturnType<typeof measure>>[] = [];

  const stack = await startStack();
  try {
    // workerd is started by wrangler inside this process: its process tree is the edge's server side.
    const workerdPids = () => tree(process.pid).filter((pid) => procStat(pid)?.comm.startsWith("workerd"));
    if (!workerdPids().length) throw new Error("peer bench: no workerd process found under this process; the edge did not start as expected");
    results.push(await measure({ name: "tideline edge (workerd)", url: stack.edgeUrl, pids: workerdPids }, 1));
  } finally {
    await stack.stop();
  }

  if (process.env.BENCH_SKIP_FLOOR !== "1") {
    const floor = await startPgFloor({ writeKey: WRITE_KEY });
    try {
      results.push(await measure({ name: "durable-write floor (Node + PostgreSQL)", url: floor.url, pids: () => floor.roots.flatMap(tree) }, 1));
      console.log(`  floor: ${await floor.rows()} rows in its jobs table (one per accepted request)`);
    } finally {
      await floor.stop();
    }
  }

  console.log("");
  console.log("| target | events | non-200 | events/s (wall) | server CPU s | events per CPU-second | p50 ms | p99 ms |");
  console.log("|---|---:|---:|---:|---:|---:|---:|---:|");
  for (const r of results) {
    console.log(
      `| ${r.name} | ${r.events.toLocaleString("en")} | ${r.failed} | ${Math.round(r.eventsPerSec).toLocaleString("en")} | ${r.cpu.toFixed(2)} | ` +
        `${Math.round(r.eventsPerCpuSec).toLocaleString("en")} | ${r.p50.toFixed(1)} | ${r.p99.toFixed(1)} |`,
    );
  }
  const bad = results.filter((r) => r.failed > 0);
  for (const r of bad) console.error(`${r.name}: ${r.failed} requests were not answered 200 (first: ${r.firstFailure}); the figures above count them as sent.`);
  if (bad.length) process.exitCode = 1;
}

await main();

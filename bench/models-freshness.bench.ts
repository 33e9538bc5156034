/**
 * `npm run bench:freshness [-- --interval S] [-- --seconds N]`: how fresh the local marts stay on
 * their own. Starts the local platform (`tideline start`, free ports, a scratch data folder) with
 * TIDELINE_MODELS_INTERVAL=S (default 30), sends one event every 2 s through the edge for N seconds
 * (default 300), each from a new visitor, and times when each visitor's session appears in
 * marts.sessions. Target: edge → marts p95 ≤ 60 s at interval 30 s.
 */
import { spawn } from "node:child_process";
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { REPO_ROOT, freePort } from "../infra/local/settings.js";

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const n = Number(process.argv[i + 1]);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} needs a positive number`);
  return n;
}

const interval = arg("interval", 30);
const seconds = arg("seconds", 300);
const SEND_EVERY_MS = 2000;
const POLL_MS = 1000;
// The edge flags non-browser user agents as bots, which the models leave out.
const BROWSER = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36";

const dataDir = join(REPO_ROOT, ".data/scratch", `bench-freshness-${process.pid}`);
mkdirSync(dataDir, { recursive: true });
const ports = { edge: await freePort(), pubsub: await freePort(), gcs: await freePort(), api: await freePort() };
const child = spawn(process.execPath, [join(REPO_ROOT, "bin/tideline.js"), "start"], {
  cwd: REPO_ROOT,
  detached: true,
  stdio: ["ignore", "pipe", "pipe"],
  env: {
    ...process.env,
    TIDELINE_DATA_DIR: dataDir,
    TIDELINE_EDGE_PORT: String(ports.edge),
    TIDELINE_PUBSUB_PORT: String(ports.pubsub),
    TIDELINE_GCS_PORT: String(ports.gcs),
    TIDELINE_DASHBOARD_PORT: String(ports.api),
    TIDELINE_MODELS_INTERVAL: String(interval),
  },
});
const scheduleLines: string[] = [];
const ready = new Promise<void>((resolve, reject) => {
  let out = "";
  const onData = (b: Buffer) => {
    out += b.toString();
    for (const l of b.toString().split("\n")) if (l.includes("models schedule: run")) scheduleLines.push(l.trim());
    if (out.includes("ready. Listening")) resolve();
  };
  child.stdout!.on("data", onData);
  child.stderr!.on("data", onData);
  child.once("exit", (code) => reject(new Error(`the platform exited (${code}) before it was ready:\n${out.slice(-3000)}`)));
});

const stop = async () => {
  if (child.exitCode === null) {
    const exited = new Promise((r) => child.once("exit", r));
    process.kill(-child.pid!, "SIGINT");
    await Promise.race([exited, new Promise((r) => setTimeout(r, 30_000))]);
    if (child.exitCode === null) process.kill(-child.pid!, "SIGKILL");
  }
  rmSync(dataDir, { recursive: true, force: true });
};

async function visibleVisitors(tag: string): Promise<string[]> {
  const res = await fetch(`http://127.0.0.1:${ports.api}/api/query`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ sql: `SELECT visitor_id FROM marts.sessions WHERE visitor_id LIKE 'fresh-${tag}-%'` }),
  });
  if (!res.ok) return [];
  return ((await res.json()) as { rows: { visitor_id: string }[] }).rows.map((r) => r.visitor_id);
}

try {
  const t0 = Date.now();
  await ready;
  console.log(`platform ready in ${((Date.now() - t0) / 1000).toFixed(1)} s; models every ${interval} s; sending one event every ${SEND_EVERY_MS / 1000} s for ${seconds} s`);
  const tag = Math.random().toString(36).slice(2, 8);
  const sentAt = new Map<string, number>();
  const seenAt = new Map<string, number>();
  const sendUntil = Date.now() + seconds * 1000;
  let i = 0;
  const sender = (async () => {
    while (Date.now() < sendUntil) {
      const visitor = `fresh-${tag}-${i++}`;
      const before = Date.now();
      const res = await fetch(`http://127.0.0.1:${ports.edge}/v1/track`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Basic ${Buffer.from("local_dev_write_key:").toString("base64")}`, "user-agent": BROWSER },
        body: JSON.stringify({ event: "Product Viewed", anonymousId: visitor, properties: { sku: "SKU-1" } }),
      });
      if (res.ok) sentAt.set(visitor, Date.now());
      await new Promise((r) => setTimeout(r, Math.max(0, SEND_EVERY_MS - (Date.now() - before))));
    }
  })();
  const pollUntil = sendUntil + (2 * interval + 60) * 1000;
  while (Date.now() < pollUntil) {
    const now = Date.now();
    for (const v of await visibleVisitors(tag)) if (!seenAt.has(v)) seenAt.set(v, now);
    if (Date.now() > sendUntil && seenAt.size >= sentAt.size) break;
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  await sender;
  const lags = [...sentAt].filter(([v]) => seenAt.has(v)).map(([v, t]) => (seenAt.get(v)! - t) / 1000).sort((a, b) => a - b);
  const q = (p: number) => lags[Math.min(lags.length - 1, Math.ceil(p * lags.length) - 1)] ?? NaN;
  console.log(`events sent: ${sentAt.size}; in marts.sessions: ${lags.length}; never seen: ${sentAt.size - lags.length}`);
  console.log(`edge → marts freshness: p50 ${q(0.5).toFixed(1)} s, p95 ${q(0.95).toFixed(1)} s, max ${q(1).toFixed(1)} s (interval ${interval} s; target p95 ≤ 60 s at 30 s)`);
  console.log(`scheduled runs: ${scheduleLines.length}; the last: ${scheduleLines.at(-1) ?? "none"}`);
} finally {
  await stop();
}

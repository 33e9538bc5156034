/**
 * `npm run bench:freshness [-- --interval S] [-- --seconds N]`: how fresh the local marts stay on
 * their own. Starts the local platform (`tideline start`, free ports, a scratch data folder) with
 * TIDELINE_MODELS_INTERVAL=S (default 30), sends one event every 2 s through the edge for N seconds
 * (default 300), each from a new visitor, and times when each visitor's session appears in
 * marts.sessions. Target: edge → marts p95 ≤ 60 s at interval 30 s.
 */
import { createPlatform } from "../test/proof/platform.js";

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

const platform = await createPlatform({ name: "bench-freshness", env: { TIDELINE_MODELS_INTERVAL: String(interval) } });

async function visibleVisitors(tag: string): Promise<string[]> {
  const rows = await platform.query<{ visitor_id: string }>(`SELECT visitor_id FROM marts.sessions WHERE visitor_id LIKE 'fresh-${tag}-%'`).catch(() => []);
  return rows.map((r) => r.visitor_id);
}

try {
  const t0 = Date.now();
  await platform.start();
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
      const res = await fetch(`${platform.edgeUrl}/v1/track`, {
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
  const scheduleLines = platform.log().split("\n").filter((l) => l.includes("models schedule: run")).map((l) => l.trim());
  console.log(`scheduled runs: ${scheduleLines.length}; the last: ${scheduleLines.at(-1) ?? "none"}`);
} finally {
  await platform.dispose();
}

import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { archiveGiBByClass, costMarkdown, estimate, PRICES, type CostEstimate } from "../../infra/cost/model.js";

const run = promisify(execFile);
const cli = (...args: string[]) =>
  run(process.execPath, ["--import", "tsx", "bin/tideline.ts", "cost", ...args], { env: { ...process.env, NO_COLOR: "1" } }).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => e,
  );

describe("tideline cost", () => {
  it("prints each component for streaming and micro-batch, with totals, latency and the price date (--json)", async () => {
    const r = await cli("--events-per-day", "10M", "--json");
    expect(r.code).toBe(0);
    const e = JSON.parse(r.stdout) as CostEstimate;
    expect(e.eventsPerDay).toBe(10_000_000);
    expect(e.lines.map((l) => l.component)).toEqual([
      "Cloudflare Workers",
      "Cloudflare Queues",
      "Pub/Sub",
      "Cloud Storage (raw archive)",
      "Dataflow",
      "BigQuery writes (dedup statements)",
      "BigQuery storage",
      "BigQuery queries (analysts + models)",
      "Composer 3",
    ]);
    expect(e.total.streaming).toBeCloseTo(e.lines.reduce((s, l) => s + l.streaming, 0), 1);
    expect(e.total.microBatch).toBeCloseTo(e.lines.reduce((s, l) => s + l.microBatch, 0), 1);
    expect(e.latency.streaming).toMatch(/seconds/);
    expect(e.latency.microBatch).toMatch(/15 min between runs/);
    expect(e.pricesCompiled).toBe(PRICES.compiled);
  });

  it("rejects nonsense with a usage line", async () => {
    // Each case is its own process; they run side by side so a busy machine waits once, not five times.
    const bads = ["-5", "abc", "5 M"];
    const [missing, badBytes, ...results] = await Promise.all([cli("--json"), cli("--events-per-day", "1M", "--event-bytes", "-1"), ...bads.map((b) => cli("--events-per-day", b))]);
    results.forEach((r, i) => {
      expect(r.code, bads[i]).not.toBe(0);
      expect(r.stderr, bads[i]).toContain("usage: npx tideline cost --events-per-day");
      expect(r.stdout, bads[i]).toBe("");
    });
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain("--events-per-day");
    expect(badBytes.stderr).toContain("--event-bytes must be a whole number");
  }, 180_000);

  it("prints a readable table", async () => {
    const r = await cli("--events-per-day", "1,000,000");
    expect(r.stdout).toMatch(/^tideline monthly cost for 1,000,000 events\/day/);
    expect(r.stdout).toMatch(/total per month\s+\$[\d,.]+\s+\$[\d,.]+/);
  });
});

describe("the cost model", () => {
  it("moves archive months through the lifecycle classes", () => {
    expect(archiveGiBByClass(10, 0)).toEqual({ STANDARD: 10, NEARLINE: 0, COLDLINE: 0, ARCHIVE: 0 });
    expect(archiveGiBByClass(10, 24)).toEqual({ STANDARD: 10, NEARLINE: 20, COLDLINE: 100, ARCHIVE: 120 });
  });

  it("grows with volume, and the streaming dedup scans grow fastest", () => {
    const small = estimate(1e6);
    const big = estimate(1e8);
    expect(big.total.streaming).toBeGreaterThan(small.total.streaming);
    const dedup = (e: CostEstimate) => e.lines.find((l) => l.component.startsWith("BigQuery writes"))!;
    expect(dedup(big).streaming / dedup(small).streaming).toBeGreaterThan(50);
    expect(dedup(big).microBatch).toBeLessThan(dedup(big).streaming);
    expect(() => estimate(-1)).toThrow(RangeError);
  });

  it("is what docs/cost.md shows", () => {
    const doc = readFileSync("docs/cost.md", "utf8");
    expect(doc).toContain(costMarkdown());
    expect(doc).toContain(`list prices of ${PRICES.compiled}`);
  });

  it("dates its prices and names a source for each group", () => {
    expect(PRICES.compiled).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    for (const [k, v] of Object.entries(PRICES)) {
      if (typeof v === "object" && v !== null) expect((v as { source?: string }).source, k).toMatch(/^https:\/\//);
    }
  });
});

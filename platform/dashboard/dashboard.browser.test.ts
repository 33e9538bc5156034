/**
 * The dashboard in Debian's Chromium (driven by playwright-core) against the operator API on a real
 * DuckDB warehouse: a seeded workload for yesterday and today with the models built on it.
 * Screenshot: .data/artifacts/dashboard.png.
 */
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO_ROOT } from "../../infra/local/settings.js";
import { asMessage, eventRecord } from "../../pipeline/testing/records.js";
import { DEFAULT_BATCH_OPTIONS, finishBatch, lookupOf, prepareBatch } from "../../pipeline/transforms/batch.js";
import { DuckDbSink } from "../../warehouse/duckdb/sink.js";
import { queryInstance } from "../../warehouse/duckdb/query.js";
import { openDuckDbFile } from "../../warehouse/models/executor.js";
import { runModels } from "../../warehouse/models/run.js";
import { warehouseDdl } from "../../warehouse/duckdb/ddl.js";
import { writeWorkloadRows } from "../../workload/rows.js";
import { startOperatorApi, type OperatorApiServer } from "../api/server.js";
import type { OperatorPorts } from "../api/ports.js";
import { addDays, panelSql, PANEL_IDS } from "./panels.js";

const CHROMIUM = process.env.TIDELINE_CHROMIUM ?? "/usr/bin/chromium";
const ARTIFACTS = join(REPO_ROOT, ".data/artifacts");
const run = promisify(execFile);

const today = new Date().toISOString().slice(0, 10);
const yesterday = addDays(today, -1);

interface Served {
  dir: string;
  sink: DuckDbSink;
  api: OperatorApiServer;
  close(): Promise<void>;
}

/** The operator API over a DuckDB file held by a sink, as the pipeline service serves it. */
async function serve(dir: string, path: string): Promise<Served> {
  const sink = await DuckDbSink.open(path, { serveQueries: true });
  await sink.init();
  const refuse = async () => {
    throw new Error("not part of this test");
  };
  const ports: OperatorPorts = { warehouse: path, query: (sql, limits) => queryInstance(sink.instance, sql, limits), status: () => null, backfill: refuse, runModels: refuse };
  const api = await startOperatorApi({ ports, port: 0, tokenFile: join(dir, "operator-api.token") });
  return {
    dir,
    sink,
    api,
    async close() {
      await api.close();
      await sink.close();
    },
  };
}

/** `npx tideline query --json` in its own process, pointed at the running API (it holds the file). */
async function cliQuery(s: Served, sql: string): Promise<Record<string, unknown>[]> {
  const { stdout } = await run(process.execPath, ["--import", "tsx", "bin/tideline.ts", "query", "--json", sql], {
    cwd: REPO_ROOT,
    env: { ...process.env, TIDELINE_DATA_DIR: s.dir, TIDELINE_DASHBOARD_PORT: String(s.api.port), NO_COLOR: "1" },
    maxBuffer: 64 << 20,
  });
  return JSON.parse(stdout) as Record<string, unknown>[];
}

/** The page's numbers of one panel: column → data-value per row. */
async function panelValues(page: Page, id: string): Promise<Record<string, string>[]> {
  return page.$$eval(`#panel-${id} tr[data-row]`, (trs) =>
    trs.map((tr) => Object.fromEntries([...tr.querySelectorAll("a.num")].map((a) => [(a as HTMLElement).dataset.col!, (a as HTMLElement).dataset.value!]))),
  );
}

async function kpiValues(page: Page): Promise<Record<string, string>> {
  return page.$$eval("#panel-kpis .kpi", (kpis) => Object.fromEntries(kpis.map((k) => [(k as HTMLElement).dataset.kpi!, (k.querySelector(".today a.num") as HTMLElement | null)?.dataset.value ?? "—"])));
}

const asStrings = (rows: Record<string, unknown>[], cols: string[]) => rows.map((r) => Object.fromEntries(cols.map((c) => [c, String(r[c])])));

describe("the dashboard in Chromium", () => {
  let browser: Browser;
  let served: Served;
  let scratch: string;
  const consoleErrors: string[] = [];

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(`Chromium is missing at ${CHROMIUM}: run \`bash infra/local/setup.sh apt\` (it installs Debian's chromium; CI has it), or set TIDELINE_CHROMIUM`);
    }
    mkdirSync(join(REPO_ROOT, ".data/scratch"), { recursive: true });
    scratch = mkdtempSync(join(REPO_ROOT, ".data/scratch/dashboard-"));
    const path = join(scratch, "warehouse.duckdb");
    const exec = await openDuckDbFile(path);
    await exec.run(warehouseDdl());
    await writeWorkloadRows(exec, { seed: 14, users: 150, days: 2, start: new Date(`${yesterday}T00:00:00Z`) }, { loadedAt: new Date().toISOString() });
    await runModels(exec, {});
    await exec.close?.();
    served = await serve(scratch, path);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"] });
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    await served?.close();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  async function open(url: string): Promise<Page> {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1800 } });
    page.on("console", (m) => {
      if (m.type() === "error") consoleErrors.push(m.text());
    });
    page.on("pageerror", (e) => consoleErrors.push(e.message));
    await page.goto(url);
    return page;
  }

  it("loads with no console errors, its figures equal `tideline query`, new events appear without a reload, and a date-range change updates every panel", async () => {
    const page = await open(`${served.api.url}/?from=${yesterday}&to=${today}`);
    await page.waitForSelector(`body[data-loaded="${yesterday}..${today}"]`, { timeout: 30_000 });
    for (const id of [...PANEL_IDS, "counters"]) expect(await page.getAttribute(`#panel-${id}`, "data-range"), id).toBe(`${yesterday}..${today}`);
    expect(await page.$$eval("section.panel[data-state=error]", (s) => s.map((x) => x.id))).toEqual([]);

    const range = { from: yesterday, to: today };
    const [kpis, live, channels] = await Promise.all([
      cliQuery(served, panelSql("kpis", range).sql),
      cliQuery(served, panelSql("live_totals", range).sql),
      cliQuery(served, panelSql("channels", range).sql),
    ]);
    const todayKpis = kpis.find((r) => r.day === today)!;
    expect(Number(todayKpis.sessions)).toBeGreaterThan(0);
    expect(await kpiValues(page)).toEqual(Object.fromEntries(["sessions", "users", "orders", "gross_revenue", "net_revenue", "conversion_rate", "average_order_value"].map((c) => [c, String(todayKpis[c])])));
    const liveCols = ["events", "orders", "revenue", "late_events"];
    expect(await panelValues(page, "live_totals")).toEqual(asStrings(live, liveCols));
    const channelCols = ["sessions", "first_touch_orders", "first_touch_revenue", "last_non_direct_orders", "last_non_direct_revenue"];
    expect(await panelValues(page, "channels")).toEqual(asStrings(channels, channelCols));
    expect(await page.$$eval(".uplot canvas", (c) => c.length)).toBeGreaterThan(0);

    // Every number opens the SQL that produced it.
    await page.click("#panel-funnel a.num");
    expect(await page.$eval("#sql-funnel", (d) => (d as HTMLDetailsElement).open)).toBe(true);
    expect(await page.textContent("#sql-funnel pre")).toContain("FROM marts.funnel_daily");

    // New events, committed as the pipeline commits them, show up without a reload.
    await page.evaluate(() => ((window as unknown as { marker: number }).marker = 1));
    const eventsBefore = Number((await panelValues(page, "live_totals")).length ? live.find((r) => r.stream === "events")?.events : 0);
    const now = new Date().toISOString();
    const prepared = prepareBatch([3, 8, 13].map((i) => asMessage("events", eventRecord(900_000 + i, now))), now);
    await served.sink.commit(finishBatch(prepared, await served.sink.lookup(lookupOf(prepared)), DEFAULT_BATCH_OPTIONS, now), { persistWatermarks: true });
    await page.waitForFunction(
      (want) => {
        const cell = [...document.querySelectorAll("#panel-live_totals tr[data-row]")].find((tr) => tr.querySelector("td")?.textContent === "events");
        return cell && Number((cell.querySelector('a.num[data-col="events"]') as HTMLElement).dataset.value) === want;
      },
      eventsBefore + 3,
      { timeout: 20_000 },
    );
    expect(await page.evaluate(() => (window as unknown as { marker?: number }).marker)).toBe(1);
    const orders = await cliQuery(served, "SELECT SUM(orders) AS orders FROM ops.realtime_metrics WHERE stream = 'events'");
    expect(Number(orders[0]!.orders)).toBe(Number(live.find((r) => r.stream === "events")!.orders) + 3);

    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, "dashboard.png"), fullPage: true });

    // A date-range change re-reads every panel for the new range.
    const funnelBefore = await panelValues(page, "funnel");
    await page.fill("#from", yesterday);
    await page.fill("#to", yesterday);
    await page.click("#range button[type=submit]");
    await page.waitForSelector(`body[data-loaded="${yesterday}..${yesterday}"]`, { timeout: 30_000 });
    for (const id of [...PANEL_IDS, "counters"]) expect(await page.getAttribute(`#panel-${id}`, "data-range"), id).toBe(`${yesterday}..${yesterday}`);
    const one = { from: yesterday, to: yesterday };
    const [kpis1, live1] = await Promise.all([cliQuery(served, panelSql("kpis", one).sql), cliQuery(served, panelSql("live_totals", one).sql)]);
    expect((await kpiValues(page)).sessions).toBe(String(kpis1.find((r) => r.day === yesterday)!.sessions));
    expect(await panelValues(page, "live_totals")).toEqual(asStrings(live1, liveCols));
    expect(await panelValues(page, "funnel")).not.toEqual(funnelBefore);
    expect(await page.textContent("#panel-kpis h2")).toContain(yesterday);

    expect(consoleErrors).toEqual([]);
    await page.close();
  }, 180_000);

  it("on an empty warehouse says what to do in each panel, never a stack trace", async () => {
    const dir = mkdtempSync(join(REPO_ROOT, ".data/scratch/dashboard-empty-"));
    const empty = await serve(dir, join(dir, "warehouse.duckdb"));
    try {
      const page = await open(`${empty.api.url}/`);
      await page.waitForSelector(`body[data-loaded="${today}..${today}"]`, { timeout: 30_000 });
      const text = (await page.textContent("main")) ?? "";
      expect(await page.textContent("#panel-kpis .error")).toContain("npx tideline models run");
      expect(await page.textContent("#panel-models .error")).toContain("npx tideline models run");
      expect(await page.textContent("#panel-live_totals .empty")).toContain("npx tideline generate");
      expect(text).not.toMatch(/\n\s+at \S+ \(|node_modules/);
      expect(consoleErrors).toEqual([]);
      await page.close();
    } finally {
      await empty.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});

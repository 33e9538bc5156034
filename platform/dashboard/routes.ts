/**
 * The dashboard at GET /: one HTML page, its script and styles, and uPlot (the charting library)
 * served from the installed npm package, so the page works offline. The page reads
 * GET /api/dashboard, which runs each panel's SQL (panels.ts) through the operator API's query port
 * and answers per panel: its SQL, its rows, or what went wrong and what to do. A panel that fails
 * (no warehouse yet, models not built, the warehouse busy) never takes the others with it.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { OpenAPIHono } from "@hono/zod-openapi";
import type { Handler } from "hono";
import { zValidator } from "@hono/zod-validator";
import { QueryError } from "../../warehouse/duckdb/query.js";
import { invalidInput } from "../api/errors.js";
import type { OperatorPorts } from "../api/ports.js";
import { DashboardQuery, panelSql, type PanelId } from "./panels.js";

const STATIC_DIR = join(dirname(fileURLToPath(import.meta.url)), "static");
const uplotDist = dirname(createRequire(import.meta.url).resolve("uplot/dist/uPlot.iife.min.js"));

interface Asset {
  type: string;
  body: string;
}

/** Read once at start: the page's files are part of the installed code, not user data. */
function loadAssets(): Map<string, Asset> {
  return new Map([
    ["uplot.js", { type: "text/javascript; charset=utf-8", body: readFileSync(join(uplotDist, "uPlot.iife.min.js"), "utf8") }],
    ["uplot.css", { type: "text/css; charset=utf-8", body: readFileSync(join(uplotDist, "uPlot.min.css"), "utf8") }],
    ["dashboard.js", { type: "text/javascript; charset=utf-8", body: readFileSync(join(STATIC_DIR, "dashboard.js"), "utf8") }],
    ["dashboard.css", { type: "text/css; charset=utf-8", body: readFileSync(join(STATIC_DIR, "dashboard.css"), "utf8") }],
  ]);
}

// The page's own files only; uPlot sets element styles from script, which style-src does not govern.
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

export const dashboardPage: Handler = (c) => {
  c.header("content-security-policy", CSP);
  return c.html(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>tideline dashboard</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/assets/uplot.css">
<link rel="stylesheet" href="/assets/dashboard.css">
</head>
<body>
<header>
  <h1>tideline</h1>
  <form id="range">
    <label>from <input type="date" id="from" name="from" required></label>
    <label>to <input type="date" id="to" name="to" required></label>
    <button type="submit">show</button>
  </form>
  <span id="status" role="status"></span>
</header>
<main id="panels"></main>
<script src="/assets/uplot.js"></script>
<script src="/assets/dashboard.js"></script>
</body>
</html>`);
};

export interface PanelAnswer {
  id: PanelId;
  title: string;
  note: string;
  sql: string;
  columns: { name: string; type: string }[];
  rows: Record<string, unknown>[];
  truncated: boolean;
  error?: { code: string; message: string; hint: string };
}

const CATALOG_HINT = "this table appears once the pipeline has loaded data (npm start, then send events: `npx tideline generate`) and the models have run (`npx tideline models run`)";

/** What went wrong in one panel, in words the page can show: never a stack. */
function panelError(e: unknown): NonNullable<PanelAnswer["error"]> {
  if (e instanceof QueryError) {
    const hint = e.hint ?? (/Catalog Error/i.test(e.message) ? CATALOG_HINT : "the SQL is shown below; run it with `npx tideline query` to see DuckDB's full answer");
    return { code: e.code, message: e.message, hint };
  }
  const message = e instanceof Error ? e.message : String(e);
  if (/lock/i.test(message)) return { code: "unavailable", message, hint: "another process holds the warehouse (a CLI backfill or models run): wait for it to finish and reload" };
  return { code: "internal", message, hint: "see the output of `npm start`" };
}

export function mountDashboard(app: OpenAPIHono, ports: OperatorPorts, queryTimeoutMs: number): void {
  const assets = loadAssets();
  app.get("/assets/:name", (c) => {
    const a = assets.get(c.req.param("name"));
    if (!a) return c.json({ error: { code: "not_found", message: `no asset ${c.req.param("name").slice(0, 60)}`, hint: "the page loads /assets/dashboard.js, dashboard.css, uplot.js and uplot.css" } }, 404);
    c.header("content-type", a.type);
    c.header("cache-control", "no-cache");
    return c.body(a.body);
  });

  app.get(
    "/api/dashboard",
    zValidator("query", DashboardQuery, (result) => {
      if (!result.success) throw invalidInput(result.error);
    }),
    async (c) => {
      const q = c.req.valid("query");
      const panels: PanelAnswer[] = [];
      // One after another: the warehouse is one DuckDB process that the pipeline also writes to.
      for (const id of q.panels) {
        const spec = panelSql(id, q);
        try {
          const r = await ports.query(spec.sql, { timeoutMs: queryTimeoutMs, maxRows: 10_000 });
          panels.push({ ...spec, columns: r.columns, rows: r.rows, truncated: r.truncated });
        } catch (e) {
          panels.push({ ...spec, columns: [], rows: [], truncated: false, error: panelError(e) });
        }
      }
      const run = ports.lastModelsRun?.() ?? null;
      c.header("cache-control", "no-store");
      return c.json({
        range: { from: q.from, to: q.to },
        warehouse: ports.warehouse,
        generatedAt: new Date().toISOString(),
        panels,
        pipeline: ports.status(),
        lastModelsRun: run && {
          finishedAt: run.finishedAt,
          fullRefresh: run.result.fullRefresh,
          seconds: run.result.seconds,
          assertions: run.result.results.filter((r) => r.kind === "assertion").map((r) => ({ name: r.name, failingRows: r.rows ?? 0 })),
          warnings: run.result.warnings,
        },
      });
    },
  );
}

/** GET /api/dashboard and the page's assets, through the operator API app (no browser, no network). */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { QueryError } from "../../warehouse/duckdb/query.js";
import { createOperatorApi } from "../api/app.js";
import { fakePorts, type FakePorts } from "../api/testing/fake-ports.js";
import { PANEL_IDS } from "./panels.js";

const PORT = 3999;
const TOKEN = "test-token-0123456789";
let ports: FakePorts;

beforeAll(async () => {
  ports = await fakePorts();
});
afterAll(() => ports.close());

function call(app: ReturnType<typeof createOperatorApi>, path: string, headers: Record<string, string> = {}) {
  return app.request(path, { headers: { host: `127.0.0.1:${PORT}`, authorization: `Bearer ${TOKEN}`, ...headers } });
}
const appWith = (p: FakePorts | Parameters<typeof createOperatorApi>[0]["ports"]) => createOperatorApi({ ports: p, token: TOKEN, tokenFile: ".data/operator-api.token", port: () => PORT, queryTimeoutMs: 1_000 });

interface Answer {
  panels: { id: string; sql: string; rows: unknown[]; error?: { code: string; message: string; hint: string } }[];
}

describe("GET /api/dashboard", () => {
  it("names the bad field: a non-date, a reversed range, an unknown panel", async () => {
    const app = appWith(ports);
    for (const [qs, field] of [
      ["from=2026-13-01&to=2026-12-01", "from"],
      ["from=2026-12-02&to=2026-12-01", "from"],
      ["from=2024-01-01&to=2026-12-01", "to"],
      ["from=2026-12-01&to=2026-12-01&panels=kpis,nope", "panels"],
      ["to=2026-12-01", "from"],
    ] as const) {
      const r = await call(app, `/api/dashboard?${qs}`);
      expect(r.status, qs).toBe(400);
      const e = ((await r.json()) as { error: { code: string; message: string } }).error;
      expect(e.code).toBe("invalid_request");
      expect(e.message).toContain(`${field}:`);
    }
  });

  it("needs the token or the page's cookie like every /api route", async () => {
    const r = await call(appWith(ports), "/api/dashboard?from=2026-12-01&to=2026-12-01", { authorization: "" });
    expect(r.status).toBe(401);
  });

  it("answers every panel with its SQL; a table the models have not built is that panel's error with what to do, not a 5xx", async () => {
    const r = await call(appWith(ports), "/api/dashboard?from=2026-11-30&to=2026-12-01");
    expect(r.status).toBe(200);
    const a = (await r.json()) as Answer;
    expect(a.panels.map((p) => p.id)).toEqual([...PANEL_IDS]);
    const kpis = a.panels.find((p) => p.id === "kpis")!;
    expect(kpis.sql).toContain("DATE '2026-12-01'");
    expect(kpis.error).toMatchObject({ code: "not_built" });
    expect(kpis.error!.hint).toContain("npx tideline models run");
    const models = a.panels.find((p) => p.id === "models")!;
    expect(models.error!.hint).toContain("npx tideline models run");
  });

  it("a warehouse another process holds: each panel says to wait, the answer is still 200", async () => {
    const held = { ...ports, query: async () => Promise.reject(new QueryError("the warehouse is locked by another process (pid 4242)", "unavailable", "wait for the backfill or models run to finish")) };
    const r = await call(appWith(held), "/api/dashboard?from=2026-12-01&to=2026-12-01&panels=live_totals,kpis");
    expect(r.status).toBe(200);
    const a = (await r.json()) as Answer;
    expect(a.panels.map((p) => p.error?.code)).toEqual(["unavailable", "unavailable"]);
    expect(a.panels[0]!.error!.hint).toContain("wait");
    const raw = { ...ports, query: async () => Promise.reject(new Error("IO Error: Could not set lock on file \"w.duckdb\": Conflicting lock is held")) };
    const b = (await (await call(appWith(raw), "/api/dashboard?from=2026-12-01&to=2026-12-01&panels=kpis")).json()) as Answer;
    expect(b.panels[0]!.error).toMatchObject({ code: "unavailable" });
    expect(b.panels[0]!.error!.hint).toMatch(/wait/);
  });
});

describe("the page and its assets", () => {
  it("serves the page with a same-origin-only CSP, and uPlot and its own files without a token", async () => {
    const app = appWith(ports);
    const page = await call(app, "/", { authorization: "" });
    expect(page.status).toBe(200);
    expect(page.headers.get("content-security-policy")).toContain("default-src 'none'");
    const html = await page.text();
    for (const src of ["/assets/uplot.js", "/assets/dashboard.js", "/assets/uplot.css", "/assets/dashboard.css"]) {
      expect(html).toContain(src);
      const a = await call(app, src, { authorization: "" });
      expect(a.status, src).toBe(200);
      expect((await a.text()).length, src).toBeGreaterThan(500);
    }
    expect(html).not.toMatch(/https?:\/\/(?!127\.0\.0\.1)/);
    expect((await call(app, "/assets/../../package.json", { authorization: "" })).status).toBe(404);
    expect((await call(app, "/assets/nope.js", { authorization: "" })).status).toBe(404);
  });
});

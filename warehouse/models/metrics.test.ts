/** The metrics layer: one definition per metric, which marts.daily_kpis, the dashboard's SQL and docs/metrics.md all follow. */
import { readFileSync } from "node:fs";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { compileProject, type CompiledGraph } from "./compile.js";
import { dailyMetricsSql, METRICS, METRICS_DOC, metricsDoc } from "./metrics.js";
import { runModels } from "./run.js";
import type { TestWarehouse } from "./testing/fixtures.js";
import { story } from "./testing/story.js";

let duck: CompiledGraph;
let w: TestWarehouse | undefined;

beforeAll(async () => {
  duck = await compileProject("duckdb");
}, 300_000);

afterEach(async () => {
  await w?.close();
  w = undefined;
});

describe("metrics layer", () => {
  it("docs/metrics.md is generated from the definitions", () => {
    expect(readFileSync(METRICS_DOC, "utf8"), "run: npx tsx warehouse/models/metrics.ts").toBe(metricsDoc());
    expect(metricsDoc()).toContain("| `conversion_rate` | Conversion rate | Sessions with a purchase / sessions; null when there were no sessions. | ratio of purchasing_sessions and sessions |");
  });

  it("marts.daily_kpis has one column per metric, described by the metric's definition", () => {
    const kpis = duck.tables!.find((t) => t.target.schema === "marts" && t.target.name === "daily_kpis")!;
    const columns = Object.fromEntries((kpis.actionDescriptor?.columns ?? []).map((c) => [c.path.join("."), c.description]));
    for (const m of METRICS) expect(columns[m.name], m.name).toBe(m.description);
    expect(Object.keys(columns).sort()).toEqual([...METRICS.map((m) => m.name), "kpi_date", "currency"].sort());
  });

  it("the dashboard's SQL computes from the marts exactly what marts.daily_kpis stores", async () => {
    w = await story({ memory: true });
    await runModels(w.exec, { graph: duck });
    const names = METRICS.map((m) => m.name);
    const fromMarts = await w.rows(`SELECT CAST(day AS VARCHAR) AS day, ${names.join(", ")} FROM (${dailyMetricsSql(names)}) AS m ORDER BY 1`);
    const stored = await w.rows(`SELECT CAST(kpi_date AS VARCHAR) AS day, ${names.join(", ")} FROM marts.daily_kpis ORDER BY 1`);
    expect(fromMarts).toEqual(stored);
    expect(stored.length).toBe(2);
  });
});

/**
 * One order fact whichever system reports the orders: the same generated shop loaded four times,
 * its orders reported by the shop database only (CDC), by Shopify only (webhooks), by Segment order
 * events only (browser and server-side Order Completed, Order Cancelled, Order Refunded), and by all
 * three at once, gives the same KPIs and the same order facts; the revenue figures reconcile.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compileProject, type CompiledGraph } from "../warehouse/models/compile.js";
import { runModels } from "../warehouse/models/run.js";
import { createTestWarehouse, type TestWarehouse } from "../warehouse/models/testing/fixtures.js";
import { writeWorkloadRows, type RowsOptions } from "./rows.js";

const WORKLOAD = { seed: 9, days: 12, users: 700, start: new Date("2026-03-01T00:00:00Z") };
const SHOPS: Record<string, RowsOptions["orderSources"]> = { cdc: ["cdc"], shopify: ["shopify"], events: ["events"], all: ["cdc", "shopify", "events"] };

let graph: CompiledGraph;
const shops: Record<string, TestWarehouse> = {};

beforeAll(async () => {
  graph = await compileProject("duckdb");
  for (const [name, orderSources] of Object.entries(SHOPS)) {
    const w = await createTestWarehouse({ memory: true });
    shops[name] = w;
    await writeWorkloadRows(w.exec, WORKLOAD, { orderSources, loadedAt: "2026-03-20T00:00:00Z" });
    const r = await runModels(w.exec, { graph });
    expect(r.warnings.filter((x) => x.assertion !== "assertions.references"), name).toEqual([]);
  }
}, 600_000);

afterAll(async () => {
  for (const w of Object.values(shops)) await w.close();
});

const KPIS = "SELECT * EXCLUDE (kpi_date), kpi_date::VARCHAR AS kpi_date FROM marts.daily_kpis ORDER BY kpi_date";
const FACTS =
  "SELECT order_id, created_at::VARCHAR AS created_at, order_date::VARCHAR AS order_date, is_cancelled, is_refunded, currency, order_total::VARCHAR AS total, gross_revenue::VARCHAR AS gross, refunded_revenue::VARCHAR AS refunded, net_revenue::VARCHAR AS net, session_id, items, units FROM marts.orders ORDER BY order_id";

describe("three shops, same orders", () => {
  it("CDC only, Shopify only, Segment events only and all three give equal KPIs and order facts", async () => {
    const kpis = await shops.cdc!.rows(KPIS);
    const facts = await shops.cdc!.rows(FACTS);
    // A real shop: orders, cancellations, refunds and purchases in sessions on most days.
    expect(facts.length).toBeGreaterThan(40);
    expect(facts.some((f) => f.is_cancelled)).toBe(true);
    expect(facts.some((f) => f.is_refunded)).toBe(true);
    expect(facts.filter((f) => f.session_id !== null).length / facts.length).toBeGreaterThan(0.8);
    for (const name of ["shopify", "events", "all"]) {
      expect(await shops[name]!.rows(KPIS), `${name}: daily KPIs`).toEqual(kpis);
      expect(await shops[name]!.rows(FACTS), `${name}: order facts`).toEqual(facts);
    }
    expect(await shops.all!.rows("SELECT DISTINCT order_source, sources FROM marts.orders ORDER BY 1, 2")).toEqual([{ order_source: "cdc", sources: "cdc,shopify,events" }]);
    expect(await shops.events!.rows("SELECT DISTINCT order_source FROM marts.orders")).toEqual([{ order_source: "events" }]);
  });

  it("money is converted to the reporting currency (EUR orders, USD KPIs) and gross, refunds and net add up", async () => {
    const [k] = await shops.cdc!.rows<{ gross: string; refunded: string; net: string; currency: string }>(
      "SELECT sum(gross_revenue)::VARCHAR AS gross, sum(refunded_revenue)::VARCHAR AS refunded, sum(net_revenue)::VARCHAR AS net, any_value(currency) AS currency FROM marts.daily_kpis",
    );
    const [o] = await shops.cdc!.rows<{ eur: string }>("SELECT sum(order_total)::VARCHAR AS eur FROM marts.orders WHERE NOT is_cancelled");
    expect(k!.currency).toBe("USD");
    // The default rates file: 0.92 EUR per USD.
    expect(Math.abs(Number(k!.gross) - Number(o!.eur) / 0.92)).toBeLessThan(0.01);
    expect(Number(k!.net)).toBeCloseTo(Number(k!.gross) - Number(k!.refunded), 6);
    expect(Number(k!.refunded)).toBeGreaterThan(0);
  });

  it("the revenue figures reconcile: KPIs, marts.orders, sessions and the real-time metrics", async () => {
    for (const [name, w] of Object.entries(shops)) {
      const rows = await w.rows<Record<string, string>>(
        "SELECT sum(kpi_gross_revenue)::VARCHAR AS kpi, sum(orders_gross_revenue)::VARCHAR AS orders, sum(session_revenue)::VARCHAR AS sessions, sum(orders_in_sessions_revenue)::VARCHAR AS in_sessions, sum(realtime_revenue)::VARCHAR AS realtime, sum(realtime_recount)::VARCHAR AS recount, sum(realtime_counted + realtime_duplicates + realtime_other_source + realtime_excluded + realtime_quarantined + realtime_not_revenue)::VARCHAR AS explained, sum(event_orders_gross_revenue)::VARCHAR AS event_orders FROM ops.revenue_reconciliation",
      );
      const r = rows[0]!;
      expect(r.kpi, name).toBe(r.orders);
      expect(r.sessions, name).toBe(r.in_sessions);
      expect(r.realtime, name).toBe(r.recount);
      expect(r.recount, name).toBe(r.explained);
      if (name === "events") expect(Number(r.realtime)).toBeGreaterThan(0);
      if (name === "cdc" || name === "shopify") expect(Number(r.realtime)).toBe(0);
    }
  });
});

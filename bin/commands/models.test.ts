/** `npx tideline models run` and the in-process runner the operator API uses. */
import { writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { PassThrough } from "node:stream";
import { DuckDBInstance } from "@duckdb/node-api";
import { describe, expect, it } from "vitest";
import { runModelsCommand } from "./models.js";
import { runModelsOnConnection, type ModelsRunMessage } from "../../warehouse/models/service.js";
import { createTestWarehouse, insertCustomers, insertEvents, insertOrders } from "../../warehouse/models/testing/fixtures.js";
import { fakePorts, startTestApi } from "../../platform/api/testing/fake-ports.js";

function capture() {
  const s = new PassThrough();
  let text = "";
  s.on("data", (c: Buffer) => (text += c.toString()));
  return { s, text: () => text };
}

async function warehouseFile(duplicateEvent = false) {
  const w = await createTestWarehouse();
  const events = [
    { id: "e1", ts: "2026-03-02T10:00:00Z", visitor: "v1", user: "c1", type: "page" },
    { id: "e2", ts: "2026-03-02T10:05:00Z", visitor: "v1", user: "c1", event: "Product Viewed", properties: { product_id: "p1" } },
  ];
  await insertEvents(w.exec, events);
  // A second copy of an event (the loader never writes one): staging's uniqueness assertion fails.
  if (duplicateEvent) await insertEvents(w.exec, events.slice(1));
  await insertCustomers(w.exec, [{ id: "c1", created_at: "2026-03-01T00:00:00Z" }]);
  await insertOrders(w.exec, [{ id: "o1", customer: "c1", total: 20, created_at: "2026-03-02T10:10:00Z" }]);
  return w;
}

describe("tideline models run", () => {
  it("prints per-model progress with time and rows, then a summary; exit 0", async () => {
    const w = await warehouseFile();
    await w.exec.close?.(); // the command opens the file itself
    try {
      const out = capture();
      const err = capture();
      const code = await runModelsCommand({ target: "duckdb", warehouse: w.path, location: "US" }, out.s, err.s);
      expect(err.text()).toBe("");
      expect(code).toBe(0);
      expect(out.text()).toMatch(/full refresh/);
      expect(out.text()).toMatch(/marts\.daily_kpis\s+create\s+\d+\.\d\d s\s+1 rows/);
      expect(out.text()).toMatch(/models: done in [\d.]+ s — 38 models \(0 unchanged\), \d+ assertions passed/);
      const again = capture();
      expect(await runModelsCommand({ target: "duckdb", warehouse: w.path, location: "US" }, again.s, err.s)).toBe(0);
      expect(again.text()).toMatch(/incremental \(nothing loaded since the last run\)/);
      expect(again.text()).toMatch(/staging\.int_sessions\s+skipped/);
    } finally {
      await w.close();
    }
  });

  it("explains a missing warehouse or missing source tables", async () => {
    const err = capture();
    expect(await runModelsCommand({ target: "duckdb", warehouse: ".data/scratch/does-not-exist.duckdb", location: "US" }, capture().s, err.s)).toBe(1);
    expect(err.text()).toContain("no warehouse at .data/scratch/does-not-exist.duckdb; start the platform (npm start)");
    const w = await createTestWarehouse();
    await w.exec.run("DROP TABLE ops.partitions_touched");
    await w.exec.close?.();
    try {
      const err2 = capture();
      expect(await runModelsCommand({ target: "duckdb", warehouse: w.path, location: "US" }, capture().s, err2.s)).toBe(1);
      expect(err2.text()).toContain("the warehouse has no ops.partitions_touched; the pipeline creates these tables");
    } finally {
      await w.close();
    }
  });

  it("exits 1 naming the line of a wrong exchange-rates file", async () => {
    const w = await warehouseFile();
    await w.exec.close?.();
    const file = join(dirname(w.path), "rates.csv");
    writeFileSync(file, "rate_date,currency,rate\n2026-01-01,EUR,one\n");
    try {
      const err = capture();
      expect(await runModelsCommand({ target: "duckdb", warehouse: w.path, location: "US", exchangeRates: file }, capture().s, err.s)).toBe(1);
      expect(err.text()).toContain(`tideline models: ${file}:2: rate "one" must be a positive decimal with at most 9 decimal places`);
    } finally {
      await w.close();
    }
  });

  it("exits 1 naming the failing model and assertion", async () => {
    const w = await warehouseFile(true);
    await w.exec.close?.();
    try {
      const out = capture();
      const err = capture();
      expect(await runModelsCommand({ target: "duckdb", warehouse: w.path, location: "US" }, out.s, err.s)).toBe(1);
      expect(err.text()).toContain("failing model: staging.stg_events");
      expect(err.text()).toContain("failing assertion: assertions.staging_stg_events_assertions_uniqueKey_0");
    } finally {
      await w.close();
    }
  });

  it("runs inside the process holding the warehouse, streaming progress messages", async () => {
    const w = await warehouseFile();
    await w.exec.close?.();
    const instance = await DuckDBInstance.create(w.path);
    const con = await instance.connect();
    try {
      const messages: ModelsRunMessage[] = [];
      await runModelsOnConnection(con, { select: "staging" }, (m) => messages.push(m));
      const last = messages[messages.length - 1]!;
      expect("done" in last && last.result.results.filter((r) => r.kind !== "assertion").map((r) => r.name).sort()).toEqual([
        "staging.identity_links", "staging.int_product_events_daily", "staging.int_sessions", "staging.order_history", "staging.order_keys", "staging.order_lines",
        "staging.order_refunds", "staging.order_versions", "staging.stg_cdc_changes", "staging.stg_customer_history", "staging.stg_customers", "staging.stg_event_products",
        "staging.stg_events", "staging.stg_exchange_rates", "staging.stg_order_events", "staging.stg_products", "staging.stg_realtime_orders", "staging.stg_shopify_orders",
        "staging.stg_shopify_refunds", "staging.user_mapping",
      ]);
      expect(messages.filter((m) => "line" in m).length).toBeGreaterThan(6);
      const failed: ModelsRunMessage[] = [];
      await runModelsOnConnection(con, { select: "daily_kpis" }, (m) => failed.push(m));
      expect(failed[failed.length - 1]).toEqual({ error: expect.objectContaining({ model: "marts.daily_kpis" }) });
    } finally {
      con.closeSync();
      instance.closeSync();
      await w.close();
    }
  });

  it("passes on the operator API's 400 naming the field, and runs nothing", async () => {
    const ports = await fakePorts();
    const api = await startTestApi(ports);
    try {
      const err = capture();
      expect(await runModelsCommand({ target: "duckdb", location: "US", select: "m".repeat(1001) }, capture().s, err.s, api.client)).toBe(1);
      expect(err.text()).toBe("tideline models: invalid request: select: Too big: expected string to have <=1000 characters\n  see GET /api/openapi.json for the request bodies\n");
      expect(ports.calls.models).toEqual([]);
    } finally {
      await api.close();
      ports.close();
    }
  });

  it("goes through the operator API (typed client) while the platform runs, streaming its lines", async () => {
    const ports = await fakePorts({
      runModels: async (req, emit) => {
        ports.calls.models.push(req);
        emit({ line: "marts.daily_kpis  create  0.10 s  1 rows" });
        emit({ error: { message: "assertion failed: 2 rows", model: "marts.daily_kpis", assertion: "assertions.kpis_reconcile" } });
      },
    });
    const api = await startTestApi(ports);
    try {
      const out = capture();
      const err = capture();
      expect(await runModelsCommand({ target: "duckdb", location: "US", fullRefresh: true, select: "marts" }, out.s, err.s, api.client)).toBe(1);
      expect(out.text()).toBe("marts.daily_kpis  create  0.10 s  1 rows\n");
      expect(err.text()).toBe("tideline models: assertion failed: 2 rows\n  failing model: marts.daily_kpis\n  failing assertion: assertions.kpis_reconcile\n");
      expect(ports.calls.models).toEqual([{ fullRefresh: true, select: "marts" }]);
    } finally {
      await api.close();
      ports.close();
    }
  });
});

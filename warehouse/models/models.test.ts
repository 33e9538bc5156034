/**
 * Model tests on hand-built warehouses whose answers are worked out below: sessions, funnel, daily
 * KPIs, attribution and RFM features; point-in-time leakage cases; incremental equals full refresh
 * after late data; assertion failures name the model; the data dictionary is current.
 */
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { compileProject, type CompiledGraph } from "./compile.js";
import { dictionary, DOC_PATH, withDictionary } from "./dictionary.js";
import { ModelRunError, runModels } from "./run.js";
import { deleteRow, insertEvents, insertOrders, updateOrder, type TestWarehouse } from "./testing/fixtures.js";
import { story } from "./testing/story.js";

let duck: CompiledGraph;
let bq: CompiledGraph;
let w: TestWarehouse | undefined;

beforeAll(async () => {
  [duck, bq] = await Promise.all([compileProject("duckdb"), compileProject("bigquery")]);
}, 300_000);

afterEach(async () => {
  await w?.close();
  w = undefined;
});

const n = (v: unknown) => (v === null ? null : Number(v));

describe("Dataform project", () => {
  it("compiles offline for both dialects with the models, declarations and assertions", () => {
    for (const g of [duck, bq]) {
      expect(g.dataformCoreVersion).toBe("3.0.62");
      const names = (g.tables ?? []).map((t) => `${t.target.schema}.${t.target.name}`);
      expect(names).toEqual(
        expect.arrayContaining(["staging.stg_events", "marts.sessions", "marts.orders", "marts.daily_kpis", "marts.funnel_daily", "features.customer_features_daily", "features.customer_labels_daily", "marts.customer_360", "ops.quarantine", "ops.revenue_reconciliation"]),
      );
      expect((g.assertions ?? []).length).toBeGreaterThan(60);
    }
    const sessions = duck.tables!.find((t) => t.target.name === "int_sessions")!;
    expect(sessions.type).toBe("incremental");
    expect(sessions.query).toContain("date_diff('second'");
    expect(bq.tables!.find((t) => t.target.name === "int_sessions")!.query).toContain("TIMESTAMP_DIFF(");
  });

  it("rejects a wrong setting at compile time, naming it and what to write instead", async () => {
    await expect(compileProject("duckdb", { vars: { order_source_precedence: "cdc,events" } })).rejects.toThrow(/vars.order_source_precedence: must list cdc, shopify and events once each/);
    await expect(compileProject("duckdb", { vars: { reporting_currency: "euro" } })).rejects.toThrow(/vars.reporting_currency: must be an ISO 4217 currency code/);
  }, 240_000);
});

describe("data dictionary", () => {
  it("docs/warehouse.md carries the dictionary generated from the current model descriptions", () => {
    const page = readFileSync(DOC_PATH, "utf8");
    expect(withDictionary(page, dictionary(bq)), "run: npx tsx warehouse/models/dictionary.ts").toBe(page);
    expect(page).toContain("### `marts.daily_kpis`");
    expect(page).toContain("| `conversion_rate` | Sessions with a purchase / sessions; null when there were no sessions. |");
  });
});

describe("models on DuckDB", () => {
  it("sessionizes on 30 minutes of inactivity with first-touch campaign and referrer, dropping bots and withheld consent", async () => {
    w = await story();
    await runModels(w.exec, { graph: duck });
    const s = await w.rows(
      "SELECT visitor_id, user_id, session_date::VARCHAR AS d, events, pageviews, duration_seconds, channel, campaign_name, referrer_source, has_product_viewed AS v, has_product_added AS a, has_checkout_started AS c, has_order_completed AS o, order_revenue FROM marts.sessions ORDER BY session_start",
    );
    expect(s.map((r) => [r.visitor_id, r.user_id, r.d, n(r.events), n(r.pageviews), n(r.duration_seconds), r.channel, r.campaign_name, r.referrer_source, r.v, r.a, r.c, r.o, n(r.order_revenue)])).toEqual([
      ["a1", "c1", "2026-03-02", 5, 1, 3000, "paid", "spring", null, true, true, true, true, 100],
      ["a1", "c1", "2026-03-02", 1, 1, 0, "organic_search", null, "google", false, false, false, false, 0],
      ["b1", null, "2026-03-02", 2, 1, 1200, "social", null, "facebook", true, false, false, false, 0],
      ["b1", null, "2026-03-03", 1, 0, 0, "direct", null, null, true, false, false, false, 0],
      ["c2a", "c2", "2026-03-03", 3, 1, 360, "email", "march", null, true, true, false, false, 0],
    ]);
    expect(await w.rows("SELECT count(*)::INT AS n FROM staging.stg_events WHERE visitor_id IN ('bot', 'nc')")).toEqual([{ n: 0 }]);
  });

  it("daily KPIs (one order fact per id, money as decimals, conversion = sessions with a purchase / sessions) and the funnel by day", async () => {
    w = await story();
    await runModels(w.exec, { graph: duck });
    // 03-02: S1, S2 (c1), S3 (b1) → 3 sessions, 2 people; o1 (100, from CDC and an Order Completed event: one order), S1 purchased.
    // 03-03: S4 (b1), S5 (c2); o2 40 + o4 60 (o3 cancelled), neither placed in a session.
    expect(
      await w.rows(
        "SELECT kpi_date::VARCHAR AS kpi_date, sessions::INT AS sessions, users::INT AS users, orders::INT AS orders, gross_revenue::VARCHAR AS gross, net_revenue::VARCHAR AS net, revenue::VARCHAR AS revenue, round(conversion_rate, 4) AS conversion_rate, currency FROM marts.daily_kpis ORDER BY 1",
      ),
    ).toEqual([
      { kpi_date: "2026-03-02", sessions: 3, users: 2, orders: 1, gross: "100.000000000", net: "100.000000000", revenue: "100.000000000", conversion_rate: 0.3333, currency: "USD" },
      { kpi_date: "2026-03-03", sessions: 2, users: 2, orders: 2, gross: "100.000000000", net: "100.000000000", revenue: "100.000000000", conversion_rate: 0, currency: "USD" },
    ]);
    expect(await w.rows("SELECT typeof(gross_revenue) AS t FROM marts.daily_kpis LIMIT 1")).toEqual([{ t: "DECIMAL(38,9)" }]);
    // S3 views p2 after midnight but belongs to 03-02, where it started.
    expect(await w.rows("SELECT funnel_date::VARCHAR AS d, sessions::INT AS s, product_viewed::INT AS v, product_added::INT AS a, checkout_started::INT AS c, order_completed::INT AS o, view_to_add_rate AS r FROM marts.funnel_daily ORDER BY 1")).toEqual([
      { d: "2026-03-02", s: 3, v: 2, a: 1, c: 1, o: 1, r: 0.5 },
      { d: "2026-03-03", s: 2, v: 2, a: 1, c: 0, o: 0, r: 0.5 },
    ]);
  });

  it("first touch and last non-direct click within the lookback", async () => {
    w = await story();
    await runModels(w.exec, { graph: duck });
    // o1: only S1 before it. o4 (03-03 11:00): S1 (paid) first, S2 (organic search) last. o2: S5 (email).
    expect(await w.rows("SELECT order_id, first_touch_channel AS ft, last_non_direct_channel AS lt, first_touch_campaign AS fc FROM marts.order_attribution ORDER BY 1")).toEqual([
      { order_id: "o1", ft: "paid", lt: "paid", fc: "spring" },
      { order_id: "o2", ft: "email", lt: "email", fc: "march" },
      { order_id: "o4", ft: "paid", lt: "organic_search", fc: "spring" },
    ]);
    expect(
      await w.rows(
        "SELECT channel, sessions::INT AS s, first_touch_orders::INT AS fo, first_touch_revenue::DOUBLE AS fr, last_non_direct_orders::INT AS lo, last_non_direct_revenue::DOUBLE AS lr FROM marts.channel_attribution_daily WHERE attribution_date = DATE '2026-03-03' ORDER BY 1",
      ),
    ).toEqual([
      { channel: "direct", s: 1, fo: 0, fr: 0, lo: 0, lr: 0 },
      { channel: "email", s: 1, fo: 1, fr: 40, lo: 1, lr: 40 },
      { channel: "organic_search", s: 0, fo: 0, fr: 0, lo: 1, lr: 60 },
      { channel: "paid", s: 0, fo: 1, fr: 60, lo: 0, lr: 0 },
    ]);
  });

  it("RFM, session and cart features from what was known before feature_date, and labels from after", async () => {
    w = await story();
    await runModels(w.exec, { graph: duck });
    const f = await w.rows(
      "SELECT customer_id, feature_date::VARCHAR AS d, orders_7d::INT AS o7, orders_90d::INT AS o90, revenue_7d::DOUBLE AS r7, days_since_last_order::INT AS dslo, sessions_7d::INT AS s7, cart_days_30d::INT AS cd, abandoned_cart_days_30d::INT AS ab, cart_abandonment_rate_30d AS car FROM features.customer_features_daily ORDER BY 1, 2",
    );
    expect(f).toEqual([
      // Both customers were created on 03-01 (and loaded before): rows from 03-02, nothing before it yet.
      { customer_id: "c1", d: "2026-03-02", o7: 0, o90: 0, r7: 0, dslo: null, s7: 0, cd: 0, ab: 0, car: null },
      // c1 on 03-03 sees only 03-02: o1, S1+S2, a cart day that ended in an order.
      { customer_id: "c1", d: "2026-03-03", o7: 1, o90: 1, r7: 100, dslo: 1, s7: 2, cd: 1, ab: 0, car: 0 },
      // on 03-04 also o4 (o3 was cancelled).
      { customer_id: "c1", d: "2026-03-04", o7: 2, o90: 2, r7: 160, dslo: 1, s7: 2, cd: 1, ab: 0, car: 0 },
      { customer_id: "c2", d: "2026-03-02", o7: 0, o90: 0, r7: 0, dslo: null, s7: 0, cd: 0, ab: 0, car: null },
      { customer_id: "c2", d: "2026-03-03", o7: 0, o90: 0, r7: 0, dslo: null, s7: 0, cd: 0, ab: 0, car: null },
      // o2 came from the shop database, not the site: the 03-03 cart day counts as abandoned.
      { customer_id: "c2", d: "2026-03-04", o7: 1, o90: 1, r7: 40, dslo: 1, s7: 1, cd: 1, ab: 1, car: 1 },
    ]);
    expect(await w.rows("SELECT customer_id, feature_date::VARCHAR AS d, purchased_next_30d AS p, orders_next_30d::INT AS o, revenue_next_30d::DOUBLE AS r, label_window_end::VARCHAR AS e FROM features.customer_labels_daily ORDER BY 1, 2")).toEqual([
      { customer_id: "c1", d: "2026-03-02", p: true, o: 2, r: 160, e: "2026-04-01" },
      { customer_id: "c1", d: "2026-03-03", p: true, o: 1, r: 60, e: "2026-04-02" },
      { customer_id: "c1", d: "2026-03-04", p: false, o: 0, r: 0, e: "2026-04-03" },
      { customer_id: "c2", d: "2026-03-02", p: true, o: 1, r: 40, e: "2026-04-01" },
      { customer_id: "c2", d: "2026-03-03", p: true, o: 1, r: 40, e: "2026-04-02" },
      { customer_id: "c2", d: "2026-03-04", p: false, o: 0, r: 0, e: "2026-04-03" },
    ]);
  });

  it("after late data, an incremental run equals a full refresh", async () => {
    w = await story();
    const first = await runModels(w.exec, { graph: duck });
    expect(first.fullRefresh).toBe(true);
    // Late: b1 at 23:35 on 03-02 moves S3's start; c2 browses on 03-05; a new order o5 and a cancellation of o4.
    const late = "2026-01-02T00:00:00Z";
    await insertEvents(
      w.exec,
      [
        { id: "late1", ts: "2026-03-02T23:35:00Z", visitor: "b1", type: "page", referrer_medium: "search", is_late: true },
        { id: "late2", ts: "2026-03-05T08:00:00Z", visitor: "c2a", user: "c2", event: "Product Added", properties: { product_id: "p2" } },
      ],
      late,
    );
    await insertOrders(w.exec, [{ id: "o5", customer: "c2", total: 25, created_at: "2026-03-05T09:00:00Z" }], late);
    await updateOrder(w.exec, { id: "o4", customer: "c1", total: 60, created_at: "2026-03-03T11:00:00Z", status: "cancelled" }, "2026-03-06T10:00:00Z", late);
    const inc = await runModels(w.exec, { graph: duck });
    expect(inc.fullRefresh).toBe(false);
    expect(inc.touchedDates).toEqual(["2026-03-02", "2026-03-05", "2026-03-06"]);
    expect(inc.params.run_session_from).toEqual({ kind: "date", value: "2026-03-01" });
    expect(inc.results.find((r) => r.name === "staging.int_sessions")?.mode).toBe("incremental");
    const models = (duck.tables ?? []).map((t) => `${t.target.schema}.${t.target.name}`);
    const dump = async () => Object.fromEntries(await Promise.all(models.map(async (m) => [m, await w!.rows(`SELECT * FROM ${m} ORDER BY ALL`)] as const)));
    const incremental = await dump();
    await runModels(w.exec, { graph: duck, fullRefresh: true });
    const full = await dump();
    expect(incremental).toEqual(full);
    expect((full["marts.sessions"] as { visitor_id: string }[]).filter((s) => s.visitor_id === "b1").length).toBe(2);
    // Late data for an old day only: a1 at 10:15 bridges S1 and S2 into one session.
    await insertEvents(w.exec, [{ id: "late3", ts: "2026-03-02T10:15:00Z", visitor: "a1", user: "c1", type: "page", is_late: true }], "2026-01-03T00:00:00Z");
    const inc2 = await runModels(w.exec, { graph: duck });
    expect(inc2.touchedDates).toEqual(["2026-03-02"]);
    const incremental2 = await dump();
    await runModels(w.exec, { graph: duck, fullRefresh: true });
    expect(incremental2).toEqual(await dump());
    expect(await w.rows("SELECT count(*)::INT AS n FROM marts.sessions WHERE visitor_id = 'a1'")).toEqual([{ n: 1 }]);
    // Nothing new: the next run rebuilds nothing.
    const idle = await runModels(w.exec, { graph: duck });
    expect(idle.touchedDates).toEqual([]);
    expect(idle.results.find((r) => r.name === "staging.int_sessions")?.mode).toBe("skipped");
  });

  it("a changed exchange-rates file or setting makes the next run a full refresh", async () => {
    w = await story({ memory: true });
    await runModels(w.exec, { graph: duck });
    expect((await runModels(w.exec, { graph: duck })).fullRefresh).toBe(false);
    const other = await compileProject("duckdb", { vars: { session_timeout_seconds: "900" } });
    const r = await runModels(w.exec, { graph: other });
    expect(r.fullRefresh).toBe(true);
    expect(r.fullRefreshReason).toBe("the models, their settings or the exchange rates changed since the last run");
  }, 240_000);

  it("fails naming the model and the assertion", async () => {
    w = await story();
    await insertEvents(w.exec, [{ id: "a2", ts: "2026-03-02T09:10:00Z", visitor: "a1", user: "c1", event: "Product Viewed", properties: { product_id: "p1" } }]);
    const err = await runModels(w.exec, { graph: duck }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelRunError);
    expect((err as ModelRunError).model).toBe("staging.stg_events");
    expect((err as ModelRunError).assertion).toBe("assertions.staging_stg_events_assertions_uniqueKey_0");
    expect((err as Error).message).toMatch(/assertion .*uniqueKey_0 failed on model staging.stg_events: 1 row/);
  });

  it("reports assertions tagged warn without failing the run (an order whose customer has not replicated yet)", async () => {
    w = await story();
    await insertOrders(w.exec, [{ id: "o7", customer: "c-not-yet", total: 5, created_at: "2026-03-03T12:00:00Z" }]);
    const lines: string[] = [];
    const r = await runModels(w.exec, { graph: duck, log: (l) => lines.push(l) });
    expect(r.warnings).toEqual([{ assertion: "assertions.references", rows: 1 }]);
    expect(lines.some((l) => l.includes("WARN assertions.references: 1 row(s) violate it"))).toBe(true);
  });

  it("on an incremental run, checks the rebuilt partitions of incremental models and still catches a bad late row", async () => {
    w = await story();
    await runModels(w.exec, { graph: duck });
    await insertEvents(w.exec, [{ id: "c3", ts: "2026-03-03T15:06:00Z", visitor: "c2a", user: "c2", event: "Product Added", properties: { product_id: "p1" } }], "2026-01-02T00:00:00Z");
    const err = await runModels(w.exec, { graph: duck }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelRunError);
    expect((err as ModelRunError).model).toBe("staging.stg_events");
  });

  it("--select runs only the chosen models and their assertions", async () => {
    w = await story();
    const r = await runModels(w.exec, { graph: duck, select: "staging" });
    expect(new Set(r.results.filter((x) => x.kind !== "assertion").map((x) => x.name.split(".")[0]))).toEqual(new Set(["staging"]));
    await expect(runModels(w.exec, { graph: duck, select: "nope" })).rejects.toThrow(/matches no model/);
  });

  it("describes every model and every column it outputs", async () => {
    w = await story();
    await runModels(w.exec, { graph: duck });
    for (const t of duck.tables ?? []) {
      expect(t.actionDescriptor?.description, `${t.target.name} description`).toBeTruthy();
      const described = (t.actionDescriptor?.columns ?? []).filter((c) => c.description).map((c) => c.path.join("."));
      const actual = (await w.rows<{ column_name: string }>(`SELECT column_name FROM information_schema.columns WHERE table_schema = '${t.target.schema}' AND table_name = '${t.target.name}' ORDER BY ordinal_position`)).map((c) => c.column_name);
      expect(described, `${t.target.schema}.${t.target.name} columns, in order`).toEqual(actual);
    }
  });
});

describe("point in time", () => {
  it("a cancellation loaded later never changes the features of earlier days (orders as known then)", async () => {
    w = await story();
    await runModels(w.exec, { graph: duck });
    const before = await w.rows("SELECT * FROM features.customer_features_daily ORDER BY ALL");
    // o1 (03-02) cancelled on 03-10, loaded that day: features up to 03-10 still see it.
    await updateOrder(w.exec, { id: "o1", customer: "c1", total: 100, created_at: "2026-03-02T09:50:00Z", status: "cancelled" }, "2026-03-10T08:00:00Z", "2026-03-10T09:00:00Z");
    await runModels(w.exec, { graph: duck });
    expect(await w.rows("SELECT * FROM features.customer_features_daily WHERE feature_date <= DATE '2026-03-04' ORDER BY ALL")).toEqual(before);
    // From 03-11 on, o1 is gone from c1's lifetime orders (only o4 is left).
    expect(await w.rows("SELECT orders_lifetime::INT AS o FROM features.customer_features_daily WHERE customer_id = 'c1' AND feature_date = DATE '2026-03-11'")).toEqual([{ o: 1 }]);
    // The marts show the order as it is now.
    expect(await w.rows("SELECT status, gross_revenue::DOUBLE AS g FROM marts.orders WHERE order_id = 'o1'")).toEqual([{ status: "cancelled", g: 0 }]);
  });

  it("an anonymous session identified after midnight counts only from the day after the identification", async () => {
    w = await story();
    await insertEvents(w.exec, [
      { id: "z1", ts: "2026-03-03T23:50:00Z", visitor: "z", type: "page", loaded_at: "2026-03-03T23:51:00Z" },
      { id: "z2", ts: "2026-03-04T00:10:00Z", visitor: "z", user: "c2", type: "identify", loaded_at: "2026-03-04T00:11:00Z" },
    ]);
    await runModels(w.exec, { graph: duck });
    // The session started on 03-03 but was known to be c2's only after midnight: not in 03-04's features.
    const s = await w.rows("SELECT feature_date::VARCHAR AS d, sessions_7d::INT AS s FROM features.customer_features_daily WHERE customer_id = 'c2' AND feature_date >= DATE '2026-03-04' ORDER BY 1");
    expect(s).toEqual([
      { d: "2026-03-04", s: 1 },
      { d: "2026-03-05", s: 2 },
    ]);
    // Now it is c2's session (stitched).
    expect(await w.rows("SELECT user_id FROM marts.sessions WHERE visitor_id = 'z'")).toEqual([{ user_id: "c2" }]);
  });

  it("events loaded after the feature date do not count for it", async () => {
    w = await story();
    // A Product Added by c2 on 03-02, delivered late on 03-05.
    await insertEvents(w.exec, [{ id: "late", ts: "2026-03-02T12:00:00Z", visitor: "c2a", user: "c2", event: "Product Added", properties: { product_id: "p1" }, loaded_at: "2026-03-05T06:00:00Z" }]);
    await runModels(w.exec, { graph: duck });
    const carts = await w.rows("SELECT feature_date::VARCHAR AS d, cart_days_30d::INT AS c FROM features.customer_features_daily WHERE customer_id = 'c2' ORDER BY 1");
    expect(carts).toEqual([
      { d: "2026-03-02", c: 0 },
      { d: "2026-03-03", c: 0 },
      { d: "2026-03-04", c: 1 },
      { d: "2026-03-05", c: 1 },
      { d: "2026-03-06", c: 2 },
    ]);
  });

  it("a deleted customer keeps its history and the next incremental run still passes", async () => {
    w = await story();
    await runModels(w.exec, { graph: duck });
    const before = await w.rows("SELECT * FROM features.customer_features_daily WHERE customer_id = 'c2' ORDER BY ALL");
    await deleteRow(w.exec, "customers", "c2", "2026-03-05T10:00:00Z", "2026-03-05T10:00:01Z");
    const r = await runModels(w.exec, { graph: duck });
    expect(r.fullRefresh).toBe(false);
    const after = await w.rows("SELECT * FROM features.customer_features_daily WHERE customer_id = 'c2' ORDER BY ALL");
    expect(after.slice(0, before.length)).toEqual(before);
    // Deleted on 03-05: rows up to that day, none after.
    expect(await w.rows("SELECT max(feature_date)::VARCHAR AS d FROM features.customer_features_daily WHERE customer_id = 'c2'")).toEqual([{ d: "2026-03-05" }]);
    expect(await w.rows("SELECT count(*)::INT AS n FROM marts.customer_360 WHERE customer_id = 'c2'")).toEqual([{ n: 0 }]);
  });

  it("labels follow later cancellations (incremental by key), as a full refresh would", async () => {
    w = await story();
    await runModels(w.exec, { graph: duck });
    // A load on 03-10: from then on, runs rebuild features only from 03-10, so older labels change by key.
    await insertEvents(w.exec, [{ id: "tick", ts: "2026-03-10T00:00:00Z", visitor: "t", type: "page" }], "2026-03-10T01:00:00Z");
    await runModels(w.exec, { graph: duck });
    await updateOrder(w.exec, { id: "o4", customer: "c1", total: 60, created_at: "2026-03-03T11:00:00Z", status: "cancelled" }, "2026-03-20T08:00:00Z", "2026-03-20T09:00:00Z");
    const r = await runModels(w.exec, { graph: duck });
    expect(r.params.run_features_from).toEqual({ kind: "date", value: "2026-03-10" });
    const labels = "SELECT feature_date::VARCHAR AS d, orders_next_30d::INT AS o FROM features.customer_labels_daily WHERE customer_id = 'c1' AND feature_date <= DATE '2026-03-04' ORDER BY 1";
    expect(await w.rows(labels)).toEqual([
      { d: "2026-03-02", o: 1 },
      { d: "2026-03-03", o: 0 },
      { d: "2026-03-04", o: 0 },
    ]);
    const incremental = await w.rows("SELECT * FROM features.customer_labels_daily ORDER BY ALL");
    await runModels(w.exec, { graph: duck, fullRefresh: true });
    expect(await w.rows("SELECT * FROM features.customer_labels_daily ORDER BY ALL")).toEqual(incremental);
  });

  it("planted events and orders on or after feature_date never change that date's features", async () => {
    w = await story();
    await runModels(w.exec, { graph: duck });
    const snapshot = () => w!.rows("SELECT * FROM features.customer_features_daily WHERE feature_date <= DATE '2026-03-04' ORDER BY customer_id, feature_date");
    const before = await snapshot();
    await insertEvents(
      w.exec,
      [
        { id: "l1", ts: "2026-03-04T00:00:00Z", visitor: "a1", user: "c1", event: "Order Completed", properties: { order_id: "o9", total: 999 } },
        { id: "l2", ts: "2026-03-04T00:00:01Z", visitor: "c2a", user: "c2", event: "Product Added", properties: { product_id: "p1" } },
        { id: "l3", ts: "2026-03-05T10:00:00Z", visitor: "zz", user: "c2", type: "page", campaign_source: "x", campaign_medium: "cpc" },
      ],
      "2026-01-02T00:00:00Z",
    );
    await insertOrders(w.exec, [{ id: "o10", customer: "c2", total: 5, created_at: "2026-03-06T00:00:00Z" }], "2026-01-02T00:00:00Z");
    await runModels(w.exec, { graph: duck, fullRefresh: true });
    expect(await snapshot()).toEqual(before);
    // The planted order does reach later feature dates, so the test would notice if it were ignored.
    expect(await w.rows("SELECT orders_7d::INT AS o FROM features.customer_features_daily WHERE customer_id = 'c1' AND feature_date = DATE '2026-03-05'")).toEqual([{ o: 3 }]);
  });
});

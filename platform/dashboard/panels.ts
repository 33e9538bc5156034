/**
 * The dashboard's panels: each is one read-only DuckDB statement over the warehouse for a UTC date
 * range, so the page can show, next to every number, the SQL that produced it (and
 * `npx tideline query` gives the same answer). KPIs come from the metrics layer
 * (warehouse/dataform/includes/metrics.js through warehouse/models/metrics.ts), so the page and the
 * marts share one definition of each metric.
 */
import { z } from "zod";
import { dailyMetricsSql } from "../../warehouse/models/metrics.js";

const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, "a date as YYYY-MM-DD").refine((d) => !Number.isNaN(Date.parse(`${d}T00:00:00Z`)) && new Date(`${d}T00:00:00Z`).toISOString().startsWith(d), "a calendar date");

/** Longest range one page shows (a year of days; the live series switches to hours past two days). */
export const MAX_RANGE_DAYS = 366;

export const PANEL_IDS = ["live_totals", "live_series", "kpis", "funnel", "channels", "products", "watermarks", "dead_letters", "late_rates", "models"] as const;
export type PanelId = (typeof PANEL_IDS)[number];

/** Panels the page polls while it is open (the per-minute metrics the pipeline keeps moving). */
export const LIVE_PANELS: readonly PanelId[] = ["live_totals", "live_series"];

export const DashboardQuery = z
  .object({
    from: isoDate,
    to: isoDate,
    panels: z
      .string()
      .optional()
      .transform((s, ctx) => {
        if (s === undefined || s === "") return [...PANEL_IDS];
        const ids = s.split(",");
        for (const id of ids) {
          if (!(PANEL_IDS as readonly string[]).includes(id)) {
            ctx.addIssue({ code: "custom", message: `unknown panel ${JSON.stringify(id.slice(0, 40))}; known: ${PANEL_IDS.join(", ")}` });
            return z.NEVER;
          }
        }
        return ids as PanelId[];
      }),
  })
  .refine((q) => q.from <= q.to, { message: "from must not be after to", path: ["from"] })
  .refine((q) => daysBetween(q.from, q.to) < MAX_RANGE_DAYS, { message: `the range must be shorter than ${MAX_RANGE_DAYS} days`, path: ["to"] });

export interface DateRange {
  from: string;
  to: string;
}

const DAY_MS = 86_400_000;
function daysBetween(from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / DAY_MS);
}
export function addDays(date: string, n: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + n * DAY_MS).toISOString().slice(0, 10);
}

/** The range's dates are validated as YYYY-MM-DD before they reach SQL (DashboardQuery). */
const day = (d: string) => `DATE '${d}'`;
const instant = (d: string) => `TIMESTAMPTZ '${d} 00:00:00+00'`;

export interface PanelSpec {
  id: PanelId;
  title: string;
  /** What the panel shows, for the page (and whether it follows the date range). */
  note: string;
  sql: string;
}

/** Every panel's SQL for a range; "today" on the page is the range's last day. */
export function panelSql(id: PanelId, r: DateRange): PanelSpec {
  const end = addDays(r.to, 1);
  const minuteBucket = daysBetween(r.from, r.to) < 2;
  switch (id) {
    case "live_totals":
      return {
        id,
        title: "Live: totals per stream",
        note: "ops.realtime_metrics, the pipeline's per-minute counters by event time (late records add to the minute they belong to); refreshed every few seconds",
        sql: `SELECT stream, SUM(events) AS events, SUM(orders) AS orders, SUM(revenue) AS revenue, SUM(late_events) AS late_events, CAST(MAX(updated_at) AS VARCHAR) AS last_update
FROM ops.realtime_metrics
WHERE minute >= ${instant(r.from)} AND minute < ${instant(end)}
GROUP BY stream
ORDER BY stream`,
      };
    case "live_series":
      return {
        id,
        title: `Live: events, orders and revenue per ${minuteBucket ? "minute" : "hour"} per stream`,
        note: "ops.realtime_metrics by event time (UTC); refreshed every few seconds",
        sql: `SELECT stream, CAST(epoch(date_trunc('${minuteBucket ? "minute" : "hour"}', minute)) AS BIGINT) AS t, SUM(events) AS events, SUM(orders) AS orders, SUM(revenue) AS revenue, SUM(late_events) AS late_events
FROM ops.realtime_metrics
WHERE minute >= ${instant(r.from)} AND minute < ${instant(end)}
GROUP BY ALL
ORDER BY t, stream`,
      };
    case "kpis":
      return {
        id,
        title: `KPIs: ${r.to} against the day before`,
        note: "the metrics layer (warehouse/dataform/includes/metrics.js) over marts.sessions and marts.orders, the definitions marts.daily_kpis stores",
        sql: `SELECT CAST(day AS VARCHAR) AS day, sessions, users, orders, gross_revenue, net_revenue, conversion_rate, average_order_value
FROM (
${dailyMetricsSql(["sessions", "users", "orders", "gross_revenue", "net_revenue", "conversion_rate", "average_order_value"])}
) AS daily
WHERE day IN (${day(addDays(r.to, -1))}, ${day(r.to)})
ORDER BY day DESC`,
      };
    case "funnel":
      return {
        id,
        title: "Funnel",
        note: "marts.funnel_daily over the range: each step counts sessions that reached every earlier step",
        sql: `SELECT COALESCE(SUM(sessions), 0) AS sessions, COALESCE(SUM(product_viewed), 0) AS product_viewed, COALESCE(SUM(product_added), 0) AS product_added, COALESCE(SUM(checkout_started), 0) AS checkout_started, COALESCE(SUM(order_completed), 0) AS order_completed
FROM marts.funnel_daily
WHERE funnel_date BETWEEN ${day(r.from)} AND ${day(r.to)}`,
      };
    case "channels":
      return {
        id,
        title: "Channels",
        note: "marts.channel_attribution_daily over the range: sessions, and orders and gross revenue by first touch and by last non-direct click",
        sql: `SELECT channel, SUM(sessions) AS sessions, SUM(first_touch_orders) AS first_touch_orders, SUM(first_touch_revenue) AS first_touch_revenue, SUM(last_non_direct_orders) AS last_non_direct_orders, SUM(last_non_direct_revenue) AS last_non_direct_revenue
FROM marts.channel_attribution_daily
WHERE attribution_date BETWEEN ${day(r.from)} AND ${day(r.to)}
GROUP BY channel
ORDER BY sessions DESC, channel`,
      };
    case "products":
      return {
        id,
        title: "Top products by revenue",
        note: "marts.product_performance_daily over the range, the ten with the most revenue",
        sql: `SELECT product_id, MAX(product_name) AS product_name, SUM(views) AS views, SUM(adds) AS adds, SUM(units_sold) AS units_sold, SUM(revenue) AS revenue
FROM marts.product_performance_daily
WHERE activity_date BETWEEN ${day(r.from)} AND ${day(r.to)}
GROUP BY product_id
ORDER BY revenue DESC NULLS LAST, product_id
LIMIT 10`,
      };
    case "watermarks":
      return {
        id,
        title: "Watermarks and lag per stream (now)",
        note: "ops.watermarks: the current event-time watermark; lag is the wall clock minus the latest event time loaded",
        sql: `SELECT stream, CAST(watermark_ts AS VARCHAR) AS watermark_ts, CAST(max_event_ts AS VARCHAR) AS max_event_ts, CAST(round(epoch(now()) - epoch(max_event_ts)) AS BIGINT) AS lag_seconds, CAST(updated_at AS VARCHAR) AS updated_at
FROM ops.watermarks
ORDER BY stream`,
      };
    case "dead_letters":
      return {
        id,
        title: "Dead letters by stage and reason",
        note: "ops.dead_letters that failed within the range",
        sql: `SELECT stage, reason, COUNT(*) AS dead_letters
FROM ops.dead_letters
WHERE failed_at >= ${instant(r.from)} AND failed_at < ${instant(end)}
GROUP BY stage, reason
ORDER BY dead_letters DESC, stage, reason
LIMIT 50`,
      };
    case "late_rates":
      return {
        id,
        title: "Late rows per table",
        note: "ops.partitions_touched for the range's event dates: rows that arrived behind the watermark",
        sql: `SELECT table_name, SUM(rows_loaded) AS rows_loaded, SUM(late_rows) AS late_rows, CAST(SUM(late_rows) AS DOUBLE) / NULLIF(SUM(rows_loaded), 0) AS late_rate
FROM ops.partitions_touched
WHERE event_date BETWEEN ${day(r.from)} AND ${day(r.to)}
GROUP BY table_name
ORDER BY table_name`,
      };
    case "models":
      return {
        id,
        title: "Models runs (latest first)",
        note: "ops.model_runs, written by every models run (the platform's schedule, `npx tideline models run`)",
        sql: `SELECT run_id, CAST(started_at AS VARCHAR) AS started_at, CAST(finished_at AS VARCHAR) AS finished_at, full_refresh, status
FROM ops.model_runs
ORDER BY finished_at DESC
LIMIT 5`,
      };
  }
}

/**
 * Per-minute event-time metrics (events, orders, revenue per stream). The pipeline computes the
 * increments of newly stored rows only and the warehouse adds them to the stored minute, so a late
 * record corrects the minute it belongs to and a redelivered one changes nothing.
 */
export const ORDER_EVENT = "Order Completed";

export interface MetricDelta {
  stream: string;
  /** ISO start of the minute. */
  minute: string;
  events: number;
  orders: number;
  /** Decimal text, exact to 6 places (summed in integer micro-units). */
  revenue: string;
  late_events: number;
}

interface MetricInput {
  event_ts: string;
  type?: string;
  event?: string | null;
  properties?: Record<string, unknown>;
  is_late?: boolean;
}

const MICROS = 1_000_000;

function amountMicros(v: unknown): number {
  const n = typeof v === "number" ? v : typeof v === "string" && /^-?\d+(\.\d+)?$/.test(v.trim()) ? Number(v) : NaN;
  return Number.isFinite(n) ? Math.round(n * MICROS) : 0;
}

export function microsToDecimal(micros: number): string {
  const neg = micros < 0;
  const abs = Math.abs(micros);
  const s = `${Math.trunc(abs / MICROS)}.${String(abs % MICROS).padStart(6, "0")}`;
  return neg ? `-${s}` : s;
}

const UTC_ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?Z$/;

export const minuteOf = (iso: string) => {
  if (UTC_ISO.test(iso)) return `${iso.slice(0, 16)}:00.000Z`;
  const ms = Date.parse(iso);
  return new Date(ms - (((ms % 60_000) + 60_000) % 60_000)).toISOString();
};

export function minuteMetrics(stream: string, rows: MetricInput[]): MetricDelta[] {
  const by = new Map<string, { events: number; orders: number; micros: number; late: number }>();
  for (const r of rows) {
    const minute = minuteOf(r.event_ts);
    let m = by.get(minute);
    if (!m) by.set(minute, (m = { events: 0, orders: 0, micros: 0, late: 0 }));
    m.events++;
    if (r.is_late) m.late++;
    if (r.type === "track" && r.event === ORDER_EVENT) {
      m.orders++;
      const p = r.properties ?? {};
      // The order total (Segment's `total`), else `revenue`: what the warehouse's order facts count,
      // so the real-time figure reconciles with them (ops.revenue_reconciliation).
      m.micros += amountMicros(p.total ?? p.revenue);
    }
  }
  return [...by.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([minute, m]) => ({ stream, minute, events: m.events, orders: m.orders, revenue: microsToDecimal(m.micros), late_events: m.late }));
}

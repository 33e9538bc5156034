/**
 * Event time corrected for the client's clock, as Segment does: when the client says when it sent
 * the request (sentAt), the difference to our receipt time is its clock error (plus network time),
 * and it is applied to the client's event timestamp.
 */
import { MAX_FUTURE_EVENT_MS } from "../../../contracts/limits.js";

export interface EventTime {
  event_ts: string;
  sent_at: string | null;
  original_ts: string | null;
  clock_skew_ms: number | null;
}

const parse = (s: string | undefined) => {
  if (!s) return null;
  const t = Date.parse(s);
  return Number.isNaN(t) ? null : t;
};

/** Client timestamps in canonical UTC form (as analytics.js and most SDKs send them) are kept as sent. */
const CANONICAL = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const iso = (raw: string | undefined, t: number) => (raw && CANONICAL.test(raw) ? raw : new Date(t).toISOString());

/**
 * `correct` is false for historical data (bulk uploads): the time since it was sent is not clock
 * error, so the timestamp is taken as it is (still clamped when it lies in the future).
 */
export function eventTime(receivedAt: number, timestamp: string | undefined, sentAt: string | undefined, correct = true): EventTime {
  const ts = parse(timestamp);
  const sent = parse(sentAt);
  const skew = sent == null || !correct ? null : receivedAt - sent;
  let t = ts == null ? receivedAt : skew == null ? ts : ts + skew;
  // A corrected time in the future means a bad client clock without sentAt: trust our clock instead.
  if (t > receivedAt + MAX_FUTURE_EVENT_MS) t = receivedAt;
  return {
    event_ts: new Date(t).toISOString(),
    sent_at: sent == null ? null : iso(sentAt, sent),
    original_ts: ts == null ? null : iso(timestamp, ts),
    clock_skew_ms: skew,
  };
}

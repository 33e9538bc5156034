/**
 * The proof's load: SDK batches, Shopify webhooks and Debezium changes with ids unique to one run
 * (a tag), sent at a steady rate by senders that behave like SDKs: a request is retried, with
 * backoff, until the edge answers 2xx, whatever else happens (connection refused while the edge
 * restarts, 429, 5xx). What was accepted is known per id, so the warehouse can be checked for
 * every one of them: lost, duplicated or dead-lettered.
 */
import { cdcRequest, segmentBatchRequest, shopifyRequest, type EdgeRequest } from "../../workload/send.js";
import type { CdcEnvelope, SegmentEvent } from "../../workload/generate.js";

export type Kind = "events" | "webhooks" | "cdc";

export interface ProofRequest extends EdgeRequest {
  kind: Kind;
  /** The ids the warehouse keeps for the items: message_id, webhook_id, or the changed row's id. */
  ids: string[];
}

const BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36";

export function proofEvent(tag: string, i: number, now: number, extra: Partial<SegmentEvent> = {}): SegmentEvent {
  return {
    type: "track",
    event: i % 10 === 0 ? "Product Added" : "Product Viewed",
    messageId: `${tag}-e-${i}`,
    anonymousId: `${tag}-v-${i % 997}`,
    timestamp: new Date(now).toISOString(),
    properties: { sku: `SKU-${i % 50}`, price: 10 + (i % 7) },
    context: { library: { name: "analytics.js", version: "2.11.1" }, userAgent: BROWSER, page: { url: "https://shop.example.com/p", path: "/p", referrer: "" } },
    ...extra,
  };
}

/** Positive, increasing LSNs unique to the run: the CDC position the warehouse keys on. */
function lsn(tag: string, i: number) {
  let h = 0;
  for (const c of tag) h = (Math.imul(h, 31) + c.charCodeAt(0)) >>> 0;
  return (h % 1_000_000) * 10_000_000 + i + 1;
}

export function proofChange(tag: string, i: number, now: number): CdcEnvelope {
  const id = `${tag}-c-${i}`;
  return {
    before: null,
    after: { id, sku: `SKU-${i % 50}`, name: `product ${i}`, category: "shoes", price: "12.50", currency: "USD", updated_at: new Date(now).toISOString() },
    source: { version: "2.5.0.Final", connector: "postgresql", name: "proof", db: "shop", schema: "public", table: "products", lsn: lsn(tag, i), txId: i + 1, ts_ms: now, snapshot: "false" },
    op: "c",
    ts_ms: now,
  };
}

/**
 * Requests for `total` items: per 100 items, 80 SDK events (one batch), 15 CDC changes (one
 * request) and 5 Shopify webhooks (one request each), in an interleaved order.
 */
export function* proofRequests(tag: string, total: number, now = Date.now()): Generator<ProofRequest> {
  let e = 0;
  let c = 0;
  let w = 0;
  for (let sent = 0; sent < total; ) {
    const n = Math.min(80, total - sent);
    const events = Array.from({ length: n }, () => proofEvent(tag, e++, now));
    yield { ...segmentBatchRequest(events), kind: "events", ids: events.map((x) => x.messageId) };
    sent += n;
    const k = Math.min(15, total - sent);
    if (k > 0) {
      const changes = Array.from({ length: k }, () => proofChange(tag, c++, now));
      yield { ...cdcRequest(changes), kind: "cdc", ids: changes.map((x) => String(x.after!.id)) };
      sent += k;
    }
    for (let j = 0; j < 5 && sent < total; j++, sent++) {
      const id = `${tag}-w-${w++}`;
      yield { ...shopifyRequest("orders/create", id, { id, name: `#${id}`, total_price: "20.00", currency: "USD", created_at: new Date(now).toISOString() }), kind: "webhooks", ids: [id] };
    }
  }
}

/** Only SDK batches of `perRequest` events (the reproduction). */
export function* eventRequests(tag: string, total: number, perRequest: number, now = Date.now()): Generator<ProofRequest> {
  for (let i = 0; i < total; i += perRequest) {
    const events = Array.from({ length: Math.min(perRequest, total - i) }, (_, j) => proofEvent(tag, i + j, now));
    yield { ...segmentBatchRequest(events), kind: "events", ids: events.map((x) => x.messageId) };
  }
}

export interface SendReport {
  accepted: Record<Kind, Set<string>>;
  requests: number;
  retries: number;
  /** Items the edge accepted the request of but listed as rejected (should stay 0). */
  rejected: number;
  /** When the last request got its 2xx. */
  lastAcceptedAt: number;
}

/**
 * Sends the requests at `itemsPerSecond` with `concurrency` in flight; each is retried until 2xx
 * (or until `deadline`, then the run fails: an SDK would still be retrying).
 */
export async function sendUntilAccepted(
  edgeUrl: string,
  requests: Iterable<ProofRequest>,
  o: { itemsPerSecond: number; concurrency?: number; deadline?: number; onAccepted?: (items: number) => void },
): Promise<SendReport> {
  const report: SendReport = { accepted: { events: new Set(), webhooks: new Set(), cdc: new Set() }, requests: 0, retries: 0, rejected: 0, lastAcceptedAt: 0 };
  const it = requests[Symbol.iterator]();
  const started = Date.now();
  let scheduledItems = 0;
  let acceptedItems = 0;
  const deadline = o.deadline ?? Date.now() + 30 * 60_000;
  const worker = async () => {
    for (let n = it.next(); !n.done; n = it.next()) {
      const req = n.value;
      // Pace by items: this request may leave when the items before it are due.
      const due = started + (scheduledItems / o.itemsPerSecond) * 1000;
      scheduledItems += req.ids.length;
      if (due > Date.now()) await sleep(due - Date.now());
      for (let attempt = 0; ; attempt++) {
        if (Date.now() > deadline) throw new Error(`a ${req.kind} request was still not accepted at the deadline (${attempt} attempts)`);
        let status = 0;
        let body = "";
        try {
          const res = await fetch(`${edgeUrl}${req.path}`, { method: "POST", headers: req.headers, body: req.body, signal: AbortSignal.timeout(15_000) });
          status = res.status;
          body = await res.text();
        } catch {
          status = 0;
        }
        if (status >= 200 && status < 300) {
          const parsed = JSON.parse(body) as { rejected?: unknown[] };
          report.rejected += parsed.rejected?.length ?? 0;
          for (const id of req.ids) report.accepted[req.kind].add(id);
          report.lastAcceptedAt = Date.now();
          acceptedItems += req.ids.length;
          o.onAccepted?.(acceptedItems);
          break;
        }
        if (status >= 400 && status < 500 && status !== 429 && status !== 408) throw new Error(`the edge refused a ${req.kind} request with ${status}: ${body.slice(0, 300)}`);
        report.retries++;
        await sleep(Math.min(2000, 100 * 2 ** Math.min(attempt, 5)) * (0.5 + Math.random() / 2));
      }
      report.requests++;
    }
  };
  await Promise.all(Array.from({ length: o.concurrency ?? 8 }, worker));
  return report;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface Tally {
  kind: Kind;
  accepted: number;
  /** Rows in raw.* of this run's ids. */
  rows: number;
  distinct: number;
  deadLetters: number;
  lost: number;
  duplicated: number;
}

const QUERY_PAGE_ROWS = 10_000;

const TABLE: Record<Kind, { table: string; id: string }> = {
  events: { table: "raw.events", id: "message_id" },
  webhooks: { table: "raw.webhooks", id: "webhook_id" },
  cdc: { table: "raw.cdc_changes", id: "json_extract_string(after, '$.id')" },
};

/** Compares what the edge accepted with raw.* and ops.dead_letters, through a SQL runner. */
export async function tally(query: <T>(sql: string) => Promise<T[]>, tag: string, accepted: SendReport["accepted"]): Promise<Tally[]> {
  const out: Tally[] = [];
  for (const kind of ["events", "webhooks", "cdc"] as Kind[]) {
    const ids = accepted[kind];
    const { table, id } = TABLE[kind];
    const filter = `${id} LIKE '${tag}-%'`;
    // The operator API returns at most 10,000 rows per query, so the ids are read in pages.
    const rows: { id: string; n: number | string }[] = [];
    for (let page: { id: string; n: number | string }[] = []; rows.length === 0 || page.length === QUERY_PAGE_ROWS; ) {
      page = await query<{ id: string; n: number | string }>(`SELECT ${id} AS id, count(*) AS n FROM ${table} WHERE ${filter} GROUP BY 1 ORDER BY 1 LIMIT ${QUERY_PAGE_ROWS} OFFSET ${rows.length}`);
      rows.push(...page);
      if (page.length === 0) break;
    }
    const seen = new Map(rows.map((r) => [String(r.id), Number(r.n)]));
    const dead = await query<{ n: number | string }>(`SELECT count(*) AS n FROM ops.dead_letters WHERE stream = '${kind}' AND payload LIKE '%${tag}-%'`);
    let lost = 0;
    for (const x of ids) if (!seen.has(x)) lost++;
    const total = [...seen.values()].reduce((a, b) => a + b, 0);
    out.push({ kind, accepted: ids.size, rows: total, distinct: seen.size, deadLetters: Number(dead[0]?.n ?? 0), lost, duplicated: total - seen.size });
  }
  return out;
}

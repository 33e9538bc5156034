/**
 * One line of a bulk upload → the records the live path would have made of it. Lines are the live
 * path's inputs, never records: a Segment event (events), a webhook delivery as
 * `{"headers": {…}, "body": …}` (webhooks), a Debezium change event (cdc). They go through the same
 * checks and enrichment as live requests (size and nesting, validation, event_id, IP and PII
 * hashing, CDC positions), and the source is the credential's, whatever a line says.
 */
import { MAX_EVENT_BYTES } from "../../../contracts/limits.js";
import type { Stream } from "../../../contracts/records.js";
import { SegmentEvent } from "../../../contracts/segment.js";
import { keyedTombstone, toCdcItem } from "../cdc/records.js";
import type { EdgeConfig } from "../config.js";
import { toEventRecord, type RequestFacts } from "../enrich/event.js";
import { stableId } from "../enrich/hash.js";
import { EdgeError, excerpt } from "../errors.js";
import { jsonLimitError } from "../lib/json-limits.js";
import { describeIssues } from "../lib/zod-error.js";
import { recordsOfDelivery } from "../webhooks/records.js";

export type LineResult =
  | { kind: "records"; records: string[] }
  | { kind: "rejected"; error: string }
  /** A CDC tombstone without a table: acknowledged, not stored (as live). */
  | { kind: "tombstone" }
  /** An event without analytics consent under CONSENT_MODE=drop (as live). */
  | { kind: "dropped" };

export interface UploadFacts {
  /** The credential's source: every record's source (events, webhooks), or "cdc". */
  source: string;
  receivedAt: number;
  requestId: string;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

const NO_GEO = { geo_country: null, geo_region: null, geo_city: null, geo_timezone: null, geo_source: "none" } as const;

/** Turns each line of one upload into records; keeps per-upload facts computed once. */
export function lineProcessor(stream: Stream, up: UploadFacts, cfg: EdgeConfig): (text: string) => LineResult {
  const receivedAtIso = new Date(up.receivedAt).toISOString();
  const reject = (error: string): LineResult => ({ kind: "rejected", error });
  const parse = (text: string): unknown => {
    try {
      return JSON.parse(text);
    } catch (e) {
      return new SyntaxError(excerpt((e as Error).message, 120));
    }
  };

  if (stream === "events") {
    // The uploader's address, user agent and location say nothing about the events' visitors.
    const facts: RequestFacts = { source: up.source, receivedAt: up.receivedAt, receivedAtIso, requestId: up.requestId, clientIp: null, userAgent: null, geo: NO_GEO, historical: true };
    return (text) => {
      const raw = parse(text);
      if (raw instanceof SyntaxError) return reject(`not valid JSON: ${raw.message}`);
      if (!isObj(raw)) return reject("a line must be one Segment event (a JSON object)");
      const problem = jsonLimitError(raw, MAX_EVENT_BYTES, "event");
      if (problem) return reject(problem);
      const parsed = SegmentEvent.safeParse(raw);
      if (!parsed.success) return reject(describeIssues(parsed.error));
      const record = toEventRecord(parsed.data, facts, cfg);
      return record ? { kind: "records", records: [JSON.stringify(record)] } : { kind: "dropped" };
    };
  }

  if (stream === "webhooks") {
    const facts = { received_at: receivedAtIso, request_id: up.requestId };
    return (text) => {
      const line = parse(text);
      if (line instanceof SyntaxError) return reject(`not valid JSON: ${line.message}`);
      if (!isObj(line) || !("body" in line)) return reject('a line must be one delivery: {"headers": {…}, "body": <the payload, as JSON or as the raw body text>}');
      if (line.headers !== undefined && !isObj(line.headers)) return reject("headers must be an object of header name → value");
      const headers = new Map<string, string>();
      for (const [k, v] of Object.entries((line.headers as Obj | undefined) ?? {})) if (typeof v === "string") headers.set(k.toLowerCase(), v);
      let payload = line.body;
      let bodyText: string;
      if (typeof payload === "string") {
        bodyText = payload;
        payload = parse(payload);
        if (payload instanceof SyntaxError) return reject(`body is not valid JSON: ${payload.message}`);
      } else {
        const deep = jsonLimitError(payload, Number.POSITIVE_INFINITY, "the delivery");
        if (deep) return reject(deep);
        bodyText = JSON.stringify(payload);
      }
      try {
        const records = recordsOfDelivery(up.source, { header: (n) => headers.get(n), payload, bodyHash: stableId(bodyText) }, facts, cfg);
        return { kind: "records", records: records.map((r) => JSON.stringify(r)) };
      } catch (e) {
        if (e instanceof EdgeError) return reject(e.message);
        throw e;
      }
    };
  }

  const info = { receivedAtIso, requestId: up.requestId, cfg };
  return (text) => {
    const item = parse(text);
    if (item instanceof SyntaxError) return reject(`not valid JSON: ${item.message}`);
    const r = keyedTombstone(item, info) ?? toCdcItem(item, info);
    if (r.kind === "tombstone-unkeyed") return { kind: "tombstone" };
    if (r.kind === "invalid") return reject(r.error);
    return { kind: "records", records: [JSON.stringify(r.record)] };
  };
}

/**
 * Segment HTTP Tracking API compatible endpoints: /v1/batch and the single-call endpoints with their
 * short aliases. Every event is validated on its own; good ones are accepted, bad ones reported by
 * index, and the response is sent only after the accepted records are on the queue.
 */
import type { Context, Hono } from "hono";
import { MAX_BATCH_BYTES, MAX_EVENT_BYTES } from "../../../contracts/limits.js";
import { SegmentBatch, SegmentEvent, type SegmentType } from "../../../contracts/segment.js";
import type { Rejection } from "../../../contracts/responses.js";
import type { z } from "zod";
import { config } from "../config.js";
import { EdgeError, badRequest } from "../errors.js";
import { toEventRecord, type RequestFacts } from "../enrich/event.js";
import { geoFrom } from "../enrich/geo.js";
import { basicUsername, sourceForWriteKey } from "../lib/auth.js";
import { isAscii, parseBody } from "../lib/json-body.js";
import { describeIssues } from "../lib/zod-error.js";
import { clientIp, enforceRateLimit } from "../middleware/rate-limit.js";
import { readBody } from "../middleware/read-body.js";
import { sendRecords, utf8Length } from "../queue/producer.js";
import type { AppEnv } from "../types.js";

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

const SINGLE: [SegmentType, string[]][] = [
  ["track", ["/v1/track", "/v1/t"]],
  ["page", ["/v1/page", "/v1/p"]],
  ["screen", ["/v1/screen", "/v1/s"]],
  ["identify", ["/v1/identify", "/v1/i"]],
  ["group", ["/v1/group", "/v1/g"]],
  ["alias", ["/v1/alias", "/v1/a"]],
];

const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;

async function ingest(c: Context<AppEnv>, events: unknown[], batch: Obj, bodyBytes: number, asciiBody: boolean) {
  const cfg = config(c.env);
  const source = sourceForWriteKey(cfg.WRITE_KEYS, basicUsername(c.req.header("authorization")) ?? (batch.writeKey as string | undefined));
  await enforceRateLimit(c, `wk:${source}`);

  const receivedAt = c.get("receivedAt");
  const facts: RequestFacts = {
    source,
    receivedAt,
    receivedAtIso: new Date(receivedAt).toISOString(),
    requestId: c.get("requestId"),
    clientIp: clientIp(c.req.raw),
    userAgent: c.req.header("user-agent") ?? null,
    geo: geoFrom(c.req.raw),
    sentAt: typeof batch.sentAt === "string" ? batch.sentAt : undefined,
  };
  const batchContext = isObj(batch.context) ? batch.context : null;
  const batchIntegrations = isObj(batch.integrations) ? batch.integrations : null;

  const rejected: z.infer<typeof Rejection>[] = [];
  const serialized: string[] = [];
  const indexOf: number[] = [];
  let dropped = 0;
  // Only a body larger than one event's limit can hold an oversized event: skip measuring otherwise.
  // The record carries all of the event's stored content, so only events whose record is large are
  // measured exactly (serializing every event again would double the parsing cost).
  const measure = bodyBytes > MAX_EVENT_BYTES;

  for (let i = 0; i < events.length; i++) {
    let raw = events[i];
    if (!isObj(raw)) {
      rejected.push({ index: i, error: "an event must be a JSON object" });
      continue;
    }
    if (batchContext || batchIntegrations) {
      raw = {
        ...raw,
        ...(batchContext ? { context: { ...batchContext, ...(isObj(raw.context) ? raw.context : {}) } } : {}),
        ...(batchIntegrations ? { integrations: { ...batchIntegrations, ...(isObj(raw.integrations) ? raw.integrations : {}) } } : {}),
      };
    }
    const parsed = SegmentEvent.safeParse(raw);
    if (!parsed.success) {
      rejected.push({ index: i, error: describeIssues(parsed.error) });
      continue;
    }
    const record = toEventRecord(parsed.data, facts, cfg);
    if (!record) {
      dropped++;
      continue;
    }
    const json = JSON.stringify(record);
    if (measure && json.length > MAX_EVENT_BYTES) {
      const size = utf8Length(JSON.stringify(raw));
      if (size > MAX_EVENT_BYTES) {
        rejected.push({ index: i, error: `event is ${kb(size)}, over the ${kb(MAX_EVENT_BYTES)} limit per event` });
        continue;
      }
    }
    serialized.push(json);
    indexOf.push(i);
  }

  // Records are ASCII when everything they are built from is: then no byte counting is needed.
  const g = facts.geo;
  const ascii = asciiBody && isAscii(facts.userAgent) && isAscii(facts.requestId) && isAscii(g.geo_city) && isAscii(g.geo_region) && isAscii(g.geo_timezone);
  const { oversize } = await sendRecords(c.env.INGEST_QUEUE, "events", serialized, { ascii });
  for (const k of oversize) rejected.push({ index: indexOf[k]!, error: "event is too large for the queue after enrichment" });
  rejected.sort((a, b) => a.index - b.index);
  const accepted = serialized.length - oversize.length;

  if (accepted === 0 && dropped === 0 && rejected.length > 0) {
    throw new EdgeError(
      400,
      "invalid_event",
      events.length === 1 ? `invalid event: ${rejected[0]!.error}` : `none of the ${events.length} events is valid`,
      "Fix the events listed in `rejected` (see /v1/openapi.json for the schema).",
      {},
      rejected,
    );
  }
  return c.json({
    success: true,
    accepted,
    rejected,
    ...(dropped ? { dropped_without_consent: dropped } : {}),
    request_id: c.get("requestId"),
  });
}

export function segmentRoutes(app: Hono<AppEnv>) {
  const batchHandler = async (c: Context<AppEnv>) => {
    const body = c.get("body");
    const { json, ascii } = parseBody(c.req.header("content-type"), body);
    // Some SDKs post a bare array of events.
    const candidate = Array.isArray(json) ? { batch: json } : json;
    const parsed = SegmentBatch.safeParse(candidate);
    if (!parsed.success) throw badRequest(`not a Segment batch: ${describeIssues(parsed.error)}`, 'Send {"batch": [event, …]}.');
    return ingest(c, parsed.data.batch, parsed.data, body.byteLength, ascii);
  };
  for (const path of ["/v1/batch", "/v1/b", "/v1/import"]) app.post(path, readBody(MAX_BATCH_BYTES), batchHandler);

  for (const [type, paths] of SINGLE) {
    const handler = async (c: Context<AppEnv>) => {
      const body = c.get("body");
      const { json, ascii } = parseBody(c.req.header("content-type"), body);
      if (!isObj(json)) throw badRequest(`a ${type} call must be a JSON object`);
      return ingest(c, [{ ...json, type }], json, body.byteLength, ascii);
    };
    for (const path of paths) app.post(path, readBody(MAX_EVENT_BYTES), handler);
  }
}

/**
 * Segment HTTP Tracking API compatible endpoints: /v1/batch and the single-call endpoints with their
 * short aliases. A write key sent as Basic username is checked before the body is read (a write key
 * in the body after reading it). Every event is checked for size and nesting first, then validated
 * on its own; good ones are accepted, bad ones reported by index, and the response is sent only
 * after the accepted records are on the queue.
 */
import type { Context, Hono } from "hono";
import { createMiddleware } from "hono/factory";
import { MAX_BATCH_BYTES, MAX_EVENT_BYTES } from "../../../contracts/limits.js";
import { SegmentBatch, SegmentEvent, type SegmentType } from "../../../contracts/segment.js";
import type { Rejection } from "../../../contracts/responses.js";
import type { z } from "zod";
import { config } from "../config.js";
import { EdgeError, badRequest } from "../errors.js";
import { jsonLimitError } from "../lib/json-limits.js";
import { toEventRecord, type RequestFacts } from "../enrich/event.js";
import { geoFrom } from "../enrich/geo.js";
import { basicUsername, sourceForWriteKey } from "../lib/auth.js";
import { isAscii, parseBody } from "../lib/json-body.js";
import { describeIssues } from "../lib/zod-error.js";
import { clientIp, enforceRateLimit } from "../middleware/rate-limit.js";
import { readBody } from "../middleware/read-body.js";
import { sendRecords } from "../queue/producer.js";
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

const BATCH_PATHS = ["/v1/batch", "/v1/b", "/v1/import"];
/** Every Segment endpoint and alias: the only paths browsers may call cross-origin (app.ts). */
export const SEGMENT_PATHS = [...BATCH_PATHS, ...SINGLE.flatMap(([, paths]) => paths)];

/** A write key in the Authorization header is checked (and rate-limited) before the body is read. */
const headerWriteKey = createMiddleware<AppEnv>(async function headerWriteKey(c, next) {
  const key = basicUsername(c.req.header("authorization"));
  if (key) {
    const source = sourceForWriteKey(config(c.env).WRITE_KEYS, key);
    await enforceRateLimit(c, `wk:${source}`);
    c.set("source", source);
  }
  await next();
});

async function ingest(c: Context<AppEnv>, events: unknown[], batch: Obj, asciiBody: boolean) {
  const cfg = config(c.env);
  let source = c.get("source");
  if (!source) {
    source = sourceForWriteKey(cfg.WRITE_KEYS, typeof batch.writeKey === "string" ? batch.writeKey : null);
    await enforceRateLimit(c, `wk:${source}`);
  }

  const receivedAt = c.get("receivedAt");
  const facts: RequestFacts = {
    source,
    receivedAt,
    receivedAtIso: new Date(receivedAt).toISOString(),
    requestId: c.get("requestId"),
    clientIp: clientIp(c),
    userAgent: c.req.header("user-agent") ?? null,
    geo: geoFrom(c.req.raw, cfg.trustClientHeaders),
    sentAt: typeof batch.sentAt === "string" ? batch.sentAt : undefined,
  };
  const batchContext = isObj(batch.context) ? batch.context : null;
  const batchIntegrations = isObj(batch.integrations) ? batch.integrations : null;
  for (const [what, v] of [["the batch's context", batchContext], ["the batch's integrations", batchIntegrations]] as const) {
    const problem = v && jsonLimitError(v, MAX_EVENT_BYTES, what);
    if (problem) throw badRequest(problem, "Send a smaller, flatter batch-level context (it is merged into every event).");
  }

  const rejected: z.infer<typeof Rejection>[] = [];
  const serialized: string[] = [];
  const indexOf: number[] = [];
  let dropped = 0;

  for (let i = 0; i < events.length; i++) {
    let raw = events[i];
    if (!isObj(raw)) {
      rejected.push({ index: i, error: "an event must be a JSON object" });
      continue;
    }
    // Size and nesting before anything else reads the event (validation, enrichment, serializing).
    const problem = jsonLimitError(raw, MAX_EVENT_BYTES, "event");
    if (problem) {
      rejected.push({ index: i, error: problem });
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
    serialized.push(JSON.stringify(record));
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
    return ingest(c, parsed.data.batch, parsed.data, ascii);
  };
  for (const path of BATCH_PATHS) app.post(path, headerWriteKey, readBody(MAX_BATCH_BYTES), batchHandler);

  for (const [type, paths] of SINGLE) {
    const handler = async (c: Context<AppEnv>) => {
      const body = c.get("body");
      const { json, ascii } = parseBody(c.req.header("content-type"), body);
      if (!isObj(json)) throw badRequest(`a ${type} call must be a JSON object`);
      return ingest(c, [{ ...json, type }], json, ascii);
    };
    for (const path of paths) app.post(path, headerWriteKey, readBody(MAX_EVENT_BYTES), handler);
  }
}

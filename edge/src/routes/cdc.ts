/**
 * POST /v1/cdc: Debezium change events as Debezium Server's HTTP sink (or a Kafka Connect bridge)
 * posts them — one object, a JSON array, or NDJSON; with or without {schema, payload}; {key, value}
 * records; tombstones. The bearer token is checked before the body is read; each event is
 * validated on its own and reported by index.
 */
import type { Hono } from "hono";
import { MAX_CDC_BODY_BYTES } from "../../../contracts/limits.js";
import type { Rejection } from "../../../contracts/responses.js";
import type { z } from "zod";
import { config } from "../config.js";
import { EdgeError, badRequest, excerpt, unauthorized } from "../errors.js";
import type { EdgeConfig } from "../config.js";
import { bearerToken, safeEqual } from "../lib/auth.js";
import { bodyText } from "../lib/json-body.js";
import { enforceRateLimit } from "../middleware/rate-limit.js";
import { readBody } from "../middleware/read-body.js";
import { sendRecords } from "../queue/producer.js";
import type { AppEnv } from "../types.js";
import { keyedTombstone, toCdcItem } from "../cdc/records.js";

function parseItems(contentType: string | undefined, text: string): unknown[] {
  const type = (contentType ?? "").split(";")[0]!.trim().toLowerCase();
  const trimmed = text.trim();
  if (!trimmed) throw badRequest("the request body is empty", "Send one Debezium change event, a JSON array of them, or NDJSON.");
  const ndjson = () =>
    trimmed
      .split("\n")
      .map((l) => l.trim())
      .filter(Boolean)
      .map((line, i) => {
        try {
          return JSON.parse(line) as unknown;
        } catch (e) {
          return new LineError(i, excerpt((e as Error).message, 120));
        }
      });
  if (type === "application/x-ndjson" || type === "application/jsonl" || type === "application/json-seq") return ndjson();
  try {
    const v = JSON.parse(trimmed) as unknown;
    return Array.isArray(v) ? v : [v];
  } catch (e) {
    if (trimmed.includes("\n")) return ndjson();
    throw badRequest(`the body is not valid JSON: ${excerpt((e as Error).message, 120)}`, "Send one change event, a JSON array, or NDJSON (Content-Type: application/x-ndjson).");
  }
}

class LineError {
  constructor(
    readonly line: number,
    readonly message: string,
  ) {}
}

/** Checks the CDC bearer token of a request (live and bulk uploads); throws 401 otherwise. */
export function checkCdcToken(cfg: EdgeConfig, authorization: string | undefined): void {
  if (!cfg.CDC_TOKEN) throw unauthorized("CDC ingestion is not configured", "Set the CDC_TOKEN secret.");
  const token = bearerToken(authorization);
  if (!token) throw unauthorized("missing bearer token", "Send Authorization: Bearer <CDC_TOKEN> (Debezium Server: debezium.sink.http.headers.Authorization).");
  if (!safeEqual(token, cfg.CDC_TOKEN)) throw unauthorized("invalid CDC token");
}

export function cdcRoutes(app: Hono<AppEnv>) {
  app.post(
    "/v1/cdc",
    async function cdcToken(c, next) {
      checkCdcToken(config(c.env), c.req.header("authorization"));
      await enforceRateLimit(c, "cdc");
      await next();
    },
    readBody(MAX_CDC_BODY_BYTES),
    async (c) => {
      const cfg = config(c.env);
      const items = parseItems(c.req.header("content-type"), bodyText(c.get("body")));
      const info = { receivedAtIso: new Date(c.get("receivedAt")).toISOString(), requestId: c.get("requestId"), cfg };
      const rejected: z.infer<typeof Rejection>[] = [];
      const serialized: string[] = [];
      const indexOf: number[] = [];
      let tombstones = 0;
      items.forEach((item, i) => {
        if (item instanceof LineError) {
          rejected.push({ index: i, error: `line ${item.line + 1} is not valid JSON: ${item.message}` });
          return;
        }
        const r = keyedTombstone(item, info) ?? toCdcItem(item, info);
        if (r.kind === "tombstone-unkeyed") tombstones++;
        else if (r.kind === "invalid") rejected.push({ index: i, error: r.error });
        else {
          serialized.push(JSON.stringify(r.record));
          indexOf.push(i);
        }
      });

      const { oversize } = serialized.length ? await sendRecords(c.env.INGEST_QUEUE, "cdc", serialized) : { oversize: [] };
      for (const k of oversize) rejected.push({ index: indexOf[k]!, error: "the change event is larger than a 128 KB queue message" });
      rejected.sort((a, b) => a.index - b.index);
      const accepted = serialized.length - oversize.length;
      if (accepted === 0 && tombstones === 0 && rejected.length) {
        throw new EdgeError(
          items.length === 1 && oversize.length ? 413 : 400,
          items.length === 1 && oversize.length ? "payload_too_large" : "invalid_event",
          items.length === 1 ? rejected[0]!.error : `none of the ${items.length} change events is valid`,
          "Fix the events listed in `rejected`; see /v1/openapi.json for the schema.",
          {},
          rejected,
        );
      }
      return c.json({ success: true, accepted, rejected, ...(tombstones ? { tombstones } : {}), request_id: c.get("requestId") });
    },
  );
}

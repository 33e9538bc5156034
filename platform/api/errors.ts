/**
 * One error path for the operator API, as the edge has (edge/src/errors.ts): a caller's mistake is
 * an ApiError (4xx, coded, with a hint); anything else is a 500 naming what failed, never a stack.
 */
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { QueryError, type QueryErrorCode } from "../../warehouse/duckdb/query.js";
import type { ErrorBody } from "./schemas.js";

export type ApiErrorCode =
  | "invalid_request"
  | "malformed_json"
  | "unauthorized"
  | "forbidden_host"
  | "forbidden_origin"
  | "unsupported_media_type"
  | "payload_too_large"
  | "not_found"
  | QueryErrorCode
  | "internal";

export class ApiError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: ApiErrorCode,
    message: string,
    readonly hint?: string,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

const QUERY_STATUS: Record<QueryErrorCode, ContentfulStatusCode> = { rejected: 400, sql: 400, not_built: 400, timeout: 408, unavailable: 503 };

/** The Zod issues as "field: problem", the field as a dotted path of the body. */
export interface Issues {
  issues: readonly { path: readonly PropertyKey[]; message: string }[];
}

export function invalidInput(error: Issues): ApiError {
  const issues = error.issues.map((i) => `${i.path.length ? i.path.map(String).join(".") : "body"}: ${i.message}`);
  return new ApiError(400, "invalid_request", `invalid request: ${issues.join("; ")}`, "see GET /api/openapi.json for the request bodies");
}

/** The body of an error answer (also sent as the last line of an NDJSON stream that fails). */
export function errorBody(err: unknown): { status: ContentfulStatusCode; body: ErrorBody } {
  if (err instanceof ApiError) return { status: err.status, body: { error: { code: err.code, message: err.message, ...(err.hint ? { hint: err.hint } : {}) } } };
  if (err instanceof QueryError) return { status: QUERY_STATUS[err.code], body: { error: { code: err.code, message: err.message, ...(err.hint ? { hint: err.hint } : {}) } } };
  if (err instanceof HTTPException) {
    // Raised inside Hono's own middleware (the JSON validator's parse, the media-type gate).
    const code: ApiErrorCode = err.status === 415 ? "unsupported_media_type" : err.status === 413 ? "payload_too_large" : /json/i.test(err.message) ? "malformed_json" : "invalid_request";
    const status = (err.status >= 400 && err.status < 500 ? err.status : 400) as ContentfulStatusCode;
    return { status, body: { error: { code, message: err.message || "bad request", ...(code === "malformed_json" ? { hint: 'send a JSON object, e.g. {"sql": "SELECT 1"}' } : {}) } } };
  }
  const what = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  console.error(`operator API: ${what}`);
  return { status: 500, body: { error: { code: "internal", message: `the operator API failed: ${what}`, hint: "see the output of `npm start`; this is a bug if it repeats" } } };
}

export function errorResponse(err: unknown, c: Context): Response {
  const { status, body } = errorBody(err);
  return c.json(body, status);
}

export const notFound = (c: Context): Response =>
  errorResponse(new ApiError(404, "not_found", `no route ${c.req.method} ${c.req.path}`, "the routes are listed in GET /api/openapi.json"), c);

/**
 * One error path for the edge: user mistakes are EdgeError (4xx, coded, with a hint); a wrong
 * configuration is a 500 that names the variable; anything else becomes a 503 that tells the
 * client to retry, never a stack trace. Failed authentications are counted here (per client IP).
 */
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { excerpt } from "./lib/excerpt.js";
import type { ErrorCode } from "../../contracts/responses.js";
import type { z } from "zod";
import type { Rejection } from "../../contracts/responses.js";
import { ConfigError } from "./config.js";
import { countAuthFailure } from "./middleware/auth-failures.js";
import type { AppEnv } from "./types.js";

export class EdgeError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: ErrorCode,
    message: string,
    readonly hint?: string,
    readonly headers: Record<string, string> = {},
    readonly rejected?: z.infer<typeof Rejection>[],
  ) {
    super(message);
    this.name = "EdgeError";
  }
}

export const badRequest = (message: string, hint?: string) => new EdgeError(400, "malformed_body", message, hint);
export const unauthorized = (message: string, hint?: string) => new EdgeError(401, "unauthorized", message, hint);
export const badSignature = (message: string, hint?: string) => new EdgeError(401, "bad_signature", message, hint);
export const tooLarge = (message: string, hint?: string) => new EdgeError(413, "payload_too_large", message, hint);
export const forbidden = (message: string, hint?: string) => new EdgeError(403, "forbidden", message, hint);

export { excerpt };

const AUTH_FAILURES = new Set<ErrorCode>(["unauthorized", "bad_signature", "stale_signature"]);

/** Failures of our own dependencies (queue unavailable): the client should retry later. */
export class UnavailableError extends Error {
  override name = "UnavailableError";
}

export async function errorResponse(caught: unknown, c: Context<AppEnv>): Promise<Response> {
  const request_id = (c.get("requestId") as string | undefined) ?? "unknown";
  let err = caught;
  if (err instanceof EdgeError && AUTH_FAILURES.has(err.code)) err = (await countAuthFailure(c).catch(() => null)) ?? err;
  if (err instanceof ConfigError) {
    console.error(`edge: ${request_id}: ${err.message}`);
    return c.json(
      {
        error: {
          code: "misconfigured",
          message: err.message,
          hint: "The operator must fix the Worker's configuration (wrangler.toml vars and secrets; see docs/operations.md). Retrying will not help until then.",
        },
        request_id,
      },
      500,
    );
  }
  if (err instanceof EdgeError) {
    return c.json(
      {
        error: { code: err.code, message: err.message, ...(err.hint ? { hint: err.hint } : {}) },
        ...(err.rejected ? { rejected: err.rejected } : {}),
        request_id,
      },
      err.status,
      err.headers,
    );
  }
  // Not the client's fault and not bad input: log the reason (never the body) and ask for a retry.
  console.error(`edge: ${request_id}: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`);
  return c.json(
    {
      error: {
        code: "unavailable",
        message: "The event could not be stored durably right now; nothing was accepted.",
        hint: "Retry with backoff; the request is safe to resend (events are deduplicated by messageId).",
      },
      request_id,
    },
    503,
    { "Retry-After": "5" },
  );
}

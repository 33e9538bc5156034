/**
 * One error path for the edge: user mistakes are EdgeError (4xx, coded, with a hint); anything else
 * becomes a 503 that tells the client to retry, never a stack trace.
 */
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { ErrorCode } from "../../contracts/responses.js";
import type { z } from "zod";
import type { Rejection } from "../../contracts/responses.js";

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

/** Failures of our own dependencies (queue unavailable): the client should retry later. */
export class UnavailableError extends Error {
  override name = "UnavailableError";
}

export function errorResponse(err: unknown, c: Context): Response {
  const request_id = (c.get("requestId" as never) as string | undefined) ?? "unknown";
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

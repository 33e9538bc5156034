/** Response bodies of the edge. */
import { z } from "zod";

export const Rejection = z.object({
  index: z.int().describe("Position of the rejected item in the request (0-based)."),
  error: z.string().describe("Why it was rejected."),
});

export const AcceptedResponse = z.object({
  success: z.boolean().describe("True when at least one item was accepted or the request was a replay (Segment SDK compatibility)."),
  accepted: z.int().describe("Items handed durably to the queue."),
  rejected: z.array(Rejection).describe("Items refused, by index."),
  duplicate: z.boolean().optional().describe("True when this delivery id was already accepted; nothing was stored again."),
  tombstones: z.int().optional().describe("CDC tombstones without a key, acknowledged and not forwarded."),
  request_id: z.string().describe("Edge request id, also in the X-Request-Id header."),
});

export const ERROR_CODES = [
  "malformed_body",
  "invalid_event",
  "unauthorized",
  "forbidden",
  "bad_signature",
  "stale_signature",
  "payload_too_large",
  "unsupported_media_type",
  "unsupported_encoding",
  "rate_limited",
  "not_found",
  "method_not_allowed",
  "unavailable",
  "misconfigured",
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export const ErrorResponse = z.object({
  error: z.object({
    code: z.enum(ERROR_CODES).describe("Machine-readable error code."),
    message: z.string().describe("What went wrong."),
    hint: z.string().optional().describe("What to do about it."),
  }),
  rejected: z.array(Rejection).optional().describe("For batches where nothing was accepted: why each item was refused."),
  request_id: z.string(),
});

export const BulkResponse = z.object({
  bucket: z.string(),
  object: z.string().describe("Object name in the landing bucket (chosen by the edge): gzip NDJSON of enriched records."),
  bytes: z.int().describe("Size of the stored object (gzip)."),
  lines: z.int().describe("Non-blank NDJSON lines received."),
  accepted: z.int().describe("Lines stored as records."),
  rejected: z.array(Rejection).describe("The first invalid lines, by 0-based line index, with why (at most 100 listed)."),
  rejected_count: z.int().describe("All invalid lines; each is kept as a dead letter (stage edge) with the reason."),
  tombstones: z.int().optional().describe("CDC tombstones without a table, acknowledged and not stored."),
  dropped_without_consent: z.int().optional().describe("Events dropped for lack of analytics consent (CONSENT_MODE=drop)."),
  request_id: z.string(),
});

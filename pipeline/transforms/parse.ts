/** Parse and validate one message into a record of its stream; anything else becomes a dead letter with the reason. */
import type { z } from "zod";
import { CdcRecord, DeadLetterRecord, EventRecord, WebhookRecord } from "../../contracts/records.js";
import { pipelineDeadLetter } from "./dead-letter.js";
import type { InboundMessage, ParsedRecord } from "./types.js";

const SCHEMAS = { events: EventRecord, webhooks: WebhookRecord, cdc: CdcRecord, "dead-letters": DeadLetterRecord } as const;

export type ParseResult = { ok: true; parsed: ParsedRecord } | { ok: false; deadLetter: DeadLetterRecord };

const MAX_ISSUES_IN_REASON = 5;

function describeIssues(error: z.ZodError): string {
  const parts = error.issues.slice(0, MAX_ISSUES_IN_REASON).map((i) => `${i.path.length ? i.path.join(".") : "(record)"}: ${i.message}`);
  const more = error.issues.length > MAX_ISSUES_IN_REASON ? ` (+${error.issues.length - MAX_ISSUES_IN_REASON} more)` : "";
  return parts.join("; ") + more;
}

export function parseMessage(msg: InboundMessage, now: string): ParseResult {
  const fail = (kind: string, reason: string, eventId: string | null) => ({
    ok: false as const,
    deadLetter: pipelineDeadLetter({
      stream: msg.stream,
      eventId,
      kind,
      reason,
      payload: msg.data,
      attempts: msg.deliveryAttempt ?? 1,
      now,
    }),
  });
  const attrId = msg.attributes?.event_id ?? null;
  let body: unknown;
  try {
    body = JSON.parse(msg.data);
  } catch (e) {
    return fail("json", `message ${msg.messageId ?? "(no id)"} on ${msg.stream} is not JSON (${(e as Error).message}); the publisher must send one JSON record per message`, attrId);
  }
  const schema = SCHEMAS[msg.stream];
  const result = schema.safeParse(body);
  if (!result.success) {
    const bodyId = typeof body === "object" && body !== null && typeof (body as { event_id?: unknown }).event_id === "string" ? (body as { event_id: string }).event_id : null;
    return fail("schema", `${msg.stream} record does not match the contract (contracts/records.ts): ${describeIssues(result.error)}`, bodyId ?? attrId);
  }
  return { ok: true, parsed: { stream: msg.stream, record: result.data } as ParsedRecord };
}

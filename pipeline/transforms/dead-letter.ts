/** Dead-letter rows the pipeline writes: one per rejected message, with an id stable across redeliveries. */
import { createHash } from "node:crypto";
import type { DeadLetterRecord } from "../../contracts/records.js";

export interface DeadLetterInput {
  stream: string;
  eventId: string | null;
  reason: string;
  /** What kind of failure: part of the id, so a redelivered message gives the same dead letter. */
  kind: string;
  payload: string;
  attempts?: number;
  now: string;
}

export function pipelineDeadLetter(d: DeadLetterInput): DeadLetterRecord {
  const identity = d.eventId ?? createHash("sha256").update(d.payload).digest("hex");
  const dead_letter_id = createHash("sha256").update(`pipeline|${d.stream}|${d.kind}|${identity}`).digest("hex").slice(0, 32);
  return {
    dead_letter_id,
    stage: "pipeline",
    reason: d.reason,
    stream: d.stream,
    event_id: d.eventId,
    attempts: d.attempts ?? 1,
    failed_at: d.now,
    payload: d.payload,
  };
}

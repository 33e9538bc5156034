/**
 * Packs records into Cloudflare Queue messages and sends them within Queues' limits:
 * a message body ≤ 128 KB (we fill to QUEUE_MESSAGE_TARGET_BYTES), a sendBatch ≤ 100 messages and
 * ≤ 256 KB. Records are serialized once; the envelope is assembled as text so its size is exact.
 * The caller answers the client only after `sendRecords` resolved (durably queued).
 */
import {
  QUEUE_MESSAGE_TARGET_BYTES,
  QUEUE_SEND_BATCH_MAX_BYTES,
  QUEUE_SEND_BATCH_MAX_MESSAGES,
} from "../../../contracts/limits.js";
import type { Stream } from "../../../contracts/records.js";
import { UnavailableError } from "../errors.js";

/** UTF-8 byte length without allocating (TextEncoder would copy every record once more). */
export function utf8Length(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) n += 1;
    else if (c >= 0xd800 && c <= 0xdbff) {
      n += 2;
      i++;
    } else n += 2;
  }
  return n;
}

const envelopeHead = (stream: Stream) => `{"v":1,"stream":"${stream}","records":[`;
const ENVELOPE_TAIL = "]}";

export interface Packed {
  /** Queue message bodies (JSON text of a QueueEnvelope). */
  messages: { body: string; bytes: number; count: number }[];
  /** Indexes of records too large for a queue message on their own. */
  oversize: number[];
}

/** Groups serialized records into envelopes no larger than `targetBytes`. */
export function packRecords(stream: Stream, serialized: string[], targetBytes = QUEUE_MESSAGE_TARGET_BYTES): Packed {
  const head = envelopeHead(stream);
  const overhead = head.length + ENVELOPE_TAIL.length;
  const messages: Packed["messages"] = [];
  const oversize: number[] = [];
  let parts: string[] = [];
  let bytes = overhead;
  const flush = () => {
    if (parts.length) messages.push({ body: head + parts.join(",") + ENVELOPE_TAIL, bytes, count: parts.length });
    parts = [];
    bytes = overhead;
  };
  serialized.forEach((s, i) => {
    const size = utf8Length(s);
    if (size + overhead > targetBytes) {
      oversize.push(i);
      return;
    }
    const add = size + (parts.length ? 1 : 0);
    if (bytes + add > targetBytes) flush();
    bytes += size + (parts.length ? 1 : 0);
    parts.push(s);
  });
  flush();
  return { messages, oversize };
}

/** Sends packed messages in sendBatch calls that respect the per-call limits; resolves when all are queued. */
export async function sendMessages(queue: Queue, messages: Packed["messages"]): Promise<number> {
  const batches: MessageSendRequest[][] = [];
  let current: MessageSendRequest[] = [];
  let bytes = 0;
  for (const m of messages) {
    if (current.length && (current.length >= QUEUE_SEND_BATCH_MAX_MESSAGES || bytes + m.bytes > QUEUE_SEND_BATCH_MAX_BYTES)) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push({ body: m.body, contentType: "text" });
    bytes += m.bytes;
  }
  if (current.length) batches.push(current);
  try {
    await Promise.all(batches.map((b) => queue.sendBatch(b)));
  } catch (err) {
    throw new UnavailableError(`queue send failed: ${(err as Error).message}`);
  }
  return batches.length;
}

/** Packs and sends; returns indexes of records that did not fit a queue message (not sent). */
export async function sendRecords(queue: Queue, stream: Stream, serialized: string[]): Promise<{ oversize: number[]; messages: number }> {
  const packed = packRecords(stream, serialized);
  if (packed.messages.length) await sendMessages(queue, packed.messages);
  return { oversize: packed.oversize, messages: packed.messages.length };
}

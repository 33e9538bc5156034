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

import { utf8Length } from "../lib/utf8.js";

export { utf8Length };

const envelopeHead = (stream: Stream) => `{"v":1,"stream":"${stream}","records":[`;
const ENVELOPE_TAIL = "]}";

export interface Packed {
  /** Queue message bodies (JSON text of a QueueEnvelope). */
  messages: { body: string; bytes: number; count: number }[];
  /** Indexes of records too large for a queue message on their own. */
  oversize: number[];
}

/**
 * Groups serialized records into envelopes no larger than `targetBytes`. Packing goes by string
 * length (a lower bound of UTF-8 bytes) and each envelope is measured exactly once; only an
 * envelope that turns out too large (much non-ASCII text) is repacked record by record. When the
 * caller knows every record is ASCII (`ascii`), length is the byte count and nothing is measured.
 */
export function packRecords(stream: Stream, serialized: string[], targetBytes = QUEUE_MESSAGE_TARGET_BYTES, ascii = false): Packed {
  const head = envelopeHead(stream);
  const overhead = head.length + ENVELOPE_TAIL.length;
  const messages: Packed["messages"] = [];
  const oversize: number[] = [];
  let parts: string[] = [];
  let size = overhead;
  const emit = (group: string[]) => {
    // Measure the joined records (a flat string) rather than the concatenated body, which would
    // have to be flattened, i.e. copied once more, just to be counted.
    const joined = group.join(",");
    const bytes = overhead + (ascii ? joined.length : utf8Length(joined));
    const body = head + joined + ENVELOPE_TAIL;
    if (bytes <= targetBytes || group.length === 1) {
      messages.push({ body, bytes, count: group.length });
      return;
    }
    // Exact repacking for multi-byte-heavy groups.
    let sub: string[] = [];
    let subBytes = overhead;
    for (const rec of group) {
      const b = utf8Length(rec) + 1;
      if (sub.length && subBytes + b > targetBytes) {
        emit(sub);
        sub = [];
        subBytes = overhead;
      }
      sub.push(rec);
      subBytes += b;
    }
    if (sub.length) emit(sub);
  };
  for (let i = 0; i < serialized.length; i++) {
    const s = serialized[i]!;
    const len = s.length;
    if (len + overhead > targetBytes || (len * 3 + overhead > targetBytes && utf8Length(s) + overhead > targetBytes)) {
      oversize.push(i);
      continue;
    }
    if (parts.length && size + len + 1 > targetBytes) {
      emit(parts);
      parts = [];
      size = overhead;
    }
    parts.push(s);
    size += len + 1;
  }
  if (parts.length) emit(parts);
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
export async function sendRecords(
  queue: Queue,
  stream: Stream,
  serialized: string[],
  opts: { ascii?: boolean } = {},
): Promise<{ oversize: number[]; messages: number }> {
  const packed = packRecords(stream, serialized, QUEUE_MESSAGE_TARGET_BYTES, opts.ascii ?? false);
  if (packed.messages.length) await sendMessages(queue, packed.messages);
  return { oversize: packed.oversize, messages: packed.messages.length };
}

/**
 * The single-node engine's first steps on a chunk (run-local.ts): decode an archive object into
 * messages, then parse, validate and dedup a batch of messages.
 */
import { gunzipSync } from "node:zlib";
import { prepareBatch, type PreparedBatch } from "./transforms/batch.js";
import type { InboundMessage, InputStream } from "./transforms/types.js";

/** One unit of work: a pulled micro-batch or one archive object, never a single event. */
export type SourceChunk =
  | { kind: "messages"; id: string; messages: InboundMessage[] }
  | { kind: "archive"; id: string; stream: InputStream; object: string; gzip: Uint8Array };

export interface DecodedChunk {
  id: string;
  messages: InboundMessage[];
}

export interface PreparedChunk {
  id: string;
  prepared: PreparedBatch;
}

/** A chunk handed to the prepare pool's worker threads (pipeline/workers/prepare-pool.ts). */
export interface PendingChunk {
  id: string;
  prepared: Promise<PreparedBatch>;
}

const isGzip = (b: Uint8Array) => b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b;

/**
 * Archive objects are gzip NDJSON, one record per line, exactly as published to Pub/Sub. A store
 * that serves them with Content-Encoding: gzip may hand them over already inflated.
 */
export function decodeChunk(c: SourceChunk): DecodedChunk {
  if (c.kind === "messages") return { id: c.id, messages: c.messages };
  const messages: InboundMessage[] = [];
  const bytes = inflate(c.gzip);
  forEachLine(bytes, (start, end, line) => messages.push({ stream: c.stream, data: bytes.toString("utf8", start, end), messageId: `${c.object}#${line}` }));
  return { id: c.id, messages };
}

/** Output chunks zlib may allocate at once (the gzip trailer's size hint is capped at this). */
const MAX_INFLATE_CHUNK = 256 * 1024 * 1024;

/**
 * The object's NDJSON bytes. The gzip trailer states the inflated size (mod 2^32, of the last
 * member): as zlib's chunk size, the output is one buffer, not many chunks concatenated at the end,
 * which halved the time to inflate an object. A wrong hint only means more chunks.
 */
export const inflate = (b: Uint8Array): Buffer => {
  if (!isGzip(b)) return Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  const hint = b.length >= 18 ? Buffer.from(b.buffer, b.byteOffset, b.byteLength).readUInt32LE(b.length - 4) : 0;
  return gunzipSync(b, { chunkSize: Math.min(MAX_INFLATE_CHUNK, Math.max(64 * 1024, hint + 1)) });
};

const isBlank = (byte: number) => byte === 0x20 || byte === 0x09 || byte === 0x0d;

/** Calls fn with the byte range of each non-blank line (trimmed) and its 1-based line number. */
export function forEachLine(bytes: Buffer, fn: (start: number, end: number, line: number) => void): void {
  let line = 0;
  let start = 0;
  while (start < bytes.length) {
    let end = bytes.indexOf(0x0a, start);
    if (end === -1) end = bytes.length;
    line++;
    let s = start;
    let e = end;
    while (s < e && isBlank(bytes[s]!)) s++;
    while (e > s && isBlank(bytes[e - 1]!)) e--;
    if (e > s) fn(s, e, line);
    start = end + 1;
  }
}

export function prepareChunk(c: DecodedChunk, now: string): PreparedChunk {
  return { id: c.id, prepared: prepareBatch(c.messages, now) };
}

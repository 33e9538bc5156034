/**
 * The functions the Beam graph applies, gathered in one object registered for serialization by
 * reference (see runtime.ts): each DoFn closure captures this object plus plain-data options.
 */
import { gunzipSync } from "node:zlib";
import serialization from "apache-beam/serialization";
import { prepareBatch, type PreparedBatch } from "./transforms/batch.js";
import { eventDate } from "./transforms/event-time.js";
import type { InboundMessage, InputStream } from "./transforms/types.js";

/** One element of the graph: a pulled micro-batch or one archive object, never a single event. */
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

const isGzip = (b: Uint8Array) => b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b;

/**
 * Archive objects are gzip NDJSON, one record per line, exactly as published to Pub/Sub. A store
 * that serves them with Content-Encoding: gzip may hand them over already inflated.
 */
export function decodeChunk(c: SourceChunk): DecodedChunk {
  if (c.kind === "messages") return { id: c.id, messages: c.messages };
  const text = (isGzip(c.gzip) ? gunzipSync(c.gzip) : Buffer.from(c.gzip)).toString("utf8");
  const messages: InboundMessage[] = [];
  let line = 0;
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf("\n", start);
    if (end === -1) end = text.length;
    line++;
    const data = text.slice(start, end).trim();
    if (data) messages.push({ stream: c.stream, data, messageId: `${c.object}#${line}` });
    start = end + 1;
  }
  return { id: c.id, messages };
}

export function prepareChunk(c: DecodedChunk, now: string): PreparedChunk {
  return { id: c.id, prepared: prepareBatch(c.messages, now) };
}

/**
 * Dataflow variant: rows for the raw tables without a warehouse read. Each record is stamped with
 * its event date and load time; lateness needs the persisted watermark, which a TypeScript DoFn
 * cannot read (no async DoFns), so rows are written on time here and flagged by the warehouse-side
 * MERGE (see docs/pipeline.md, "Dataflow").
 */
export function rawRowsOf(p: PreparedChunk, now: string): object[] {
  const stamp = <T extends { event_ts: string }>(r: T) => ({ ...r, event_date: eventDate(r.event_ts), loaded_at: now });
  return [
    ...p.prepared.events.map((r) => ({ ...stamp(r), is_late: false, lateness_ms: 0 })),
    ...p.prepared.webhooks.map(stamp),
    ...p.prepared.cdc.map(stamp),
  ];
}

export const graphFns = { decodeChunk, prepareChunk, rawRowsOf };
export const GRAPH_FNS_MODULE = "tideline/pipeline/graph-fns";
serialization.requireForSerialization(GRAPH_FNS_MODULE, { graphFns });

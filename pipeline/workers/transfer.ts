/**
 * Preparing an archive object on a worker thread, and the result's trip to the main thread.
 *
 * Events (nearly all of the volume) cross as columns of the fields the transforms read plus the
 * object's decompressed bytes (transferred, not copied) with each event's line range; the main
 * thread rebuilds them as SourcedEvents. Webhooks, CDC changes and dead letters cross whole.
 * Structured cloning whole event records cost more than parsing them again (0.85 s against 0.45 s
 * per 80,000 records), and full records kept until the end of an object made the garbage
 * collector copy them between generations.
 */
import type { CdcRecord, DeadLetterRecord, EventRecord, WebhookRecord } from "../../contracts/records.js";
import { forEachLine, inflate, type SourceChunk } from "../graph-fns.js";
import type { PreparedBatch } from "../transforms/batch.js";
import { dedupWithinBatch } from "../transforms/dedup.js";
import { parseMessage } from "../transforms/parse.js";
import { SourcedEvent } from "../transforms/sourced-event.js";
import type { EventCore } from "../transforms/types.js";

export interface PackedObject {
  messages: number;
  duplicatesInBatch: number;
  events: {
    ids: string[];
    ts: string[];
    types: EventCore["type"][];
    names: EventCore["event"][];
    /** Only what the metrics read (revenue, total); undefined for most events. */
    properties: EventCore["properties"][];
    starts: Uint32Array;
    ends: Uint32Array;
  };
  bytes: Uint8Array;
  webhooks: WebhookRecord[];
  cdc: CdcRecord[];
  deadLetters: DeadLetterRecord[];
}

const metricProperties = (r: EventRecord): EventCore["properties"] => {
  const p = r.properties;
  return p && (p.revenue !== undefined || p.total !== undefined) ? { revenue: p.revenue, total: p.total } : undefined;
};

/** Decode, parse, validate and dedup one archive object: prepareBatch's steps, keeping events as columns. */
export function prepareObject(c: Extract<SourceChunk, { kind: "archive" }>, now: string): { packed: PackedObject; transfer: ArrayBuffer[] } {
  const bytes = inflate(c.gzip);
  const ev = { ids: [] as string[], ts: [] as string[], types: [] as EventCore["type"][], names: [] as EventCore["event"][], properties: [] as EventCore["properties"][], starts: [] as number[], ends: [] as number[] };
  const seen = new Set<string>();
  const webhooks: WebhookRecord[] = [];
  const cdc: CdcRecord[] = [];
  const deadLetters: DeadLetterRecord[] = [];
  let messages = 0;
  let duplicates = 0;
  forEachLine(bytes, (start, end, line) => {
    messages++;
    // Events are checked, not filled in: only the columns below leave this thread, and the warehouse loads the text.
    const r = parseMessage({ stream: c.stream, data: bytes.toString("utf8", start, end), messageId: `${c.object}#${line}` }, now, { keepSource: false, checkOnly: c.stream === "events" });
    if (!r.ok) return void deadLetters.push(r.deadLetter);
    const p = r.parsed;
    if (p.stream === "events") {
      // The full record is dropped here, while it is still young: only the columns survive.
      if (seen.has(p.record.event_id)) return void duplicates++;
      seen.add(p.record.event_id);
      ev.ids.push(p.record.event_id);
      ev.ts.push(p.record.event_ts);
      ev.types.push(p.record.type);
      ev.names.push(p.record.event ?? null);
      ev.properties.push(metricProperties(p.record));
      ev.starts.push(start);
      ev.ends.push(end);
    } else if (p.stream === "webhooks") webhooks.push(p.record);
    else if (p.stream === "cdc") cdc.push(p.record);
    else deadLetters.push(p.record);
  });
  const w = dedupWithinBatch(webhooks);
  const d = dedupWithinBatch(cdc);
  const starts = Uint32Array.from(ev.starts);
  const ends = Uint32Array.from(ev.ends);
  // The inflated buffer owns its memory unless it came in uninflated; copy then, so the transfer
  // never takes memory the caller still uses.
  const own = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : Buffer.from(bytes);
  return {
    packed: {
      messages,
      duplicatesInBatch: duplicates + w.duplicates + d.duplicates,
      events: { ids: ev.ids, ts: ev.ts, types: ev.types, names: ev.names, properties: ev.properties, starts, ends },
      bytes: own,
      webhooks: w.unique,
      cdc: d.unique,
      deadLetters,
    },
    transfer: [own.buffer as ArrayBuffer, starts.buffer as ArrayBuffer, ends.buffer as ArrayBuffer],
  };
}

export function unpackObject(m: PackedObject): PreparedBatch {
  const bytes = Buffer.from(m.bytes.buffer, m.bytes.byteOffset, m.bytes.byteLength);
  const e = m.events;
  const events: EventCore[] = new Array(e.ids.length);
  for (let i = 0; i < e.ids.length; i++) events[i] = new SourcedEvent(e.ids[i]!, e.ts[i]!, e.types[i]!, e.names[i]!, e.properties[i], bytes, e.starts[i]!, e.ends[i]!);
  return { events, webhooks: m.webhooks, cdc: m.cdc, deadLetters: m.deadLetters, duplicatesInBatch: m.duplicatesInBatch, messages: m.messages };
}

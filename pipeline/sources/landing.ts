/**
 * Landing uploads (POST /v1/bulk/{stream}): the edge turns the uploaded lines into records, stores
 * them in the landing bucket (gzip NDJSON, as the raw archive) with the stream and the uploader's
 * source in the object's metadata, and announces the object on `landing-notifications` like a
 * Cloud Storage OBJECT_FINALIZE notification. The loader takes each notification from
 * `pipeline-landing`, reads the object and its metadata, refuses every record that disagrees with
 * the metadata (another source, a CDC position its connector cannot produce) as a dead letter with
 * the reason, runs the rest through the same graph as an archive object and acknowledges the
 * notification after the commit. An upload is historical data, so it is judged like a backfill:
 * against a watermark of its own, never against the live one (which would turn a month-old file
 * into dead letters). Lines must be records of the stream's contract; anything else becomes a dead
 * letter with the reason.
 */
import type { Message, PubSub, Subscription } from "@google-cloud/pubsub";
import { LANDING, PIPELINE_LANDING_SUBSCRIPTION } from "../../contracts/defaults.js";
import type { DeadLetterRecord, Stream } from "../../contracts/records.js";
import { forEachLine, inflate, type SourceChunk } from "../graph-fns.js";
import { runLocal } from "../run-local.js";
import { pipelineDeadLetter } from "../transforms/dead-letter.js";
import type { BatchOptions, BatchStats } from "../transforms/batch.js";
import type { WatermarkState } from "../transforms/event-time.js";
import type { InputStream } from "../transforms/types.js";
import type { WarehouseSink } from "../warehouse-sink.js";
import type { ArchiveReader } from "./archive.js";

export const LANDING_SUBSCRIPTION = PIPELINE_LANDING_SUBSCRIPTION;
const LANDING_STREAMS: InputStream[] = ["events", "webhooks", "cdc"];

/** Reads objects of the landing bucket and their custom metadata. */
export interface LandingReader extends ArchiveReader {
  metadata(name: string): Promise<Record<string, string>>;
}

export interface LandingLoaderOptions {
  pubsub: PubSub;
  reader: LandingReader;
  sink: WarehouseSink;
  batch?: BatchOptions;
  log?: (line: string) => void;
  onLoaded?: (object: string, stats: BatchStats) => void;
}

/** The stream of a landing object from its name: landing/<stream>/dt=YYYY-MM-DD/<id>.ndjson[.gz]. */
export function landingStream(objectId: string): InputStream | null {
  const s = LANDING.streamOf(objectId) as InputStream | null;
  return s && LANDING_STREAMS.includes(s) ? s : null;
}

export class LandingLoader {
  private sub: Subscription | null = null;
  private chain: Promise<void> = Promise.resolve();

  constructor(private readonly o: LandingLoaderOptions) {}

  start(): void {
    // One object at a time: uploads are large, and commits share the one warehouse writer anyway.
    this.sub = this.o.pubsub.subscription(LANDING_SUBSCRIPTION, { flowControl: { maxMessages: 1, allowExcessMessages: false } });
    this.sub.on("message", (m: Message) => {
      this.chain = this.chain.then(() => this.load(m));
    });
    this.sub.on("error", (e: Error) => this.o.log?.(`pipeline: landing subscription error: ${e.message}`));
  }

  private async load(m: Message): Promise<void> {
    const objectId = m.attributes.objectId ?? "";
    if (m.attributes.eventType !== "OBJECT_FINALIZE") return m.ack();
    const stream = landingStream(objectId);
    if (!stream) {
      this.o.log?.(`pipeline: landing object ${objectId} is not under landing/<events|webhooks|cdc>/; ignored`);
      return m.ack();
    }
    try {
      const [metadata, gzip] = await Promise.all([this.o.reader.metadata(objectId), this.o.reader.read(objectId)]);
      const checked = checkLandingObject(objectId, stream, metadata, gzip, new Date().toISOString());
      const chunks: SourceChunk[] = [];
      if (checked.accepted.length) chunks.push({ kind: "archive", id: objectId, stream, object: objectId, gzip: checked.accepted });
      if (checked.deadLetters.length) {
        chunks.push({
          kind: "messages",
          id: `${objectId}#refused`,
          messages: checked.deadLetters.map((d) => ({ stream: "dead-letters", data: JSON.stringify(d), messageId: `${objectId}#refused-${d.dead_letter_id}` })),
        });
      }
      const replayWatermarks = new Map<Stream, WatermarkState>();
      const r = await runLocal(chunks, this.o.sink, {
        mode: "replay",
        replayWatermarks,
        ...(this.o.batch ? { batch: this.o.batch } : {}),
      });
      m.ack();
      this.o.log?.(`pipeline: loaded landing upload ${objectId}: ${r.stats.loaded} rows, ${r.stats.duplicates} already stored, ${r.stats.deadLettered} dead letters`);
      this.o.onLoaded?.(objectId, r.stats);
    } catch (e) {
      this.o.log?.(`pipeline: landing upload ${objectId} not loaded, left for redelivery: ${(e as Error).message}`);
      m.nack();
    }
  }

  async stop(): Promise<void> {
    await this.sub?.close();
    this.sub = null;
    await this.chain;
  }
}

/** What the edge can write as a CDC position, per connector family (edge/src/cdc/position.ts). */
const POSITION_FORMATS: Record<string, RegExp> = {
  postgresql: /^\d{20}:\d{20}$/,
  mysql: /^\d{20}:\d{20}:\d{10}$/,
  mariadb: /^\d{20}:\d{20}:\d{10}$/,
  sqlserver: /^(?:[0-9a-f]{8}:[0-9a-f]{8}:[0-9a-f]{4})?:(?:[0-9a-f]{8}:[0-9a-f]{8}:[0-9a-f]{4})?:\d{10}$/,
  mongodb: /^\d{20}:\d{10}$/,
};
/** Any other connector: whatever its source block held (an SCN, a time and an order, or one of the above). */
const OTHER_POSITION = new RegExp(`^(?:\\d{20}|\\d{20}:\\d{10}|${[...new Set(Object.values(POSITION_FORMATS).map((r) => r.source.slice(1, -1)))].join("|")})$`);
const TIME_POSITION = /^\d{20}:\d{10}$/;
const U64_MAX = "18446744073709551615";
/** How far ahead of now a time-based position may be (the edge allows an hour of source clock drift). */
const MAX_FUTURE_POSITION_MS = 60 * 60 * 1000;

/** Why a CDC record's position cannot come from its connector, or null when it can. */
export function positionProblem(connector: unknown, position: unknown, nowMs: number): string | null {
  if (typeof position !== "string") return "position is not text";
  const name = typeof connector === "string" ? connector.toLowerCase() : "";
  const format = POSITION_FORMATS[name] ?? OTHER_POSITION;
  if (!format.test(position)) return `position ${JSON.stringify(position.slice(0, 80))} is not one a ${name || "unknown"} connector produces`;
  const numbers = position.split(":").filter((p) => p.length === 20 && /^\d+$/.test(p));
  if (numbers.some((n) => n > U64_MAX)) return "position has a part larger than 64 bits";
  if (TIME_POSITION.test(position) && Number(position.slice(0, 20)) > nowMs + MAX_FUTURE_POSITION_MS) return "position lies more than an hour in the future";
  return null;
}

export interface CheckedLanding {
  /** NDJSON (uncompressed) of the records that agree with the object's metadata. */
  accepted: Buffer;
  deadLetters: DeadLetterRecord[];
}

/**
 * Keeps the records of a landing object that agree with its metadata: the stream of its name, the
 * uploader's source on every event and webhook record (CDC uploads are the source "cdc"), CDC
 * positions of the form and size their connector produces. Lines that are not JSON objects, or
 * records without a source, pass through for the graph's parser to dead-letter with its reason.
 */
export function checkLandingObject(objectId: string, stream: InputStream, metadata: Record<string, string>, bytes: Uint8Array, now: string): CheckedLanding {
  const text = inflate(bytes);
  const deadLetters: DeadLetterRecord[] = [];
  const refuse = (line: number, data: string, reason: string, eventId: unknown) =>
    deadLetters.push(
      pipelineDeadLetter({
        stream,
        eventId: typeof eventId === "string" ? eventId : null,
        kind: `landing:${objectId}#${line}`,
        reason: `landing object ${objectId}, line ${line}: ${reason}`,
        payload: data,
        now,
      }),
    );
  const whole =
    metadata.stream !== stream
      ? `the object's metadata says stream ${JSON.stringify(metadata.stream ?? null)}, its name says ${stream}: uploads must come through POST /v1/bulk/{stream}`
      : !metadata.source
        ? "the object has no source in its metadata: uploads must come through POST /v1/bulk/{stream}"
        : stream === "cdc" && metadata.source !== "cdc"
          ? `a cdc upload must have the source cdc, not ${JSON.stringify(metadata.source)}`
          : null;
  const kept: Buffer[] = [];
  const nowMs = Date.parse(now);
  forEachLine(text, (start, end, line) => {
    const data = text.toString("utf8", start, end);
    if (whole) return refuse(line, data, whole, null);
    let record: unknown;
    try {
      record = JSON.parse(data);
    } catch {
      record = null;
    }
    if (typeof record !== "object" || record === null || Array.isArray(record)) {
      kept.push(text.subarray(start, end));
      return;
    }
    const r = record as Record<string, unknown>;
    if (stream === "cdc") {
      const problem = positionProblem(r.source_connector, r.position, nowMs);
      if (problem) return refuse(line, data, problem, r.event_id);
    } else if (r.source !== undefined && r.source !== metadata.source) {
      return refuse(line, data, `record of source ${JSON.stringify(String(r.source).slice(0, 64))} in an upload of source ${JSON.stringify(metadata.source)}`, r.event_id);
    }
    kept.push(text.subarray(start, end));
  });
  const accepted = kept.length ? Buffer.concat(kept.flatMap((b, i) => (i ? [NEWLINE, b] : [b]))) : Buffer.alloc(0);
  return { accepted, deadLetters };
}

const NEWLINE = Buffer.from("\n");

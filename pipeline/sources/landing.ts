/**
 * Landing uploads (POST /v1/bulk/{stream}): the edge stores the NDJSON file in the landing bucket
 * and announces it on `landing-notifications` like a Cloud Storage OBJECT_FINALIZE notification.
 * The loader takes each notification from `pipeline-landing`, reads the object, runs it through the
 * same graph as an archive object and acknowledges the notification after the commit. An upload is
 * historical data, so it is judged like a backfill: against a watermark of its own, never against
 * the live one (which would turn a month-old file into dead letters). Lines must be records of the
 * stream's contract; anything else becomes a dead letter with the reason.
 */
import type { Message, PubSub, Subscription } from "@google-cloud/pubsub";
import type { Stream } from "../../contracts/records.js";
import { runLocal } from "../run-local.js";
import type { BatchOptions, BatchStats } from "../transforms/batch.js";
import type { WatermarkState } from "../transforms/event-time.js";
import type { InputStream } from "../transforms/types.js";
import type { WarehouseSink } from "../warehouse-sink.js";
import type { ArchiveReader } from "./archive.js";

export const LANDING_SUBSCRIPTION = "pipeline-landing";
const LANDING_STREAMS: InputStream[] = ["events", "webhooks", "cdc"];

export interface LandingLoaderOptions {
  pubsub: PubSub;
  /** Reads objects of the landing bucket. */
  reader: ArchiveReader;
  sink: WarehouseSink;
  batch?: BatchOptions;
  log?: (line: string) => void;
  onLoaded?: (object: string, stats: BatchStats) => void;
}

/** The stream of a landing object from its name: landing/<stream>/dt=YYYY-MM-DD/<id>.ndjson[.gz]. */
export function landingStream(objectId: string): InputStream | null {
  const m = /^landing\/([^/]+)\//.exec(objectId);
  const s = m?.[1] as InputStream | undefined;
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
      const gzip = await this.o.reader.read(objectId);
      const replayWatermarks = new Map<Stream, WatermarkState>();
      const r = await runLocal([{ kind: "archive", id: objectId, stream, object: objectId, gzip }], this.o.sink, {
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

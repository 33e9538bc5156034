/** Shapes the pure transforms pass between each other; no runner, client or database types here. */
import type { CdcRecord, DeadLetterRecord, EventRecord, InputStream, WebhookRecord } from "../../contracts/records.js";

/** What the pipeline consumes per subscription: the Pub/Sub topic `dead-letters` carries DeadLetterRecords. */
export type { InputStream };

/** A message as any source hands it over (Pub/Sub pull, an archive line), before parsing. */
export interface InboundMessage {
  stream: InputStream;
  /** The message body: one JSON record. */
  data: string;
  attributes?: Record<string, string>;
  /** Pub/Sub message id or `<object>#<line>`: names the message in dead letters. */
  messageId?: string;
  deliveryAttempt?: number;
}

export type ParsedRecord =
  | { stream: "events"; record: EventRecord }
  | { stream: "webhooks"; record: WebhookRecord }
  | { stream: "cdc"; record: CdcRecord }
  | { stream: "dead-letters"; record: DeadLetterRecord };

/** Columns the pipeline adds to every raw event row (written after the record's own text when staged). */
export const EVENT_TIME_COLUMNS = ["event_date", "is_late", "lateness_ms", "loaded_at"] as const;
/** Columns the pipeline adds to every raw row. */
export interface EventTimeColumns {
  event_date: string;
  is_late: boolean;
  lateness_ms: number;
  loaded_at: string;
}
/**
 * What the transforms read of an event record. Records parsed on a worker thread (backfill) reach
 * the main thread as just these fields plus their message text (parse.ts, sourceTextOf), which the
 * sinks load: sending all fifty-odd fields across threads cost more than parsing them again.
 */
export type EventCore = Pick<EventRecord, "event_id" | "event_ts" | "type" | "event"> & { properties?: EventRecord["properties"] };
export type EventRow = EventCore & EventTimeColumns;
export type WebhookRow = WebhookRecord & { event_date: string; loaded_at: string };
export type CdcRow = CdcRecord & { event_date: string; loaded_at: string };

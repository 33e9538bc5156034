/**
 * Every size, count and time limit shared by the layers, with its unit in its name.
 * Sources: Segment HTTP Tracking API (event and batch sizes), Cloudflare Queues limits,
 * Pub/Sub publish limits, webhook providers' signature tolerances.
 */

/** Segment: one event may be at most 32 KB (its JSON). */
export const MAX_EVENT_BYTES = 32 * 1024;
/** Segment: one batch request may be at most 500 KB (decompressed). */
export const MAX_BATCH_BYTES = 500 * 1024;
/** One webhook delivery body (decompressed). */
export const MAX_WEBHOOK_BYTES = 1024 * 1024;
/** One CDC request body (decompressed); a single change event must fit in a queue message. */
export const MAX_CDC_BODY_BYTES = 5 * 1024 * 1024;
/** One bulk upload (NDJSON, before decompression); Workers' request body limit on paid plans. */
export const MAX_BULK_UPLOAD_BYTES = 100 * 1024 * 1024;
/** Longest messageId / webhook id / idempotency key we keep. */
export const MAX_ID_CHARS = 256;
/**
 * Deepest nesting of objects and arrays in one event, webhook delivery or change event. Deeper JSON
 * is refused (400) before anything else reads it: serializing it again would exhaust the stack.
 */
export const MAX_JSON_DEPTH = 64;
/** Longest page or referrer URL that is parsed; a longer one is kept as unparsable. */
export const MAX_URL_CHARS = 8192;
/** DNS: a host name has at most 253 characters … */
export const MAX_HOST_CHARS = 253;
/** … and at most 127 labels. */
export const MAX_HOST_LABELS = 127;

/** Bulk uploads: one NDJSON line of the events stream (one Segment event, as live). */
export const MAX_BULK_EVENT_LINE_BYTES = MAX_EVENT_BYTES;
/** Bulk uploads: one NDJSON line of the webhooks or cdc stream (one delivery or change event). */
export const MAX_BULK_LINE_BYTES = MAX_WEBHOOK_BYTES;
/** Bulk uploads: decompressed size of one upload (a gzip bomb stops here). */
export const MAX_BULK_DECOMPRESSED_BYTES = 256 * 1024 * 1024;
/** Bulk uploads: lines per upload (each is validated and enriched at the edge: Workers CPU). */
export const MAX_BULK_LINES = 500_000;
/** Bulk uploads: invalid lines tolerated per upload; more and nothing of the file is stored. */
export const MAX_BULK_REJECTED_LINES = 1000;
/** Bulk uploads: bytes of invalid lines kept as dead letters per upload; more and nothing is stored. */
export const MAX_BULK_DEAD_LETTER_BYTES = 8 * 1024 * 1024;
/** Bulk uploads: rejected lines listed in the response (the rest are counted). */
export const MAX_BULK_REJECTIONS_LISTED = 100;
/** Longest excerpt of a client's input quoted back in an error message. */
export const MAX_ERROR_EXCERPT_CHARS = 64;

/** Cloudflare Queues: one message body at most 128 KB. */
export const QUEUE_MESSAGE_MAX_BYTES = 128 * 1024;
/** Cloudflare Queues: one sendBatch at most 100 messages … */
export const QUEUE_SEND_BATCH_MAX_MESSAGES = 100;
/** … and at most 256 KB in total. */
export const QUEUE_SEND_BATCH_MAX_BYTES = 256 * 1024;
/** What we fill a queue message up to: headroom under the 128 KB limit for the envelope and metadata. */
export const QUEUE_MESSAGE_TARGET_BYTES = 120 * 1024;
/** Queue consumer batch size (wrangler.toml max_batch_size). */
export const QUEUE_CONSUMER_MAX_BATCH_MESSAGES = 100;

/** Pub/Sub publish: at most 1,000 messages per request … */
export const PUBSUB_PUBLISH_MAX_MESSAGES = 1000;
/** … at most 10 MB per request … */
export const PUBSUB_PUBLISH_MAX_BYTES = 10 * 1000 * 1000;
/** … and at most 100 attributes per message. */
export const PUBSUB_MAX_ATTRIBUTES = 100;

/** Generic signed webhooks: `t` may differ from now by at most this much. */
export const WEBHOOK_TOLERANCE_SECONDS = 300;
/** HubSpot v3: a request timestamp older than this is rejected. */
export const HUBSPOT_MAX_AGE_MS = 5 * 60 * 1000;
/** How long a webhook/CDC delivery id is remembered at the edge for replay detection. */
export const DEDUP_TTL_SECONDS = 7 * 24 * 3600;

/** Failed authentications per client IP per period before further requests get 429 (wrangler.toml AUTH_FAILURE_LIMITER). */
export const AUTH_FAILURE_LIMIT = 30;
export const AUTH_FAILURE_PERIOD_SECONDS = 60;

/** Default rate limit: requests per credential and client IP per period (wrangler.toml ratelimits). */
export const DEFAULT_RATE_LIMIT_REQUESTS = 1000;
export const DEFAULT_RATE_LIMIT_PERIOD_SECONDS = 10;

/** Client clock skew we correct; beyond this future drift an event time is clamped to receipt. */
export const MAX_FUTURE_EVENT_MS = 5 * 60 * 1000;
/** Watermark: the greatest event time loaded minus this much out-of-orderness. */
export const DEFAULT_OUT_OF_ORDERNESS_MS = 5 * 60 * 1000;
/** Late data horizon: records behind the watermark by more than this go to dead letters. */
export const DEFAULT_ALLOWED_LATENESS_DAYS = 3;
/**
 * Days either side of a batch's event dates that the pipeline searches for stored dedup keys. A
 * resent event keeps its event_id but may get a slightly different event_ts (the edge corrects
 * clock skew per request), which can cross midnight.
 */
export const DEDUP_DATE_SLACK_DAYS = 1;

/**
 * Largest record (its JSON text, UTF-8) the pipeline loads; a longer one becomes a dead letter.
 * BigQuery's Storage Write API and streaming inserts take rows of at most 10 MB, and the pipeline
 * adds its columns to the record.
 */
export const MAX_PIPELINE_RECORD_BYTES = 8 * 1024 * 1024;
/** A dead letter of an oversize record keeps this much of it (UTF-8, cut at a character boundary). */
export const MAX_DEAD_LETTER_PAYLOAD_BYTES = 64 * 1024;

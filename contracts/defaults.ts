/**
 * The names and defaults every layer shares, written once (shared/API.md promises them to users):
 * the local project, ports and their environment variables, the development credentials, the
 * Google Cloud resources (topics, subscriptions, buckets) and the layout of the raw archive and the
 * landing bucket. Pure data and functions, so the Worker, Node and (through the generated
 * infra/resources.json and contracts/generated/defaults.json) Terraform and Python read the same.
 */
import type { InputStream, Stream } from "./records.js";

/** The local Google Cloud project of `npm start`, the emulators and the tests. */
export const LOCAL_PROJECT = "tideline-local";

/** Local ports (all on 127.0.0.1), each overridable by its environment variable. */
export const LOCAL_PORTS = {
  edge: { env: "TIDELINE_EDGE_PORT", port: 8787, what: "edge Worker (workerd)" },
  edgeInspector: { env: "TIDELINE_EDGE_INSPECTOR_PORT", port: 9229, what: "edge Worker's devtools inspector (wrangler dev)" },
  pubsub: { env: "TIDELINE_PUBSUB_PORT", port: 8085, what: "Pub/Sub emulator" },
  gcs: { env: "TIDELINE_GCS_PORT", port: 4443, what: "Cloud Storage emulator (fake-gcs-server)" },
  bigquery: { env: "TIDELINE_BIGQUERY_PORT", port: 9050, what: "BigQuery emulator, REST" },
  bigqueryGrpc: { env: "TIDELINE_BIGQUERY_GRPC_PORT", port: 9060, what: "BigQuery emulator, gRPC" },
  dashboard: { env: "TIDELINE_DASHBOARD_PORT", port: 3000, what: "dashboard and operator API" },
} as const;
export type LocalPortName = keyof typeof LOCAL_PORTS;

export const LOCALHOST = "127.0.0.1";

/**
 * Development credentials of the local platform (wrangler.toml's top-level [vars] carry the same
 * values; a test compares them). The Worker refuses them in any environment but dev.
 */
export const DEV_CREDENTIALS = {
  writeKey: { value: "local_dev_write_key", what: "write key (source web)" },
  shopifySecret: { value: "local_shopify_secret", what: "Shopify secret" },
  hubspotSecret: { value: "local_hubspot_secret", what: "HubSpot secret" },
  webhookSecret: { value: "local_webhook_secret", what: "webhook secret (crm)" },
  cdcToken: { value: "local_cdc_token", what: "CDC token" },
  bulkToken: { value: "local_bulk_token", what: "bulk token (web events)" },
  bulkShopifyToken: { value: "local_bulk_shopify_token", what: "bulk token (Shopify)" },
} as const;
export const DEV_WRITE_KEY_SOURCE = "web";
export const DEV_WEBHOOK_SOURCE = "crm";

/** The Pub/Sub topics the edge publishes to, one per stream, and the dead letters. */
export const STREAM_TOPICS: Record<Stream, string> = { events: "events", webhooks: "webhooks", cdc: "cdc" };
export const DEAD_LETTER_TOPIC = "dead-letters";
export const LANDING_TOPIC = "landing-notifications";
/** Where Pub/Sub puts messages it gave up delivering (production dead-letter policy). */
export const UNDELIVERABLE_TOPIC = "undeliverable";

export interface TopicSpec {
  name: string;
  description: string;
}
export interface SubscriptionSpec {
  name: string;
  topic: string;
  ackDeadlineSeconds: number;
  retentionSeconds: number;
  enableMessageOrdering?: boolean;
  /** Production only (the emulator ignores it): Pub/Sub redelivers nothing twice within the ack deadline. */
  enableExactlyOnceDelivery?: boolean;
  /** The subscription of the dead-letter topic itself has no dead-letter policy. */
  noDeadLetter?: boolean;
}

const WEEK_SECONDS = 7 * 24 * 3600;

/** Every topic tideline needs (Terraform and the local launcher create the same list). */
export const TOPICS: TopicSpec[] = [
  { name: STREAM_TOPICS.events, description: "enriched SDK event records" },
  { name: STREAM_TOPICS.webhooks, description: "webhook delivery records" },
  { name: STREAM_TOPICS.cdc, description: "Debezium change records, ordering key per table and primary key" },
  { name: DEAD_LETTER_TOPIC, description: "records that failed after the edge accepted them, with the reason" },
  { name: LANDING_TOPIC, description: "OBJECT_FINALIZE notifications of bulk uploads in the landing bucket" },
  { name: UNDELIVERABLE_TOPIC, description: "messages Pub/Sub gave up delivering after deadLetter.maxDeliveryAttempts; held for inspection and replay" },
];

/** The subscriptions the pipeline reads each input stream through. */
export const PIPELINE_SUBSCRIPTIONS: Record<InputStream, string> = {
  events: "pipeline-events",
  webhooks: "pipeline-webhooks",
  cdc: "pipeline-cdc",
  "dead-letters": "pipeline-dead-letters",
};
export const PIPELINE_LANDING_SUBSCRIPTION = "pipeline-landing";
export const AIRFLOW_LANDING_SUBSCRIPTION = "airflow-landing";

const subscription = (name: string, topic: string, extra: Partial<SubscriptionSpec> = {}): SubscriptionSpec => ({
  name,
  topic,
  ackDeadlineSeconds: 60,
  retentionSeconds: WEEK_SECONDS,
  ...extra,
});

export const SUBSCRIPTIONS: SubscriptionSpec[] = [
  subscription(PIPELINE_SUBSCRIPTIONS.events, STREAM_TOPICS.events),
  subscription(PIPELINE_SUBSCRIPTIONS.webhooks, STREAM_TOPICS.webhooks),
  // CDC: ordering keys keep the changes of one row in order.
  subscription(PIPELINE_SUBSCRIPTIONS.cdc, STREAM_TOPICS.cdc, { enableMessageOrdering: true }),
  subscription(PIPELINE_SUBSCRIPTIONS["dead-letters"], DEAD_LETTER_TOPIC),
  subscription(PIPELINE_LANDING_SUBSCRIPTION, LANDING_TOPIC),
  subscription(AIRFLOW_LANDING_SUBSCRIPTION, LANDING_TOPIC, { enableExactlyOnceDelivery: true }),
  subscription("undeliverable-hold", UNDELIVERABLE_TOPIC, { noDeadLetter: true }),
];

/** Attributes the edge sets on every message (API.md). */
export const MESSAGE_ATTRIBUTES = {
  stream: "events, webhooks, cdc or dead-letters",
  source: "the source the edge authenticated (write key's source, webhook provider, CDC connector)",
  event_id: "the record's id: the dedup key downstream",
  event_ts: "event time (RFC 3339): what partitions and watermarks use",
} as const;

/** Production only: the dead-letter policy of every subscription (Terraform). */
export const DEAD_LETTER_POLICY = { topic: UNDELIVERABLE_TOPIC, maxDeliveryAttempts: 10 } as const;

/** BigQuery datasets of the Dataform models (warehouse/dataform); raw, core and ops come from contracts/generated/bigquery. */
export const MODEL_DATASETS = {
  staging: "Dataform staging models: cleaned, typed views of raw and core (internal)",
  marts: "Dataform marts: what analysts and Looker Studio read",
  features: "Dataform feature and label tables: what ML teams read",
  assertions: "Dataform assertions: data-quality checks (rows that break a rule)",
} as const;

/** Bucket names per project: `{project}` is replaced by the project id. */
export const BUCKET_TEMPLATES = { raw: "{project}-raw", landing: "{project}-landing", dataflow: "{project}-dataflow", composer: "{project}-composer" } as const;
export const bucketName = (template: string, project: string): string => template.replaceAll("{project}", project);
export const rawBucket = (project: string): string => bucketName(BUCKET_TEMPLATES.raw, project);
export const landingBucket = (project: string): string => bucketName(BUCKET_TEMPLATES.landing, project);

/** infra/resources.json: what Terraform (jsondecode) and the Beam pipeline read. */
export function resourcesDocument() {
  return {
    $comment: "Generated from contracts/defaults.ts by `npm run generate`: the Google Cloud resources tideline needs, read by Terraform (jsondecode(file(...))) and the Beam pipeline.",
    messageAttributes: MESSAGE_ATTRIBUTES,
    topics: TOPICS,
    subscriptions: SUBSCRIPTIONS,
    deadLetter: DEAD_LETTER_POLICY,
    modelDatasets: MODEL_DATASETS,
    buckets: BUCKET_TEMPLATES,
  };
}

const pad = (n: number) => String(n).padStart(2, "0");
const utcDate = (when: Date) => `${when.getUTCFullYear()}-${pad(when.getUTCMonth() + 1)}-${pad(when.getUTCDate())}`;

/**
 * The raw archive in the raw bucket: `raw/<stream>/dt=YYYY-MM-DD/hour=HH/<batch id>.ndjson.gz`,
 * and `deadletter/dt=…/hour=…/<id>.ndjson.gz` for what the edge's dead-letter queue received.
 */
export const ARCHIVE = {
  streamPrefix: (stream: InputStream | "deadletter") => (stream === "deadletter" ? "deadletter" : `raw/${stream}`),
  /** Objects of one stream and UTC date (every hour). */
  datePrefix: (stream: InputStream, date: string) => `raw/${stream}/dt=${date}/`,
  objectName: (prefix: string, when: Date, id: string, ext = "ndjson.gz") => `${prefix}/dt=${utcDate(when)}/hour=${pad(when.getUTCHours())}/${id}.${ext}`,
  /** The hour of an object name ("00" when it has none). */
  hourOf: (name: string) => /\/hour=(\d{2})\//.exec(name)?.[1] ?? "00",
} as const;

/** Bulk uploads in the landing bucket: `landing/<stream>/dt=YYYY-MM-DD/<id>.ndjson.gz`. */
export const LANDING = {
  objectName: (stream: Stream, when: Date, id: string) => `landing/${stream}/dt=${utcDate(when)}/${id}.ndjson.gz`,
  /** The stream segment of a landing object name, or null when it is not one. */
  streamOf: (name: string) => /^landing\/([^/]+)\//.exec(name)?.[1] ?? null,
} as const;

/** contracts/generated/defaults.json: the same defaults for Python (the DAGs' local profile). */
export function defaultsDocument() {
  return {
    project: LOCAL_PROJECT,
    host: LOCALHOST,
    ports: Object.fromEntries(Object.entries(LOCAL_PORTS).map(([k, v]) => [k, { env: v.env, port: v.port }])),
    topics: { ...STREAM_TOPICS, deadLetters: DEAD_LETTER_TOPIC, landing: LANDING_TOPIC },
    subscriptions: { ...PIPELINE_SUBSCRIPTIONS, landing: PIPELINE_LANDING_SUBSCRIPTION, airflowLanding: AIRFLOW_LANDING_SUBSCRIPTION },
    buckets: BUCKET_TEMPLATES,
  };
}

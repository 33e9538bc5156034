/**
 * Queue consumers. `tideline-ingest`: records are published to their Pub/Sub topic and written to
 * the raw archive as one gzip NDJSON object per stream per batch, and a message is acknowledged only
 * after both confirmed its records. `tideline-ingest-dlq`: messages that exhausted their retries are
 * written, with the reason, to the dead-letters topic and to deadletter/ in the archive.
 *
 * Redelivery: the archive object's name is a hash of the batch's message ids, written with
 * ifGenerationMatch=0, so a redelivered identical batch is a no-op (412). Publishing happens first;
 * the archive is written only once the publish succeeded, and retried in place under the same name,
 * so an unclear outcome (a dropped connection after the write) settles on the same object.
 */
import { ARCHIVE, DEAD_LETTER_TOPIC, STREAM_TOPICS } from "../../../contracts/defaults.js";
import { QueueEnvelope, type DeadLetterRecord, type Stream } from "../../../contracts/records.js";
import type { EdgeEnv } from "../config.js";
import { stableId } from "../enrich/hash.js";
import { gzipText, putObjectOnce } from "../google/gcs.js";
import { GoogleApiError } from "../google/http.js";
import { publish, type OutMessage } from "../google/pubsub.js";

/** Mirrors max_retries in wrangler.toml: after this many attempts Queues moves a message to the DLQ. */
export const MAX_ATTEMPTS = 5;

type Rec = Record<string, unknown>;

/** How many ordering keys one table's changes are folded into when the edge publishes to the Pub/Sub emulator. */
export const EMULATOR_ORDERING_KEYS_PER_TABLE = 64;

/**
 * The Pub/Sub ordering key of a CDC record. In production it is the record's own key
 * (`db.schema.table:<primary key>`), so changes of one row stay in order and rows spread over as
 * many keys as there are rows. The Pub/Sub emulator starts a thread for every ordering key it is
 * given and keeps it until it stops: a 100,000-row CDC load made about 10,000 threads (in the proof
 * run, the machine's load average went past 900). So against the emulator the key is folded into one
 * of EMULATOR_ORDERING_KEYS_PER_TABLE per table: changes of one row still share one key, and stay in order.
 */
export function pubsubOrderingKey(env: Pick<EdgeEnv, "PUBSUB_EMULATOR_HOST">, key: string): string {
  if (!env.PUBSUB_EMULATOR_HOST) return key;
  const colon = key.indexOf(":");
  const table = colon < 0 ? "" : key.slice(0, colon);
  return `${table}:~${parseInt(stableId(key).slice(0, 8), 16) % EMULATOR_ORDERING_KEYS_PER_TABLE}`;
}


const attributes = (stream: string, r: Rec): Record<string, string> => ({
  stream,
  source: String(r.source ?? r.provider ?? r.source_name ?? "unknown"),
  event_id: String(r.event_id ?? ""),
  event_ts: String(r.event_ts ?? ""),
});

/** Seconds before a failed message is delivered again: 5, 10, 20, … up to 5 minutes. */
export function retryDelay(attempts: number) {
  return Math.min(300, 5 * 2 ** Math.max(0, attempts - 1));
}

async function handleIngest(batch: MessageBatch<unknown>, env: EdgeEnv): Promise<void> {
  const byStream = new Map<Stream, { messages: Message<unknown>[]; records: { rec: Rec; json: string }[] }>();
  for (const msg of batch.messages) {
    let envelope: QueueEnvelope;
    try {
      const body = typeof msg.body === "string" ? JSON.parse(msg.body) : msg.body;
      envelope = QueueEnvelope.parse(body);
    } catch (err) {
      // A poison message never gets better by retrying: straight to the dead-letter queue, with why.
      await env.DLQ_QUEUE.send(JSON.stringify({ poison: true, stage: "queue", reason: `unreadable queue message: ${(err as Error).message.slice(0, 300)}`, body: typeof msg.body === "string" ? msg.body : JSON.stringify(msg.body) }), { contentType: "text" });
      console.error(`queue: message ${msg.id} is not a record envelope; sent to the dead-letter queue`);
      msg.ack();
      continue;
    }
    let group = byStream.get(envelope.stream);
    if (!group) byStream.set(envelope.stream, (group = { messages: [], records: [] }));
    group.messages.push(msg);
    for (const rec of envelope.records) group.records.push({ rec, json: JSON.stringify(rec) });
  }

  const now = new Date();
  await Promise.all(
    [...byStream].map(async ([stream, group]) => {
      try {
        const messages: OutMessage[] = group.records.map(({ rec, json }) => ({
          data: json,
          attributes: attributes(stream, rec),
          ...(stream === "cdc" && typeof rec.ordering_key === "string" ? { orderingKey: pubsubOrderingKey(env, rec.ordering_key) } : {}),
        }));
        await publish(env, STREAM_TOPICS[stream], messages);
        const batchId = stableId(stream, ...group.messages.map((m) => m.id).sort());
        const body = await gzipText(group.records.map((r) => r.json).join("\n") + "\n");
        await putObjectOnce(env, env.RAW_BUCKET, ARCHIVE.objectName(ARCHIVE.streamPrefix(stream), now, batchId), body, { contentType: "application/gzip" });
        for (const m of group.messages) m.ack();
      } catch (err) {
        const stage = err instanceof GoogleApiError ? err.stage : "queue";
        console.error(`queue: ${stream}: ${group.messages.length} messages will be retried (${stage}: ${(err as Error).message.slice(0, 200)})`);
        for (const m of group.messages) m.retry({ delaySeconds: retryDelay(m.attempts) });
      }
    }),
  );
}

/** What the DLQ holds: a poison note from the ingest consumer, or a record envelope that ran out of retries. */
function deadLetters(msg: Message<unknown>, failedAt: string): DeadLetterRecord[] {
  const text = typeof msg.body === "string" ? msg.body : JSON.stringify(msg.body);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = null;
  }
  const base = { attempts: msg.attempts, failed_at: failedAt };
  if (parsed && typeof parsed === "object" && (parsed as Rec).poison) {
    const p = parsed as { stage?: string; reason?: string; body?: string };
    return [{ ...base, dead_letter_id: stableId("dlq", msg.id), stage: "queue", reason: p.reason ?? "unreadable queue message", stream: "unknown", event_id: null, payload: p.body ?? text }];
  }
  const env = QueueEnvelope.safeParse(parsed);
  if (!env.success) {
    return [{ ...base, dead_letter_id: stableId("dlq", msg.id), stage: "queue", reason: "unreadable queue message", stream: "unknown", event_id: null, payload: text }];
  }
  return env.data.records.map((r, i) => ({
    ...base,
    dead_letter_id: stableId("dlq", msg.id, String(i)),
    stage: "publish",
    reason: `not forwarded to Pub/Sub and the archive after ${msg.attempts} delivery attempts (see the Worker's logs for the last error)`,
    stream: env.data.stream,
    event_id: typeof r.event_id === "string" ? r.event_id : null,
    payload: JSON.stringify(r),
  }));
}

/**
 * Writes dead letters where the pipeline loads them: the dead-letters topic, and `deadletter/` in
 * the raw archive under a name derived from `id` (a retry with the same id writes the same object).
 * Also used for the invalid lines of bulk uploads.
 */
export async function storeDeadLetters(env: EdgeEnv, letters: DeadLetterRecord[], id: string, now: Date): Promise<void> {
  await publish(
    env,
    DEAD_LETTER_TOPIC,
    letters.map((d) => ({ data: JSON.stringify(d), attributes: { stream: "dead-letters", source: d.stage, event_id: d.event_id ?? d.dead_letter_id, event_ts: d.failed_at } })),
  );
  await putObjectOnce(env, env.RAW_BUCKET, ARCHIVE.objectName(ARCHIVE.streamPrefix("deadletter"), now, id), await gzipText(letters.map((d) => JSON.stringify(d)).join("\n") + "\n"), {
    contentType: "application/gzip",
  });
}

async function handleDeadLetters(batch: MessageBatch<unknown>, env: EdgeEnv): Promise<void> {
  const now = new Date();
  const failedAt = now.toISOString();
  const letters = batch.messages.flatMap((m) => deadLetters(m, failedAt));
  try {
    await storeDeadLetters(env, letters, stableId("deadletter", ...batch.messages.map((m) => m.id).sort()), now);
    for (const m of batch.messages) m.ack();
  } catch (err) {
    // Never acknowledged without being written somewhere: retry until the dead letters land.
    console.error(`dead letters: ${batch.messages.length} messages will be retried: ${(err as Error).message.slice(0, 200)}`);
    for (const m of batch.messages) m.retry({ delaySeconds: retryDelay(m.attempts) });
  }
}

export async function handleQueue(batch: MessageBatch<unknown>, env: EdgeEnv): Promise<void> {
  if (batch.queue.startsWith("tideline-ingest-dlq")) return handleDeadLetters(batch, env);
  return handleIngest(batch, env);
}

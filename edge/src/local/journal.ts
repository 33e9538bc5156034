/**
 * A write-ahead journal of queue messages, for local development only (the entry `local/index.ts`
 * that `npm start` runs; production deploys `index.ts`, which never imports this).
 *
 * Why: Cloudflare Queues keep an accepted message durably; the local queue (Miniflare's broker)
 * keeps it in memory, so a killed or restarted `wrangler dev` dropped every message it still held,
 * after the edge had answered 2xx. Here each message is written to a D1 database persisted under
 * `--persist-to` before it is handed to the queue (so before the client gets its 2xx), and removed
 * once its consumer acknowledged it (after Pub/Sub and the archive, or the dead-letter store,
 * took it). On start, `npm start` asks the new Worker to send again what an earlier process left
 * in the journal.
 *
 * A message is keyed by its queue and a SHA-256 of its body: the consumer sees the same body and
 * needs no extra field in the envelope, so production's messages stay as they are.
 */
export const JOURNAL_QUEUES = ["ingest", "dlq"] as const;
export type JournalQueue = (typeof JOURNAL_QUEUES)[number];

const SCHEMA = "CREATE TABLE IF NOT EXISTS queue_journal (key TEXT PRIMARY KEY, queue TEXT NOT NULL, body TEXT NOT NULL, written_at INTEGER NOT NULL)";
const ready = new WeakMap<D1Database, Promise<unknown>>();

function init(db: D1Database): Promise<unknown> {
  let p = ready.get(db);
  if (!p) {
    p = db.exec(SCHEMA);
    // A failed creation is tried again by the next caller.
    p.catch(() => ready.delete(db));
    ready.set(db, p);
  }
  return p;
}

async function keyOf(queue: JournalQueue, body: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(`${queue}\n${body}`));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

const textOf = (body: unknown) => (typeof body === "string" ? body : JSON.stringify(body));

/** Writes the bodies to the journal in one transaction (D1 runs a batch atomically). */
export async function record(db: D1Database, queue: JournalQueue, bodies: string[], now = Date.now()): Promise<string[]> {
  await init(db);
  const keys = await Promise.all(bodies.map((b) => keyOf(queue, b)));
  const insert = db.prepare("INSERT OR REPLACE INTO queue_journal (key, queue, body, written_at) VALUES (?, ?, ?, ?)");
  await db.batch(bodies.map((b, i) => insert.bind(keys[i]!, queue, b, now)));
  return keys;
}

/** Removes the entries of acknowledged bodies, from every queue (a dead-lettered message was journaled for the ingest queue). */
export async function forget(db: D1Database, bodies: string[]): Promise<void> {
  if (!bodies.length) return;
  await init(db);
  const keys = (await Promise.all(bodies.flatMap((b) => JOURNAL_QUEUES.map((q) => keyOf(q, b))))).filter((k, i, all) => all.indexOf(k) === i);
  const del = db.prepare("DELETE FROM queue_journal WHERE key = ?");
  await db.batch(keys.map((k) => del.bind(k)));
}

async function forgetKeys(db: D1Database, keys: string[]): Promise<void> {
  const del = db.prepare("DELETE FROM queue_journal WHERE key = ?");
  await db.batch(keys.map((k) => del.bind(k)));
}

/** A Queue producer that journals every message before sending it. */
export function journaled(queue: Queue, name: JournalQueue, db: D1Database): Queue {
  const sendBatch = async (messages: Iterable<MessageSendRequest>, options?: QueueSendBatchOptions) => {
    const list = [...messages];
    const keys = await record(db, name, list.map((m) => textOf(m.body)));
    try {
      return await queue.sendBatch(list, options);
    } catch (err) {
      // Not queued: the client gets an error and sends again; the journal must not replay it too.
      await forgetKeys(db, keys).catch(() => undefined);
      throw err;
    }
  };
  return {
    send: async (body: unknown, options?: QueueSendOptions) => sendBatch([{ body, ...(options?.contentType ? { contentType: options.contentType } : {}), ...(options?.delaySeconds !== undefined ? { delaySeconds: options.delaySeconds } : {}) }]),
    sendBatch,
    metrics: () => queue.metrics(),
  } as unknown as Queue;
}

/**
 * The batch the consumer sees, with acknowledgements noted; `settle` removes the acknowledged
 * messages from the journal once the consumer returned.
 */
export function watchAcks(batch: MessageBatch<unknown>, db: D1Database): { batch: MessageBatch<unknown>; settle(): Promise<void> } {
  const acked = new Set<Message<unknown>>();
  const messages = batch.messages.map((m) => {
    const wrapped = Object.create(m) as Message<unknown>;
    Object.defineProperties(wrapped, {
      body: { get: () => m.body },
      id: { get: () => m.id },
      attempts: { get: () => m.attempts },
      timestamp: { get: () => m.timestamp },
      ack: { value: () => (acked.add(m), m.ack()) },
      retry: { value: (o?: QueueRetryOptions) => (acked.delete(m), m.retry(o)) },
    });
    return wrapped;
  });
  const wrappedBatch = Object.create(batch) as MessageBatch<unknown>;
  Object.defineProperties(wrappedBatch, {
    queue: { get: () => batch.queue },
    messages: { value: messages },
    ackAll: { value: () => (batch.messages.forEach((m) => acked.add(m)), batch.ackAll()) },
    retryAll: { value: (o?: QueueRetryOptions) => (acked.clear(), batch.retryAll(o)) },
  });
  return { batch: wrappedBatch, settle: () => forget(db, [...acked].map((m) => textOf(m.body))) };
}

export interface ReplayResult {
  replayed: number;
  bytes: number;
}

/**
 * Sends again every entry written before `before` (ms since epoch: the start of this process, so
 * nothing this process still holds in its queue), and marks it as written now: a later restart
 * sends it again only if it is still unacknowledged then.
 */
export async function replay(db: D1Database, queues: Record<JournalQueue, Queue>, before: number, now = Date.now()): Promise<ReplayResult> {
  await init(db);
  const result: ReplayResult = { replayed: 0, bytes: 0 };
  for (;;) {
    const { results } = await db.prepare("SELECT key, queue, body FROM queue_journal WHERE written_at < ? ORDER BY written_at, key LIMIT 50").bind(before).all<{ key: string; queue: JournalQueue; body: string }>();
    if (!results.length) return result;
    for (const row of results) {
      await queues[row.queue].send(row.body, { contentType: "text" });
      await db.prepare("UPDATE queue_journal SET written_at = ? WHERE key = ?").bind(Math.max(now, before), row.key).run();
      result.replayed++;
      result.bytes += row.body.length;
    }
  }
}

export async function pending(db: D1Database): Promise<number> {
  await init(db);
  const row = await db.prepare("SELECT count(*) AS n FROM queue_journal").first<{ n: number }>();
  return row?.n ?? 0;
}

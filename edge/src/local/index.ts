/**
 * The Worker entry of the local platform (`npm start` runs `wrangler dev` with this file): the
 * production entry's app and consumers, with both queues journaled (journal.ts) so that what the
 * edge accepted survives a killed `wrangler dev`. Production deploys `../index.ts`, which does not
 * import this. `POST /__local/journal/replay` (only with the per-run token `npm start` passes as
 * LOCAL_JOURNAL_TOKEN) sends again what an earlier process left unacknowledged.
 */
import { createApp } from "../app.js";
import type { EdgeEnv } from "../config.js";
import { handleQueue } from "../queue/consumer.js";
import { journaled, pending, replay, watchAcks } from "./journal.js";

export type LocalEnv = EdgeEnv & { LOCAL_JOURNAL?: D1Database; LOCAL_JOURNAL_TOKEN?: string };

const app = createApp();
const REPLAY_PATH = "/__local/journal/replay";

// One wrapped env per env object: the configuration is parsed once per env object (config.ts).
const wrapped = new WeakMap<LocalEnv, EdgeEnv>();
function withJournal(env: LocalEnv): EdgeEnv {
  const db = env.LOCAL_JOURNAL;
  if (!db) return env;
  let w = wrapped.get(env);
  if (!w) wrapped.set(env, (w = { ...env, INGEST_QUEUE: journaled(env.INGEST_QUEUE, "ingest", db), DLQ_QUEUE: journaled(env.DLQ_QUEUE, "dlq", db) }));
  return w;
}

/** Constant-time comparison of the replay token. */
function sameToken(a: string, b: string): boolean {
  const x = new TextEncoder().encode(a);
  const y = new TextEncoder().encode(b);
  if (x.length !== y.length) return false;
  let d = 0;
  for (let i = 0; i < x.length; i++) d |= x[i]! ^ y[i]!;
  return d === 0;
}

async function journalRoute(request: Request, env: LocalEnv): Promise<Response> {
  const token = env.LOCAL_JOURNAL_TOKEN;
  if (!env.LOCAL_JOURNAL || !token) return Response.json({ error: { code: "not_found", message: "no local journal in this Worker" } }, { status: 404 });
  if (!sameToken(request.headers.get("x-tideline-local-token") ?? "", token)) return Response.json({ error: { code: "unauthorized", message: "wrong or missing X-Tideline-Local-Token" } }, { status: 401 });
  const before = Number(new URL(request.url).searchParams.get("before"));
  if (!Number.isSafeInteger(before) || before <= 0) return Response.json({ error: { code: "invalid_request", message: "?before=<ms since epoch> is required" } }, { status: 400 });
  const result = await replay(env.LOCAL_JOURNAL, { ingest: env.INGEST_QUEUE, dlq: env.DLQ_QUEUE }, before);
  return Response.json({ ...result, pending: await pending(env.LOCAL_JOURNAL) });
}

export default {
  fetch(request, env, ctx) {
    if (request.method === "POST" && new URL(request.url).pathname === REPLAY_PATH) return journalRoute(request, env);
    return app.fetch(request, withJournal(env), ctx);
  },
  async queue(batch, env, ctx) {
    const db = env.LOCAL_JOURNAL;
    if (!db) return handleQueue(batch, env);
    const watched = watchAcks(batch, db);
    await handleQueue(watched.batch, withJournal(env));
    await watched.settle();
  },
} satisfies ExportedHandler<LocalEnv>;

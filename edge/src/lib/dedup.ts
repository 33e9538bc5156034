/**
 * Replay detection for webhook deliveries at the edge, with the DEDUP KV namespace. KV is eventually
 * consistent across locations, so two copies of one delivery arriving at once in different places
 * can both pass; the pipeline's dedup on event_id is the guarantee, this saves the work and the
 * duplicate messages. An id is remembered only after its record is on the queue.
 */
import { DEDUP_TTL_SECONDS } from "../../../contracts/limits.js";

export async function alreadySeen(kv: KVNamespace | undefined, keys: string[]): Promise<boolean[]> {
  if (!kv || !keys.length) return keys.map(() => false);
  return Promise.all(keys.map(async (k) => (await kv.get(k)) !== null));
}

export async function remember(kv: KVNamespace | undefined, keys: string[]): Promise<void> {
  if (!kv || !keys.length) return;
  await Promise.all(keys.map((k) => kv.put(k, "1", { expirationTtl: DEDUP_TTL_SECONDS })));
}

/**
 * Deduplication by dedup key (event_id; for webhooks the edge derives it from provider and delivery id):
 * within a batch, and against keys the warehouse already holds.
 */
export function dedupWithinBatch<T extends { event_id: string }>(records: T[]): { unique: T[]; duplicates: number } {
  const seen = new Set<string>();
  const unique: T[] = [];
  for (const r of records) {
    if (seen.has(r.event_id)) continue;
    seen.add(r.event_id);
    unique.push(r);
  }
  return { unique, duplicates: records.length - unique.length };
}

export function dropStored<T extends { event_id: string }>(records: T[], stored: ReadonlySet<string>): { fresh: T[]; alreadyStored: number } {
  if (stored.size === 0) return { fresh: records, alreadyStored: 0 };
  const fresh = records.filter((r) => !stored.has(r.event_id));
  return { fresh, alreadyStored: records.length - fresh.length };
}

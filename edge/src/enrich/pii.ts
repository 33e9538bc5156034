/** Configured PII fields (dot paths such as traits.email) replaced by a keyed hash, in place. */
import { keyedHash } from "./hash.js";

/** `paths` are split dot paths, rooted at the event (traits.email, context.traits.phone, properties.email). */
export function pseudonymize(event: Record<string, unknown>, paths: string[][], key: string | undefined): void {
  if (!paths.length) return;
  for (const path of paths) {
    let node: unknown = event;
    for (let i = 0; i < path.length - 1 && node && typeof node === "object"; i++) node = (node as Record<string, unknown>)[path[i]!];
    if (!node || typeof node !== "object") continue;
    const leaf = path[path.length - 1]!;
    const obj = node as Record<string, unknown>;
    const v = obj[leaf];
    if (v == null || v === "") continue;
    if (!key) throw new Error("PII_FIELDS is set but the PII_HASH_KEY secret is missing");
    obj[leaf] = keyedHash(key, typeof v === "string" ? v.trim().toLowerCase() : JSON.stringify(v));
  }
}

/**
 * Hashes for ids and pseudonyms. node:crypto (nodejs_compat) is synchronous, which keeps per-event
 * cost at about a microsecond; WebCrypto's digest is async per call and several times slower here.
 */
import { createHash, createHmac } from "node:crypto";

/** Deterministic 128-bit id (32 hex chars) of the given parts. */
export function stableId(...parts: string[]): string {
  return createHash("sha256").update(parts.join("\u0000")).digest("hex").slice(0, 32);
}

/** Keyed pseudonym: HMAC-SHA256(key, value), 128 bits as hex, prefixed so it is recognisable. */
export function keyedHash(key: string, value: string): string {
  return "h_" + createHmac("sha256", key).update(value).digest("hex").slice(0, 32);
}

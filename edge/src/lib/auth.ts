/** Credential checks shared by the routes: write keys, bearer tokens, constant-time comparison. */
import { timingSafeEqual } from "node:crypto";
import { unauthorized } from "../errors.js";

const enc = new TextEncoder();

/** Constant-time string equality (length leaks only through the early length check, as usual). */
export function safeEqual(a: string, b: string): boolean {
  const x = enc.encode(a);
  const y = enc.encode(b);
  if (x.byteLength !== y.byteLength) {
    timingSafeEqual(x, x);
    return false;
  }
  return timingSafeEqual(x, y);
}

/** The username of an HTTP Basic Authorization header (Segment's write key), or null. */
export function basicUsername(header: string | undefined): string | null {
  if (!header) return null;
  const m = /^Basic\s+([A-Za-z0-9+/=_-]+)\s*$/i.exec(header);
  if (!m) return null;
  let decoded: string;
  try {
    decoded = atob(m[1]!);
  } catch {
    return null;
  }
  const colon = decoded.indexOf(":");
  return colon >= 0 ? decoded.slice(0, colon) : decoded;
}

/** Finds the source of a write key (WRITE_KEYS maps key → source), comparing in constant time. */
export function sourceForWriteKey(writeKeys: Record<string, string>, writeKey: string | null | undefined): string {
  if (!writeKey) {
    throw unauthorized("missing write key", "Send the write key as the HTTP Basic username (empty password) or as writeKey in the JSON body.");
  }
  let source: string | null = null;
  for (const [key, name] of Object.entries(writeKeys)) if (safeEqual(key, writeKey)) source = name;
  if (!source) throw unauthorized("unknown write key", "Check the write key of this source in your tideline configuration (WRITE_KEYS).");
  return source;
}

export function bearerToken(header: string | undefined): string | null {
  const m = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  return m ? m[1]! : null;
}

/**
 * Configured PII fields (dot paths such as traits.email) replaced by a keyed hash. Copy-on-write:
 * containers along a path are cloned only when a value is replaced, so shared objects (batch-level
 * context merged into every event) are never changed and untouched events cost no copies.
 * Arrays on a path are walked element by element; a `*` segment matches every member of an object.
 */
import { keyedHash } from "./hash.js";

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

/** The pseudonym of one value: strings trimmed and lower-cased, so one email is one pseudonym. */
export const pseudonymOf = (key: string, v: unknown) => keyedHash(key, typeof v === "string" ? v.trim().toLowerCase() : JSON.stringify(v));

function replaceAt(node: unknown, path: string[], at: number, key: string): unknown {
  if (at === path.length) return node == null || node === "" ? node : pseudonymOf(key, node);
  if (Array.isArray(node)) {
    let out: unknown[] | null = null;
    for (let i = 0; i < node.length; i++) {
      const next = replaceAt(node[i], path, at, key);
      if (next !== node[i]) (out ??= node.slice())[i] = next;
    }
    return out ?? node;
  }
  if (!isObj(node)) return node;
  const name = path[at]!;
  if (name === "*") {
    let out: Obj | null = null;
    for (const k in node) {
      const next = replaceAt(node[k], path, at + 1, key);
      if (next !== node[k]) (out ??= { ...node })[k] = next;
    }
    return out ?? node;
  }
  if (!Object.hasOwn(node, name)) return node;
  const child = node[name];
  const next = replaceAt(child, path, at + 1, key);
  return next === child ? node : { ...node, [name]: next };
}

const missingKey = () => new Error("PII fields are configured but the PII_HASH_KEY secret is missing");

/** One JSON value with the given paths (relative to it) pseudonymized. */
export function pseudonymizeValue<T>(value: T, paths: string[][], key: string | undefined): T {
  let out: unknown = value;
  for (const path of paths) {
    if (!path.length) continue;
    if (!key) {
      if (replaceAt(out, path, 0, "probe") !== out) throw missingKey();
      continue;
    }
    out = replaceAt(out, path, 0, key);
  }
  return out as T;
}

/** `paths` are split dot paths whose first segment names the root (properties, traits, context). */
export function pseudonymize<R extends Record<string, Obj>>(roots: R, paths: string[][], key: string | undefined): R {
  let out = roots;
  for (const path of paths) {
    const root = path[0]!;
    const obj = out[root];
    if (!obj || path.length < 2) continue;
    if (!key) {
      if (replaceAt(obj, path, 1, "probe") !== obj) throw missingKey();
      continue;
    }
    const next = replaceAt(obj, path, 1, key) as Obj;
    if (next !== obj) out = { ...out, [root]: next };
  }
  return out;
}

/**
 * True for text shaped like an email address (one @, a dot in the domain, no spaces): user ids
 * that are emails are pseudonymized like any other email. Hand-written scan rather than a regex:
 * linear in the length whatever the input.
 */
export function looksLikeEmail(s: string): boolean {
  const at = s.indexOf("@");
  if (at <= 0 || at !== s.lastIndexOf("@")) return false;
  const dot = s.lastIndexOf(".");
  if (dot < at + 2 || dot === s.length - 1) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c <= 0x20) return false;
  }
  return true;
}

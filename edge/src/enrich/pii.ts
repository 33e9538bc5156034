/**
 * Configured PII fields (dot paths such as traits.email) replaced by a keyed hash. Copy-on-write:
 * containers along a path are cloned only when a value is replaced, so shared objects (batch-level
 * context merged into every event) are never changed and untouched events cost no copies.
 */
import { keyedHash } from "./hash.js";

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

function replaceAt(node: Obj, path: string[], at: number, key: string): Obj {
  const name = path[at]!;
  const v = node[name];
  if (at === path.length - 1) {
    if (v == null || v === "") return node;
    return { ...node, [name]: keyedHash(key, typeof v === "string" ? v.trim().toLowerCase() : JSON.stringify(v)) };
  }
  if (!isObj(v)) return node;
  const child = replaceAt(v, path, at + 1, key);
  return child === v ? node : { ...node, [name]: child };
}

/** `paths` are split dot paths whose first segment names the root (properties, traits, context). */
export function pseudonymize<R extends Record<string, Obj>>(roots: R, paths: string[][], key: string | undefined): R {
  let out = roots;
  for (const path of paths) {
    const root = path[0]!;
    const obj = out[root];
    if (!obj || path.length < 2) continue;
    if (!key) {
      if (replaceAt(obj, path, 1, "probe") !== obj) throw new Error("PII_FIELDS is set but the PII_HASH_KEY secret is missing");
      continue;
    }
    const next = replaceAt(obj, path, 1, key);
    if (next !== obj) out = { ...out, [root]: next };
  }
  return out;
}

/**
 * Configured PII fields (dot paths such as traits.email) replaced by a keyed hash. Copy-on-write:
 * containers along a path are cloned only when a value is replaced, so shared objects (batch-level
 * context merged into every event) are never changed and untouched events cost no copies.
 * Arrays on a path are walked element by element; a `*` segment matches every member of an object.
 */
import { keyedHash } from "./hash.js";

type Obj = Record<string, unknown>;

/** The pseudonym of one value: strings trimmed and lower-cased, so one email is one pseudonym. */
export const pseudonymOf = (key: string, v: unknown) => keyedHash(key, typeof v === "string" ? v.trim().toLowerCase() : JSON.stringify(v));

/**
 * Paths compiled into a tree, once per configured list: every container is visited once whatever
 * the number of paths (the defaults have twenty-odd, most of them absent from a given event).
 */
interface Trie {
  leaf: boolean;
  children: Map<string, Trie>;
  /** The children as an array, for looking them up by name without an iterator. */
  named: [string, Trie][];
  any: Trie | null;
}
const newTrie = (): Trie => ({ leaf: false, children: new Map(), named: [], any: null });
const compiled = new WeakMap<string[][], Trie>();

function trieOf(paths: string[][]): Trie {
  let root = compiled.get(paths);
  if (root) return root;
  root = newTrie();
  for (const path of paths) {
    let t = root;
    for (const name of path) {
      let next = name === "*" ? t.any : t.children.get(name);
      if (!next) {
        next = newTrie();
        if (name === "*") t.any = next;
        else {
          t.children.set(name, next);
          t.named.push([name, next]);
        }
      }
      t = next;
    }
    t.leaf = true;
  }
  compiled.set(paths, root);
  return root;
}

/** Few children are looked up by name; many are matched while walking the object's own keys. */
const LOOKUP_CHILDREN_MAX = 4;

function apply(node: unknown, t: Trie, key: string): unknown {
  if (t.leaf) return node == null || node === "" ? node : pseudonymOf(key, node);
  if (Array.isArray(node)) {
    let out: unknown[] | null = null;
    for (let i = 0; i < node.length; i++) {
      const next = apply(node[i], t, key);
      if (next !== node[i]) (out ??= node.slice())[i] = next;
    }
    return out ?? node;
  }
  if (typeof node !== "object" || node === null) return node;
  const o = node as Obj;
  let out: Obj | null = null;
  if (t.any !== null || t.named.length > LOOKUP_CHILDREN_MAX) {
    for (const k in o) {
      const named = t.children.get(k);
      if (named === undefined && t.any === null) continue;
      const v = o[k];
      let next = named === undefined ? v : apply(v, named, key);
      if (t.any !== null) next = apply(next, t.any, key);
      if (next !== v) (out ??= { ...o })[k] = next;
    }
  } else {
    for (let i = 0; i < t.named.length; i++) {
      const [k, child] = t.named[i]!;
      if (!Object.hasOwn(o, k)) continue;
      const v = o[k];
      const next = apply(v, child, key);
      if (next !== v) (out ??= { ...o })[k] = next;
    }
  }
  return out ?? o;
}

const missingKey = () => new Error("PII fields are configured but the PII_HASH_KEY secret is missing");

/** One JSON value with the given paths (relative to it) pseudonymized. */
export function pseudonymizeValue<T>(value: T, paths: string[][], key: string | undefined): T {
  if (!paths.length) return value;
  const t = trieOf(paths);
  if (!key) {
    if (apply(value, t, "probe") !== value) throw missingKey();
    return value;
  }
  return apply(value, t, key) as T;
}

/** `paths` are split dot paths whose first segment names the root (properties, traits, context). */
export function pseudonymize<R extends Record<string, Obj>>(roots: R, paths: string[][], key: string | undefined): R {
  const t = trieOf(paths);
  let out = roots;
  for (let i = 0; i < t.named.length; i++) {
    const [root, child] = t.named[i]!;
    const obj = out[root];
    if (!obj || child.leaf) continue;
    const next = apply(obj, child, key ?? "probe") as Obj;
    if (next === obj) continue;
    if (!key) throw missingKey();
    out = { ...out, [root]: next };
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

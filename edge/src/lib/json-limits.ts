/**
 * Size and nesting limits of one parsed JSON value (an event, a delivery, a change event), checked
 * before anything else reads it. JSON.parse accepts any depth, but JSON.stringify and every
 * recursive reader exhaust the stack on JSON nested thousands deep, and that must be the client's
 * 400, never our 503. The walk stops at the depth limit, so its own recursion is bounded.
 *
 * Size: the walk counts characters and values, which bound the value's JSON length from above
 * (every character six bytes, as \uXXXX, every value 26 more). Only a value whose bound exceeds
 * the limit is serialized to measure it exactly (safe: its depth was checked): ordinary events
 * never are.
 */
import { MAX_JSON_DEPTH } from "../../../contracts/limits.js";
import { utf8Length } from "./utf8.js";

const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;

interface Tally {
  /** Characters of strings and member names. */
  chars: number;
  /** Values and member names. */
  nodes: number;
  tooDeep: boolean;
}

/** The most bytes one value or member name adds besides its characters (quotes, colon, comma, a number's digits). */
const MAX_NODE_BYTES = 26;
/** The most bytes one character takes in JSON (a \uXXXX escape). */
const MAX_CHAR_BYTES = 6;

function walk(v: unknown, depth: number, maxDepth: number, t: Tally): void {
  t.nodes++;
  if (typeof v === "string") {
    t.chars += v.length;
    return;
  }
  if (typeof v !== "object" || v === null) return;
  if (depth >= maxDepth) {
    t.tooDeep = true;
    return;
  }
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length && !t.tooDeep; i++) walk(v[i], depth + 1, maxDepth, t);
    return;
  }
  const o = v as Record<string, unknown>;
  for (const k in o) {
    t.nodes++;
    t.chars += k.length;
    walk(o[k], depth + 1, maxDepth, t);
    if (t.tooDeep) return;
  }
}

/**
 * Why the value breaks the limits ("nests deeper than 64 levels", "is 40.2 KB, over the 32.0 KB
 * limit"), or null when it is within them. `what` names the value in the sentence.
 */
export function jsonLimitError(value: unknown, maxBytes: number, what: string, maxDepth = MAX_JSON_DEPTH): string | null {
  const t: Tally = { chars: 0, nodes: 0, tooDeep: false };
  walk(value, 0, maxDepth, t);
  if (t.tooDeep) return `${what} nests objects and arrays deeper than ${maxDepth} levels`;
  if (t.chars * MAX_CHAR_BYTES + t.nodes * MAX_NODE_BYTES <= maxBytes) return null;
  const size = utf8Length(JSON.stringify(value));
  return size > maxBytes ? `${what} is ${kb(size)}, over the ${kb(maxBytes)} limit` : null;
}

/** Depth only: for values whose size the body limit already bounds. */
export function jsonDepthError(value: unknown, what: string, maxDepth = MAX_JSON_DEPTH): string | null {
  return jsonLimitError(value, Number.POSITIVE_INFINITY, what, maxDepth);
}

/**
 * Size and nesting limits of one parsed JSON value (an event, a delivery, a change event), checked
 * before anything else reads it. JSON.parse accepts any depth, but JSON.stringify and every
 * recursive reader exhaust the stack on JSON nested thousands deep, and that must be the client's
 * 400, never our 503. The walk stops at the depth limit, so its own recursion is bounded.
 *
 * Size: the walk adds up a lower bound (every character one byte, no escapes) and an upper bound
 * (every character six bytes, as \uXXXX) of the value's JSON length. Only a value between the two
 * bounds around the limit is serialized to measure it exactly: ordinary events never are.
 */
import { MAX_JSON_DEPTH } from "../../../contracts/limits.js";
import { utf8Length } from "../queue/producer.js";

const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;

interface Tally {
  low: number;
  high: number;
  tooDeep: boolean;
}

function walk(v: unknown, depth: number, maxDepth: number, t: Tally): void {
  switch (typeof v) {
    case "string":
      t.low += v.length + 2;
      t.high += v.length * 6 + 2;
      return;
    case "number":
      t.low += 1;
      t.high += 24;
      return;
    case "boolean":
      t.low += 4;
      t.high += 5;
      return;
    case "object":
      break;
    default:
      return;
  }
  if (v === null) {
    t.low += 4;
    t.high += 4;
    return;
  }
  if (depth >= maxDepth) {
    t.tooDeep = true;
    return;
  }
  if (Array.isArray(v)) {
    t.low += 2 + v.length;
    t.high += 2 + v.length;
    for (let i = 0; i < v.length && !t.tooDeep; i++) walk(v[i], depth + 1, maxDepth, t);
    return;
  }
  t.low += 2;
  t.high += 2;
  const o = v as Record<string, unknown>;
  for (const k in o) {
    t.low += k.length + 4;
    t.high += k.length * 6 + 4;
    walk(o[k], depth + 1, maxDepth, t);
    if (t.tooDeep) return;
  }
}

/**
 * Why the value breaks the limits ("nests deeper than 64 levels", "is 40.2 KB, over the 32.0 KB
 * limit"), or null when it is within them. `what` names the value in the sentence.
 */
export function jsonLimitError(value: unknown, maxBytes: number, what: string, maxDepth = MAX_JSON_DEPTH): string | null {
  const t: Tally = { low: 0, high: 0, tooDeep: false };
  walk(value, 0, maxDepth, t);
  if (t.tooDeep) return `${what} nests objects and arrays deeper than ${maxDepth} levels`;
  if (t.high <= maxBytes) return null;
  if (t.low > maxBytes) return `${what} is at least ${kb(t.low)}, over the ${kb(maxBytes)} limit`;
  const size = utf8Length(JSON.stringify(value));
  return size > maxBytes ? `${what} is ${kb(size)}, over the ${kb(maxBytes)} limit` : null;
}

/** Depth only: for values whose size the body limit already bounds. */
export function jsonDepthError(value: unknown, what: string, maxDepth = MAX_JSON_DEPTH): string | null {
  return jsonLimitError(value, Number.POSITIVE_INFINITY, what, maxDepth);
}

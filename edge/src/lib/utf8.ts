/** Exact UTF-8 byte length of strings (no Worker bindings: Node tools import it too). */
import { QUEUE_MESSAGE_TARGET_BYTES } from "../../../contracts/limits.js";

const encoder = new TextEncoder();
let scratch = new Uint8Array(3 * QUEUE_MESSAGE_TARGET_BYTES);

/** Measured natively (encodeInto into a reused buffer: no allocation per call). */
export function utf8Length(s: string): number {
  if (s.length * 3 > scratch.byteLength) scratch = new Uint8Array(s.length * 3);
  return encoder.encodeInto(s, scratch).written;
}

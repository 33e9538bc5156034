import { MAX_ERROR_EXCERPT_CHARS } from "../../../contracts/limits.js";

/**
 * A short, printable excerpt of client input for an error message: never more than
 * MAX_ERROR_EXCERPT_CHARS characters, control characters shown as "?".
 */
export function excerpt(s: string, max = MAX_ERROR_EXCERPT_CHARS): string {
  const cut = s.length > max ? `${s.slice(0, max)}…` : s;
  return cut.replace(/[\u0000-\u001f\u007f\u2028\u2029]/g, "?");
}

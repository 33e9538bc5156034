/** A missing tool or program the local platform needs; the message says what to install or run. */
export class PrerequisiteError extends Error {
  override name = "PrerequisiteError";
}

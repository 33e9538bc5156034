import type { z } from "zod";

/** One line a developer can act on: "userId: userId or anonymousId is required; event: …". */
export function describeIssues(err: z.ZodError): string {
  return err.issues
    .slice(0, 5)
    .map((i) => (i.path.length ? `${i.path.join(".")}: ${i.message}` : i.message))
    .join("; ");
}

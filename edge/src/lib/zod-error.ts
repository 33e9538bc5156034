import type { z } from "zod";
import { excerpt } from "./excerpt.js";

/** One line a developer can act on: "userId: userId or anonymousId is required; event: …". Paths may hold client keys: excerpted. */
export function describeIssues(err: z.ZodError): string {
  return err.issues
    .slice(0, 5)
    .map((i) => (i.path.length ? `${excerpt(i.path.join("."))}: ${excerpt(i.message, 200)}` : excerpt(i.message, 200)))
    .join("; ");
}

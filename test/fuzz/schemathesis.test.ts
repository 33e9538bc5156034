/**
 * The independent fuzzer in the default suite: schemathesis against the edge's own document, every
 * operation, bounded examples (npm run proof runs more). A failure prints schemathesis's report,
 * with the curl line that reproduces it.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startStack, type Stack } from "../support/stack.js";
import { fuzzEdge, schemathesisMissing } from "./schemathesis.js";

describe("schemathesis against /v1/openapi.json", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it("finds no server error and no answer outside the document, in any operation", { timeout: 240_000 }, async () => {
    expect(schemathesisMissing()).toBeNull();
    const results = await fuzzEdge(stack.edgeUrl, { maxExamples: 10 });
    // Every operation schemathesis finds in the document was selected by exactly one of the runs.
    const counts = results.map((r) => /Operations:\s+(\d+) selected \/ (\d+) total/.exec(r.output));
    expect(counts.every((m) => m !== null), results.map((r) => r.output.slice(-2000)).join("\n")).toBe(true);
    const total = Number(counts[0]![2]);
    expect(total).toBeGreaterThanOrEqual(13);
    expect(counts.reduce((n, m) => n + Number(m![1]), 0)).toBe(total);
    for (const r of results) expect(r.code, `schemathesis (${r.group}):\n${r.output.slice(-8000)}`).toBe(0);
  });
});

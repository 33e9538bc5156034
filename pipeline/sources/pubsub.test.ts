import { describe, expect, it } from "vitest";
import { loadResources } from "../../infra/resources.js";
import { PIPELINE_SUBSCRIPTIONS } from "./pubsub.js";

describe("the pipeline's subscriptions", () => {
  it("are the ones infra/resources.json declares (same topics, ordering for CDC)", () => {
    const declared = new Map(loadResources().subscriptions.map((s) => [s.name, s]));
    for (const s of PIPELINE_SUBSCRIPTIONS) {
      expect(declared.get(s.subscription), s.subscription).toMatchObject({ topic: s.topic });
      expect(Boolean(declared.get(s.subscription)?.enableMessageOrdering), s.subscription).toBe(Boolean(s.ordered));
    }
  });
});

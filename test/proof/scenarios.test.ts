/**
 * The short versions of `npm run proof`'s fault scenarios (test/proof/scenarios.ts): 600 items
 * (SDK batches, Shopify webhooks, CDC changes) each, sent by senders that retry until 2xx, the fault
 * a third of the way in. Every accepted item must be in raw.* exactly once after each fault. The
 * kill -9 of every process at once is test/proof/kill.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPlatform, pubsubEmulatorAvailable, type Platform } from "./platform.js";
import { runFaultsScenario, runScenario, type Scenario, type ScenarioResult } from "./scenarios.js";

const OPTIONS = { events: 600, rate: 150, gcsStopMs: 10_000, recoverTimeoutMs: 180_000 };

function expectNothingLostOrDuplicated(r: ScenarioResult, log: string) {
  expect(r.recoverSeconds, `${r.scenario} never recovered: ${JSON.stringify(r.tallies)}\n${log.slice(-3000)}`).not.toBeNull();
  expect(r.tallies.map((t) => t.kind).sort()).toEqual(["cdc", "events", "webhooks"]);
  expect(r.tallies.reduce((n, t) => n + t.accepted, 0)).toBe(OPTIONS.events);
  for (const t of r.tallies) {
    expect(t, `${r.scenario} ${t.kind}\n${log.slice(-3000)}`).toMatchObject({ lost: 0, duplicated: 0, distinct: t.accepted, rows: t.accepted, deadLetters: 0 });
  }
}

describe.runIf(pubsubEmulatorAvailable())("the proof's fault scenarios, short", () => {
  let platform: Platform;
  beforeAll(async () => {
    platform = await createPlatform({ name: "scenarios" });
    await platform.start();
  }, 180_000);
  afterAll(async () => {
    await platform?.dispose();
  });

  const onOnePlatform: Scenario[] = ["kill-pipeline", "kill-edge", "restart-pubsub", "stop-gcs"];
  for (const s of onOnePlatform) {
    it(`${s}: loses and duplicates no accepted item`, { timeout: 600_000 }, async () => {
      const r = await runScenario(platform, s, OPTIONS);
      expectNothingLostOrDuplicated(r, platform.log());
    });
  }

  it("faults (20% at Pub/Sub and Cloud Storage): loses and duplicates no accepted item", { timeout: 600_000 }, async () => {
    const r = await runFaultsScenario(OPTIONS);
    expectNothingLostOrDuplicated(r, "");
    // The proxies did inject faults: the edge's requests went through them and some were failed.
    for (const stats of [r.proxies.pubsub, r.proxies.gcs]) {
      expect(stats.forwarded).toBeGreaterThan(0);
      expect(stats.status429 + stats.status503 + stats.droppedBefore + stats.droppedAfter).toBeGreaterThan(0);
    }
  });
});

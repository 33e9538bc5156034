/**
 * The short version of the proof's kill scenario (npm run proof runs the long one): SDK batches
 * sent to the real local platform (`tideline start`) at a steady rate, every process of it killed
 * with SIGKILL mid-stream, the platform started again on the same data, the sender retrying each
 * request until it gets a 2xx. Every accepted event must be in raw.events exactly once: what the
 * local queue held is replayed from the edge's journal, what the Pub/Sub emulator held is loaded
 * from the archive by the reconcile that follows a restart.
 */
import { afterAll, describe, expect, it } from "vitest";
import { createPlatform, pubsubEmulatorAvailable, type Platform } from "./platform.js";
import { eventRequests, sendUntilAccepted, tally, type Tally } from "./load.js";

const EVENTS = 600;
const RATE = 150;

describe.runIf(pubsubEmulatorAvailable())("kill -9 of the whole local platform under load", () => {
  let platform: Platform | null = null;
  afterAll(async () => {
    await platform?.dispose();
  });

  it("loses and duplicates no accepted event", { timeout: 600_000 }, async () => {
    platform = await createPlatform({ name: "kill" });
    const p = platform;
    await p.start();
    const tag = `kill${Date.now().toString(36)}`;
    let killed = false;
    const sending = sendUntilAccepted(p.edgeUrl, eventRequests(tag, EVENTS, 20), {
      itemsPerSecond: RATE,
      concurrency: 4,
      onAccepted: (n) => {
        // Kill once a third was accepted: the rest is sent to a dead edge, then to the new one.
        if (!killed && n >= EVENTS / 3) {
          killed = true;
          void p.killAll().then(() => p.start());
        }
      },
    });
    const sent = await sending;
    expect(killed).toBe(true);
    expect(sent.accepted.events.size).toBe(EVENTS);
    let result: Tally[] = [];
    const deadline = Date.now() + 180_000;
    for (;;) {
      if (p.running()) {
        result = await tally((sql) => p.query(sql), tag, sent.accepted).catch(() => result);
        const events = result.find((t) => t.kind === "events");
        if (events && events.lost === 0) break;
      }
      if (Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 2000));
    }
    const events = result.find((t) => t.kind === "events");
    expect(events, p.log().slice(-4000)).toMatchObject({ accepted: EVENTS, lost: 0, duplicated: 0, distinct: EVENTS, rows: EVENTS });
    // The recovery ran and said what it did.
    expect(p.log()).toMatch(/recovery: /);
  });
});

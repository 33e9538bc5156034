/**
 * `npx tideline tail`: it reads Pub/Sub, not the operator API, so it runs here against a real
 * Pub/Sub emulator (its own subscription, deleted afterwards), and refuses an unknown stream.
 */
import { PubSub } from "@google-cloud/pubsub";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { freePort } from "../../infra/local/settings.js";
import { ensureResources } from "../../infra/local/pubsub-emulator.js";
import { LOCAL_PROJECT } from "../../contracts/defaults.js";
import { startEmulator, type Emulator } from "../../pipeline/testing/pubsub-emulator.js";
import { tail } from "./tail.js";

let emulator: Emulator;
let pubsub: PubSub;
beforeAll(async () => {
  emulator = await startEmulator();
  await ensureResources(emulator.host, LOCAL_PROJECT);
  pubsub = new PubSub({ projectId: LOCAL_PROJECT, apiEndpoint: emulator.host, emulatorMode: true });
}, 120_000);
afterAll(async () => {
  await pubsub?.close();
  await emulator?.stop();
});
afterEach(() => {
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
});

function captureStd() {
  let out = "";
  let err = "";
  vi.spyOn(process.stdout, "write").mockImplementation((c: string | Uint8Array) => ((out += c.toString()), true));
  vi.spyOn(console, "error").mockImplementation((...a: unknown[]) => void (err += a.join(" ") + "\n"));
  return { out: () => out, err: () => err };
}

describe("tideline tail", () => {
  it("prints records published to the topic while it runs, then deletes its subscription", { timeout: 60_000 }, async () => {
    vi.stubEnv("PUBSUB_EMULATOR_HOST", emulator.host);
    const std = captureStd();
    const record = { event_id: "e-tail-1", type: "track", event: "Order Completed" };
    const running = tail("events", { json: true, limit: 1 });
    // The subscription exists only once tail has created it: publish until a record arrives.
    let done = false;
    void running.then(() => (done = true));
    while (!done) {
      await pubsub.topic("events").publishMessage({ json: record, attributes: { stream: "events", source: "web", event_id: "e-tail-1", event_ts: "2026-11-30T10:00:00Z" } });
      await new Promise((r) => setTimeout(r, 300));
    }
    expect(await running).toBe(0);
    vi.restoreAllMocks();
    expect(JSON.parse(std.out().split("\n")[0]!)).toEqual(record);
    const [subs] = await pubsub.getSubscriptions();
    expect(subs.map((s) => s.name.split("/").pop()).filter((n) => n?.startsWith("tail-"))).toEqual([]);
  });

  it("refuses an unknown stream, naming the ones there are (exit 2)", async () => {
    const std = captureStd();
    expect(await tail("clicks", {})).toBe(2);
    expect(std.err()).toBe('tideline tail: unknown stream "clicks"; one of: events, webhooks, cdc, dead-letters, landing-notifications, undeliverable\n');
  });

  it("says to start the platform when no emulator answers (exit 3)", { timeout: 60_000 }, async () => {
    vi.stubEnv("PUBSUB_EMULATOR_HOST", `127.0.0.1:${await freePort()}`);
    const std = captureStd();
    expect(await tail("events", {})).toBe(3);
    expect(std.err()).toMatch(/^tideline tail: cannot reach the Pub\/Sub emulator at 127\.0\.0\.1:\d+ \(.*\)\. Is `npm start` running\?\n$/s);
  });
});

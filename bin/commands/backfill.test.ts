/** `npx tideline backfill` while the platform runs: the typed client carries it to the operator API. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PassThrough } from "node:stream";
import { backfill } from "./backfill.js";
import { fakePorts, startTestApi, type FakePorts } from "../../platform/api/testing/fake-ports.js";

let ports: FakePorts;
let api: Awaited<ReturnType<typeof startTestApi>>;
beforeAll(async () => {
  ports = await fakePorts();
  api = await startTestApi(ports);
});
afterAll(async () => {
  await api.close();
  ports.close();
});

function capture() {
  const s = new PassThrough();
  let text = "";
  s.on("data", (c: Buffer) => (text += c.toString()));
  return { s, text: () => text };
}

describe("tideline backfill through the operator API", () => {
  it("runs in the platform's process and prints its totals", async () => {
    const err = capture();
    const code = await backfill({ from: "2026-03-01", to: "2026-03-02", streams: "events, dead-letters", progress: false }, err.s, api.client);
    expect(err.text()).toBe("backfill 2026-03-01..2026-03-02: 2 archive objects from gs://tideline-local-raw, 4 records: 3 loaded (0 late), 1 already stored, 0 dead letters\n");
    expect(code).toBe(0);
    expect(ports.calls.backfill).toEqual([{ from: "2026-03-01", to: "2026-03-02", streams: ["events", "dead-letters"] }]);
  });

  it("refuses an unknown stream or a bad date before sending anything, naming the flag", async () => {
    const err = capture();
    expect(await backfill({ from: "2026-03-01", to: "2026-03-01", streams: "events,clicks", progress: false }, err.s, api.client)).toBe(1);
    expect(err.text()).toMatch(/^tideline backfill: --streams Invalid option: expected one of "events"\|"webhooks"\|"cdc"\|"dead-letters"/);
    const err2 = capture();
    expect(await backfill({ from: "2026-03-02", to: "2026-03-01", progress: false }, err2.s, api.client)).toBe(1);
    expect(err2.text()).toBe("tideline backfill: --to must not be before from\n");
    expect(ports.calls.backfill).toHaveLength(1);
  });
});

/** `npx tideline reconcile` against a running operator API (its typed client), and what it says when the API refuses. */
import { PassThrough } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { reconcile } from "./reconcile.js";
import type { ReconcileRequest, ReconcileResult } from "../../platform/api/schemas.js";
import { fakePorts, startTestApi, type FakePorts } from "../../platform/api/testing/fake-ports.js";

function capture() {
  const s = new PassThrough();
  let text = "";
  s.on("data", (c: Buffer) => (text += c.toString()));
  return { s, text: () => text };
}

const asked: ReconcileRequest[] = [];
const result = (since: string): ReconcileResult => ({
  since,
  objects: 3,
  records: 10,
  missing: 2,
  replayedObjects: 1,
  stats: { messages: 4, duplicates: 2, loaded: 2, late: 0, deadLettered: 0, cdcIgnored: 0 },
  streams: { events: { objects: 3, records: 10, missing: 2 } },
});

let ports: FakePorts;
let api: Awaited<ReturnType<typeof startTestApi>>;
beforeAll(async () => {
  ports = await fakePorts({
    async reconcile(req) {
      asked.push(req);
      return result(req.since);
    },
  });
  api = await startTestApi(ports);
});
afterAll(async () => {
  await api.close();
  ports.close();
});

describe("tideline reconcile through the operator API", () => {
  it("runs in the platform's process and prints what it read and loaded", async () => {
    const out = capture();
    const err = capture();
    expect(await reconcile({ since: "2026-11-30T14:00:00Z" }, out.s, err.s, api.client)).toBe(0);
    expect(asked).toEqual([{ since: "2026-11-30T14:00:00.000Z" }]);
    expect(out.text()).toBe("");
    expect(err.text()).toBe(
      "reconcile since 2026-11-30T14:00:00.000Z: 3 archive objects, 10 records (events 10 in 3 objects (2 missing)); 2 missing from the warehouse; 2 loaded from 1 objects, 0 dead letters (gs://tideline-local-raw)\n",
    );
    const json = capture();
    expect(await reconcile({ since: "2026-11-30", json: true }, json.s, capture().s, api.client)).toBe(0);
    expect(JSON.parse(json.text())).toEqual(result("2026-11-30T00:00:00.000Z"));
  });

  it("refuses a --since that is not a time before sending anything, naming the flag", async () => {
    const err = capture();
    expect(await reconcile({ since: "yesterday" }, capture().s, err.s, api.client)).toBe(1);
    expect(err.text()).toBe("tideline reconcile: --since yesterday is not a time: use an ISO time (2026-11-30T14:00:00Z), a date (2026-11-30) or a duration back from now (90m, 6h, 7d)\n");
    expect(asked).toHaveLength(2);
  });

  it("passes on the API's refusal with what to do, and exits 1", async () => {
    const bare = await fakePorts();
    const other = await startTestApi(bare);
    try {
      const err = capture();
      expect(await reconcile({ since: "1h" }, capture().s, err.s, other.client)).toBe(1);
      expect(err.text()).toBe("tideline reconcile: this platform has no raw archive to reconcile with\n  run the local platform (npm start)\n");
    } finally {
      await other.close();
      bare.close();
    }
  });
});

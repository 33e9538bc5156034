import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createServer } from "node:net";
import { existsSync, rmSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { pipelineService } from "./pipeline-service.js";
import { queryWarehouse } from "../../bin/commands/query.js";
import { operatorClient } from "../api/client.js";
import { eventRecord } from "../../pipeline/testing/records.js";
import { publish, startHarness, until, type Harness } from "../../pipeline/e2e/harness.js";

let h: Harness;
beforeAll(async () => {
  h = await startHarness("service");
  process.env.TIDELINE_WAREHOUSE = h.dbPath;
  // The token goes next to the test's warehouse, not into a running platform's .data/.
  process.env.TIDELINE_DATA_DIR = join(dirname(h.dbPath), `data-${process.pid}`);
  process.env.TIDELINE_DASHBOARD_PORT = String(
    await new Promise<number>((resolve) => {
      const s = createServer().listen(0, "127.0.0.1", () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    }),
  );
});
afterAll(async () => {
  await pipelineService.stop();
  await h?.close();
  rmSync(process.env.TIDELINE_DATA_DIR!, { recursive: true, force: true });
});

describe("the pipeline service of npm start", () => {
  it("makes an event published to `events` queryable in raw.events through the operator API", async () => {
    await pipelineService.start();
    expect(pipelineService.url).toBe(`http://127.0.0.1:${process.env.TIDELINE_DASHBOARD_PORT}/api/pipeline`);
    const r = eventRecord(77, new Date().toISOString());
    await publish(h.pubsub, "events", [r]);
    let via = "";
    await until(async () => {
      const q = await queryWarehouse(`SELECT count(*) AS n FROM raw.events WHERE event_id = '${r.event_id}'`);
      via = q.via;
      return q.rows[0]!.n === 1;
    }, 20_000, "the event in raw.events");
    expect(via).toBe("api");
    const client = operatorClient();
    const tokenFile = join(process.env.TIDELINE_DATA_DIR!, "operator-api.token");
    expect(statSync(tokenFile).mode & 0o777).toBe(0o600);
    expect((await client.status()).status!.batches).toBeGreaterThan(0);
    // The models run inside the process holding the warehouse (its instance is locked down), streaming progress.
    const lines: string[] = [];
    const result = await client.runModels({}, (l) => lines.push(l));
    expect(result.results.length).toBeGreaterThan(10);
    expect(lines.length).toBeGreaterThan(0);
    await pipelineService.stop();
    expect(existsSync(tokenFile)).toBe(false);
    // With the service stopped the CLI path falls back to the file.
    const after = await queryWarehouse(`SELECT count(*) AS n FROM raw.events`);
    expect(after).toMatchObject({ via: "file", rows: [{ n: 1 }] });
  });
});

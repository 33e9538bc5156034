import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createServer } from "node:net";
import { pipelineService } from "../service.js";
import { queryWarehouse } from "../query-client.js";
import { eventRecord } from "../testing/records.js";
import { publish, startHarness, until, type Harness } from "./harness.js";

let h: Harness;
beforeAll(async () => {
  h = await startHarness("service");
  process.env.TIDELINE_WAREHOUSE = h.dbPath;
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
    const status = (await (await fetch(pipelineService.url)).json()) as { status: { batches: number } };
    expect(status.status.batches).toBeGreaterThan(0);
    // The models run inside the process holding the warehouse, streaming NDJSON progress.
    const models = await fetch(pipelineService.url.replace("/api/pipeline", "/api/models/run"), { method: "POST", body: "{}" });
    expect(models.headers.get("content-type")).toMatch(/ndjson/);
    const lines = (await models.text()).trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.at(-1)).toHaveProperty("done", true);
    await pipelineService.stop();
    // With the service stopped the CLI path falls back to the file.
    const after = await queryWarehouse(`SELECT count(*) AS n FROM raw.events`);
    expect(after).toMatchObject({ via: "file", rows: [{ n: 1 }] });
  });
});

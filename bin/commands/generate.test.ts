/** `npx tideline generate`: argument checks, the edge it sends to, and the --rows mode end to end (requests: workload/). */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { PassThrough } from "node:stream";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { runGenerate } from "./generate.js";
import { openDuckDbFile } from "../../warehouse/models/executor.js";

function capture() {
  const s = new PassThrough();
  let text = "";
  s.on("data", (c: Buffer) => (text += c.toString()));
  return { s, text: () => text };
}

const base = { seed: "5", edge: "http://127.0.0.1:9", concurrency: "2" };

describe("tideline generate", () => {
  it("rejects bad arguments with what to pass instead", async () => {
    const err = capture();
    expect(await runGenerate({ ...base, days: "0", users: "10" }, capture().s, err.s)).toBe(2);
    expect(err.text()).toContain("--days must be a whole number from 1 to 3650, not 0");
    const err2 = capture();
    expect(await runGenerate({ ...base, days: "2", users: "10", start: "yesterday" }, capture().s, err2.s)).toBe(2);
    expect(err2.text()).toContain("--start must be a date like 2026-03-01");
  });

  it("sends to 127.0.0.1 on TIDELINE_EDGE_PORT when no --edge is given", async () => {
    const paths: string[] = [];
    const server = createServer((req, res) => {
      paths.push(req.url ?? "");
      req.resume();
      req.on("end", () => res.writeHead(200, { "content-type": "application/json" }).end('{"accepted":1,"rejected":[]}'));
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const saved = { port: process.env.TIDELINE_EDGE_PORT, url: process.env.TIDELINE_EDGE_URL };
    process.env.TIDELINE_EDGE_PORT = String((server.address() as AddressInfo).port);
    delete process.env.TIDELINE_EDGE_URL;
    try {
      const out = capture();
      const { edge: _ignored, ...noEdge } = base;
      expect(await runGenerate({ ...noEdge, days: "1", users: "3" }, out.s, capture().s)).toBe(0);
      expect(out.text()).toContain(`to http://127.0.0.1:${process.env.TIDELINE_EDGE_PORT} (`);
      expect(paths).toContain("/v1/batch");
    } finally {
      for (const [k, v] of [["TIDELINE_EDGE_PORT", saved.port], ["TIDELINE_EDGE_URL", saved.url]] as const) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
      await new Promise((r) => server.close(r));
    }
  });

  it("--rows writes the seeded workload into a DuckDB file, the same rows for the same seed", async () => {
    mkdirSync(resolve(".data/scratch"), { recursive: true });
    const dir = mkdtempSync(join(resolve(".data/scratch"), "gen-"));
    try {
      const counts: unknown[] = [];
      for (const name of ["a.duckdb", "b.duckdb"]) {
        const path = join(dir, name);
        const out = capture();
        expect(await runGenerate({ ...base, days: "3", users: "120", start: "2026-03-01", rows: true, warehouse: path }, out.s, capture().s)).toBe(0);
        expect(out.text()).toMatch(/generate: wrote \d+ events and \d+ orders for 120 visitors over 3 days/);
        const exec = await openDuckDbFile(path);
        counts.push(await exec.query("SELECT count(*)::INT AS n, count(DISTINCT anonymous_id)::INT AS visitors, min(event_date)::VARCHAR AS first, sum(hash(event_id))::VARCHAR AS h FROM raw.events"));
        await exec.close?.();
      }
      expect(counts[0]).toEqual(counts[1]);
      expect((counts[0] as { first: string }[])[0]!.first).toBe("2026-03-01");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

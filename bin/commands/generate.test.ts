/** `npx tideline generate`: argument checks and the --rows mode end to end (the edge mode is tested in test/workload). */
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

import { describe, expect, it } from "vitest";
import { loadVectors, runSingleNode } from "./golden.js";

describe("golden vectors on the single-node engine (DuckDB)", () => {
  for (const [file, v] of loadVectors()) {
    it(`${file}: ${v.description.slice(0, 80)}`, async () => {
      expect(v.expected, `${file} has no expected rows: run npx tsx pipeline/golden/write-expected.ts`).toBeDefined();
      expect(await runSingleNode(v)).toEqual(v.expected);
    });
  }
});

/**
 * Rewrites each vector's `expected` rows from the single-node engine. Run after a deliberate change
 * of semantics and read the diff: the Beam pipeline's test then checks the same rows.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadVectors, runSingleNode, VECTORS_DIR } from "./golden.js";

for (const [file, v] of loadVectors()) {
  const expected = await runSingleNode(v);
  writeFileSync(join(VECTORS_DIR, file), JSON.stringify({ ...v, expected }, null, 2) + "\n");
  console.log(`${file}: ${Object.entries(expected).map(([t, rows]) => `${t} ${rows.length}`).join(", ")}`);
}

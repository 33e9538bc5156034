/**
 * Incremental runs equal a full refresh, row for row, for every model: random shops (late events,
 * late and out-of-order CDC, order-line additions and changes, product renames, cancellations,
 * refunds, deletions, identifications after the fact, Shopify webhooks matched to shop orders),
 * loaded in three batches with an incremental run after each, then compared with a full refresh.
 */
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { compileProject, type CompiledGraph } from "./compile.js";
import { runModels } from "./run.js";
import { createTestWarehouse, type TestWarehouse } from "./testing/fixtures.js";
import { loadBatch, randomShop, type ShopOp } from "./testing/random-shop.js";

let models: CompiledGraph;

beforeAll(async () => {
  const graph = await compileProject("duckdb");
  // Assertions are checked by the other model tests; here they would only triple the run time.
  models = { ...graph, assertions: [] };
}, 300_000);

async function dump(w: TestWarehouse): Promise<Record<string, unknown[]>> {
  const out: Record<string, unknown[]> = {};
  for (const t of models.tables ?? []) {
    const name = `${t.target.schema}.${t.target.name}`;
    out[name] = await w.rows(`SELECT * FROM ${name} ORDER BY ALL`);
  }
  return out;
}

/** Builds the shop batch by batch with incremental runs, then returns the first table that differs from a full refresh. */
async function incrementalEqualsFull(ops: ShopOp[]): Promise<{ table: string; incremental: string[]; full: string[] } | null> {
  const w = await createTestWarehouse({ memory: true });
  try {
    for (const batch of [0, 1, 2]) {
      await loadBatch(w.exec, ops, batch);
      const r = await runModels(w.exec, { graph: models });
      expect(r.fullRefresh).toBe(batch === 0);
    }
    const incremental = await dump(w);
    await runModels(w.exec, { graph: models, fullRefresh: true });
    const full = await dump(w);
    for (const table of Object.keys(full)) {
      const inc = new Set(incremental[table]!.map((r) => JSON.stringify(r)));
      const fr = new Set(full[table]!.map((r) => JSON.stringify(r)));
      const onlyIncremental = [...inc].filter((r) => !fr.has(r));
      const onlyFull = [...fr].filter((r) => !inc.has(r));
      if (onlyIncremental.length || onlyFull.length || inc.size !== incremental[table]!.length) return { table, incremental: onlyIncremental, full: onlyFull };
    }
    return null;
  } finally {
    await w.close();
  }
}

describe("incremental runs", () => {
  it("leave every model exactly as a full refresh does, over random shops loaded in three batches", async () => {
    await fc.assert(
      fc.asyncProperty(randomShop, async (ops) => {
        expect(await incrementalEqualsFull(ops)).toBeNull();
      }),
      { numRuns: Number(process.env.TIDELINE_PROPERTY_RUNS ?? 6), endOnFailure: true },
    );
  }, 600_000);
});

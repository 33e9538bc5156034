/**
 * The SQL a run sends to BigQuery, checked statically (bigquery-emulator.test.ts also runs it):
 * every statement parses with a BigQuery grammar; every read of a partition-filtered table prunes
 * partitions with constants; datasets are created before first use; incremental models are written
 * with one MERGE that inserts columns by name.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { parse } from "sql-parser-cst";
import { compileProject, type CompiledGraph } from "./compile.js";
import { bigQueryExecutor } from "./executor.js";
import { plan } from "./graph.js";
import { checkPartitionPruning, PARTITION_FILTERED } from "./pruning-check.js";
import { runModels } from "./run.js";

let bq: CompiledGraph;

beforeAll(async () => {
  bq = await compileProject("bigquery");
}, 300_000);

/** The statements of a first (full) run and of an incremental run with touched partitions. */
async function issuedStatements(): Promise<{ full: string[]; incremental: string[] }> {
  const issued: string[][] = [[], []];
  let run = 0;
  const client = {
    async query({ query }: { query: string }): Promise<[Record<string, unknown>[]]> {
      issued[run]!.push(query);
      if (query.includes("AS loaded_through")) return [[{ loaded_through: run === 0 ? "2026-03-03 00:00:00+00" : "2026-03-04 00:00:00+00" }]];
      if (query.includes("FROM `tideline-local.ops.model_runs` WHERE status")) return [run === 0 ? [] : [{ t: "2026-03-03 00:00:00+00", d: lastDigest }]];
      if (query.includes("table_name IN ('raw.events', 'raw.cdc_changes', 'raw.webhooks')")) return [[{ t: "raw.events", d: "2026-03-02" }, { t: "raw.events", d: "2026-03-03" }, { t: "raw.cdc_changes", d: "2026-03-03" }]];
      if (query.includes("INFORMATION_SCHEMA.TABLES")) {
        const declared = (bq.declarations ?? []).map((t) => ({ t: `${t.target.schema}.${t.target.name}` }));
        return [run === 0 ? declared : [...declared, ...(bq.tables ?? []).map((t) => ({ t: `${t.target.schema}.${t.target.name}` }))]];
      }
      if (query.startsWith("INSERT INTO `tideline-local.ops.model_runs`")) lastDigest = /'([0-9a-f]{16})'\)$/.exec(query)?.[1] ?? "";
      return [[{ n: 0, failing_rows: 0 }]];
    },
  };
  let lastDigest = "";
  const exec = bigQueryExecutor(client);
  const first = await runModels(exec, { graph: bq });
  expect(first.fullRefresh).toBe(true);
  run = 1;
  const second = await runModels(exec, { graph: bq });
  expect(second.fullRefresh).toBe(false);
  return { full: issued[0]!, incremental: issued[1]! };
}

describe("BigQuery SQL of a run", () => {
  it("parses as BigQuery SQL, prunes every partition-filtered read with constants, creates datasets first and merges incremental models by column name", async () => {
    const { full, incremental } = await issuedStatements();
    const all = [...full, ...incremental];
    const unparsed: string[] = [];
    for (const sql of all) {
      try {
        parse(sql, { dialect: "bigquery" });
      } catch (e) {
        unparsed.push(`${sql.slice(0, 300)}\n  → ${(e as Error).message.split("\n").slice(0, 3).join(" ")}`);
      }
    }
    expect(unparsed).toEqual([]);
    expect(PARTITION_FILTERED).toEqual({ "raw.events": "event_date" });
    expect(checkPartitionPruning(all)).toEqual([]);
    // The full build of staging reads every partition of raw.events, as a named range.
    expect(full.find((s) => s.startsWith("CREATE OR REPLACE TABLE `tideline-local.staging.stg_events`"))).toContain("event_date BETWEEN DATE '1970-01-01' AND DATE '9999-12-31'");
    // Incremental: the touched partitions as constants, and one MERGE per incremental model.
    const merge = incremental.find((s) => s.startsWith("MERGE INTO `tideline-local.staging.stg_events` AS T"))!;
    expect(merge).toContain("event_date IN UNNEST([DATE '2026-03-02', DATE '2026-03-03'])");
    expect(merge).toContain("WHEN NOT MATCHED BY SOURCE AND (T.event_date IN UNNEST([DATE '2026-03-02', DATE '2026-03-03'])) THEN DELETE");
    expect(merge).toMatch(/WHEN NOT MATCHED THEN INSERT \(event_id, event_ts, event_date, type, event, visitor_id, .*\) VALUES \(S\.event_id, S\.event_ts, /);
    const sessions = incremental.find((s) => s.startsWith("MERGE INTO `tideline-local.staging.int_sessions` AS T"))!;
    expect(sessions).toContain("ON T.session_id = S.session_id\nWHEN MATCHED THEN UPDATE SET visitor_id = S.visitor_id");
    expect(sessions).toContain("WHEN NOT MATCHED BY SOURCE AND (T.session_date >= DATE '2026-03-01') THEN DELETE");
    const incrementalModels = (bq.tables ?? []).filter((t) => t.type === "incremental").map((t) => `${t.target.schema}.${t.target.name}`);
    for (const m of incrementalModels) {
      const writes = incremental.filter((s) => new RegExp(`^(MERGE INTO|INSERT INTO|DELETE FROM|CREATE OR REPLACE TABLE) \`tideline-local\\.${m.replace(".", "\\.")}\``).test(s));
      expect(writes.map((s) => s.split(" ").slice(0, 2).join(" ")), m).toEqual(["MERGE INTO"]);
    }
    // Datasets exist before anything is written into them.
    for (const stmts of [full, incremental]) {
      stmts.forEach((s, i) => {
        const target = /^(?:CREATE OR REPLACE (?:TABLE|VIEW)|MERGE INTO|INSERT INTO|CREATE TABLE IF NOT EXISTS) `tideline-local\.([a-z_]+)\./.exec(s);
        if (!target) return;
        const created = stmts.slice(0, i).some((p) => p.startsWith(`CREATE SCHEMA IF NOT EXISTS \`tideline-local.${target[1]}\``));
        expect(created, `dataset ${target[1]} created before: ${s.slice(0, 80)}`).toBe(true);
      });
    }
    expect(all.some((s) => s.includes('"marts"') || s.includes("json_extract_string") || s.includes("@run_"))).toBe(false);
    expect(plan(bq).filter((a) => a.kind === "assertion").length).toBe(full.filter((s) => s.startsWith("SELECT COUNT(*) AS failing_rows")).length);
  });

  it("the pruning check flags reads that BigQuery would reject", () => {
    const violations = checkPartitionPruning([
      "SELECT event_id FROM `p.raw.events` WHERE NOT is_bot",
      "SELECT event_id FROM `p.raw.events` WHERE event_date IN (SELECT partition_date FROM `p.ops.model_rebuild_dates`)",
      "SELECT e.event_id FROM `p.staging.x` AS x JOIN `p.raw.events` AS e ON e.event_id = x.id WHERE x.d >= DATE '2026-01-01'",
      "SELECT event_id FROM `p.raw.events` WHERE event_date >= DATE '2026-01-01' AND NOT is_bot",
      "SELECT event_id FROM `p.raw.events` WHERE event_date IN UNNEST([DATE '2026-01-01'])",
      "SELECT e.event_id FROM `p.raw.events` AS e WHERE e.event_date BETWEEN DATE '1970-01-01' AND DATE '9999-12-31'",
      "SELECT FROM WHERE",
    ]);
    expect(violations.map((v) => [v.statement, v.table])).toEqual([
      [0, "raw.events"],
      [1, "raw.events"],
      [2, "raw.events"],
      [6, "?"],
    ]);
  });
});

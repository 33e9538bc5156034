import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BigQuery } from "@google-cloud/bigquery";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bqemulatorInstalled, startBqEmulator } from "../../infra/local/bqemulator.js";
import type { BigQueryEmulatorHandle } from "../../infra/local/bigquery-emulator.js";
import { freePort } from "../../infra/local/settings.js";
import { BigQuerySink } from "../bigquery/sink.js";
import { compileProject, type CompiledGraph } from "./compile.js";
import { plan, targetName } from "./graph.js";
import { runParams } from "./params.js";
import { runSteps, type RunContext, type Step } from "./run.js";
import { loadExchangeRates } from "./seeds.js";
import { insertWebhooks } from "./testing/fixtures.js";
import { story } from "./testing/story.js";
import { warehouseTables } from "../duckdb/ddl.js";

const PROJECT = "tideline-local";

interface Failure {
  phase: string;
  action: string;
  error: string;
  sql: string;
}

let emulator: BigQueryEmulatorHandle;
let bq: BigQuery;
let graph: CompiledGraph;
const dir = mkdtempSync(join(tmpdir(), "tideline-bq-models-"));
const savedMeta = process.env.METADATA_SERVER_DETECTION;

beforeAll(async () => {
  if (!bqemulatorInstalled()) throw new Error("the BigQuery emulator (bqemulator) is not installed: run bash infra/local/setup.sh bqemulator");
  const [port, grpcPort] = [await freePort(), await freePort()];
  [emulator, graph] = await Promise.all([startBqEmulator({ port, grpcPort, dataDir: dir, project: PROJECT }), compileProject("bigquery", { defaultDatabase: PROJECT })]);
  process.env.METADATA_SERVER_DETECTION = "none";
  bq = new BigQuery({ projectId: PROJECT, apiEndpoint: emulator.restUrl, autoRetry: false });
  await new BigQuerySink({ client: bq, location: "US" }).init();
}, 300_000);

afterAll(async () => {
  await emulator?.stop();
  rmSync(dir, { recursive: true, force: true });
  if (savedMeta === undefined) delete process.env.METADATA_SERVER_DETECTION;
  else process.env.METADATA_SERVER_DETECTION = savedMeta;
});

/**
 * One statement through the REST jobs.query call, which answers in one round trip; the client's
 * createQueryJob + getQueryResults polling takes four times as long per statement, and a run is
 * ~150 statements. Returns the emulator's error message, or null.
 */
async function runStatement(sql: string): Promise<string | null> {
  const r = await fetch(`${emulator.restUrl}/bigquery/v2/projects/${PROJECT}/queries`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ query: sql, useLegacySql: false, location: "US", timeoutMs: 60_000 }),
  });
  const body = (await r.json().catch(() => ({}))) as QueryResponse;
  if (!r.ok || body.error) return (body.error?.message ?? `HTTP ${r.status}`).split("\n")[0]!.slice(0, 400);
  if (body.errors?.length) return body.errors.map((e) => e.message).join("; ").slice(0, 400);
  if (body.jobComplete === false) return "the statement did not finish within 60 s";
  // An assertion's count query: the story satisfies every assertion on DuckDB, so it must here too.
  if (body.schema?.fields?.[0]?.name === "failing_rows") {
    const n = Number(body.rows?.[0]?.f?.[0]?.v ?? 0);
    if (n > 0) return `the assertion found ${n} failing row(s)`;
  }
  return null;
}

interface QueryResponse {
  jobComplete?: boolean;
  error?: { message?: string };
  errors?: { message?: string }[];
  schema?: { fields?: { name: string }[] };
  rows?: { f?: { v?: unknown }[] }[];
}

/**
 * The model tests' shared story (warehouse/models/testing/story.ts), built in DuckDB as the
 * pipeline would load it and copied row by row into the emulator's pipeline tables (tabledata.insertAll).
 */
async function loadStory(): Promise<number> {
  const wh = await story({ memory: true });
  let copied = 0;
  try {
    await insertWebhooks(wh.exec, [{ id: "w1", topic: "orders/create", ts: "2026-03-03T11:00:00Z", payload: { id: 9001, name: "#1001", total_price: "60.00", currency: "USD", created_at: "2026-03-03T11:00:00Z" } }]);
    for (const t of warehouseTables()) {
      const rows = await wh.rows(`SELECT * FROM ${t.dataset}.${t.name}`);
      if (rows.length === 0) continue;
      const r = await fetch(`${emulator.restUrl}/bigquery/v2/projects/${PROJECT}/datasets/${t.dataset}/tables/${t.name}/insertAll`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ rows: rows.map((json) => ({ json })) }),
      });
      const body = (await r.json()) as { insertErrors?: unknown[] };
      if (!r.ok || body.insertErrors?.length) throw new Error(`loading ${t.dataset}.${t.name} into the emulator failed: ${JSON.stringify(body).slice(0, 500)}`);
      copied += rows.length;
    }
  } finally {
    await wh.close();
  }
  return copied;
}

function stepStatements(s: Step): { action: string; sqls: string[] } {
  if (s.kind === "setup") return { action: "setup", sqls: [s.sql] };
  if (s.kind === "model") return { action: s.action.name, sqls: [...s.statements, ...(s.action.table.type === "view" ? [] : [s.countSql])] };
  return { action: s.action.name, sqls: [s.sql] };
}

async function replay(phase: string, ctx: RunContext): Promise<{ ran: number; failures: Failure[] }> {
  const failures: Failure[] = [];
  let ran = 0;
  for (const step of runSteps(plan(graph), ctx)) {
    const { action, sqls } = stepStatements(step);
    for (const sql of sqls) {
      ran++;
      const error = await runStatement(sql);
      if (error) {
        failures.push({ phase, action, error, sql: sql.slice(0, 200) });
        break;
      }
    }
  }
  return { ran, failures };
}

describe("every model's BigQuery SQL on the BigQuery emulator", () => {
  it("runs a full build and an incremental build on empty pipeline tables", async () => {
    const rates = loadExchangeRates();
    const base = { dialect: "bigquery" as const, database: PROJECT, location: "US", rates, nothingNew: false };
    const full = await replay("full", { ...base, fullRefresh: true, existing: new Set(), params: runParams({ fullRefresh: true, since: "1970-01-01 00:00:00+00", loadedThrough: "2026-03-03 00:00:00+00", eventsDates: [], cdcDates: [], webhookDates: [] }) });
    const existing = new Set([...(graph.tables ?? []), ...(graph.declarations ?? [])].map((t) => targetName(t.target)));
    const incr = await replay("incremental", { ...base, fullRefresh: false, existing, params: runParams({ fullRefresh: false, since: "2026-03-03 00:00:00+00", loadedThrough: "2026-03-04 00:00:00+00", eventsDates: ["2026-03-02", "2026-03-03"], cdcDates: ["2026-03-03"], webhookDates: ["2026-03-03"] }) });
    console.log(full.ran, incr.ran);
    console.log(await loadStory());
    const full2 = await replay("story full", { ...base, fullRefresh: true, existing: new Set(), params: runParams({ fullRefresh: true, since: "1970-01-01 00:00:00+00", loadedThrough: "2026-03-03 00:00:00+00", eventsDates: [], cdcDates: [], webhookDates: [] }) });
    const incr2 = await replay("story incremental", { ...base, fullRefresh: false, existing, params: runParams({ fullRefresh: false, since: "2026-03-03 00:00:00+00", loadedThrough: "2026-03-04 00:00:00+00", eventsDates: ["2026-03-02", "2026-03-03"], cdcDates: ["2026-03-03"], webhookDates: ["2026-03-03"] }) });
    console.log(JSON.stringify([...full2.failures, ...incr2.failures], null, 1));
    console.log(JSON.stringify([...full.failures, ...incr.failures], null, 1));
    expect([...full.failures, ...incr.failures]).toEqual([]);
  }, 600_000);
});

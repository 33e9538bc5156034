/** Ports for the operator API without a pipeline: tests of the app, the server and the CLI's client. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { lockDown, NO_EXTENSION_LOADING } from "../../../warehouse/duckdb/open.js";
import { queryInstance } from "../../../warehouse/duckdb/query.js";
import type { OperatorPorts } from "../ports.js";
import { startOperatorApi, type OperatorApiServer } from "../server.js";
import { operatorClient } from "../client.js";
import type { BackfillRequest, ModelsRunRequest } from "../schemas.js";

export interface FakePorts extends OperatorPorts {
  /** What the backfill and models ports were asked. */
  calls: { backfill: BackfillRequest[]; models: ModelsRunRequest[] };
  close(): void;
}

/** Queries run on a real in-memory DuckDB, locked down as the pipeline's is; backfill and models report canned progress. */
export async function fakePorts(over: Partial<OperatorPorts> = {}): Promise<FakePorts> {
  const instance = await DuckDBInstance.create(":memory:", NO_EXTENSION_LOADING);
  const setup = await instance.connect();
  await setup.run("CREATE SCHEMA raw; CREATE TABLE raw.events AS SELECT range AS n FROM range(3)");
  setup.closeSync();
  await lockDown(instance);
  const calls: FakePorts["calls"] = { backfill: [], models: [] };
  const stats = { messages: 4, duplicates: 1, loaded: 3, late: 0, deadLettered: 0, cdcIgnored: 0 };
  return {
    warehouse: "memory",
    query: (sql, limits) => queryInstance(instance, sql, limits),
    status: () => ({ batches: 2, failures: 0, totals: stats, lastBatchAt: null, lastError: null }),
    async backfill(req, progress) {
      calls.backfill.push(req);
      progress({ objectsDone: 1, objectsTotal: 2, stats });
      progress({ objectsDone: 2, objectsTotal: 2, stats });
      return { objects: 2, stats };
    },
    async runModels(req, emit) {
      calls.models.push(req);
      emit({ line: "staging.stg_events  create  0.01 s  3 rows" });
      emit({ done: true, result: { results: [{ name: "staging.stg_events", kind: "table", mode: "create", seconds: 0.01, rows: 3 }], warnings: [], touchedDates: [], params: {}, fullRefresh: !!req.fullRefresh, fullRefreshReason: req.fullRefresh ? "asked for" : null, seconds: 0.02 } });
    },
    ...over,
    calls,
    close: () => instance.closeSync(),
  };
}

/** The API on a free port of 127.0.0.1 with its token in a temporary folder, and a client for it. */
export async function startTestApi(ports: OperatorPorts) {
  const dir = mkdtempSync(join(tmpdir(), "tideline-api-"));
  const server: OperatorApiServer = await startOperatorApi({ ports, port: 0, tokenFile: join(dir, "operator-api.token") });
  return {
    server,
    client: operatorClient({ port: server.port, tokenFile: server.tokenFile }),
    async close() {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

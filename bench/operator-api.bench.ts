/**
 * `npm run bench:operator-api`: what the operator API adds to a query — the typed client over HTTP
 * to the Hono app (Host/Origin/token checks, validation) against the same query on a DuckDB
 * connection directly, both on a locked-down in-memory warehouse: p50/p95 of a one-row query
 * (BENCH_QUERIES, default 500) and the time of a capped 10,000-row answer.
 */
import { DuckDBInstance } from "@duckdb/node-api";
import { fakePorts, startTestApi } from "../platform/api/testing/fake-ports.js";
import { DEFAULT_QUERY_LIMITS, queryInstance } from "../warehouse/duckdb/query.js";
import { lockDown, NO_EXTENSION_LOADING } from "../warehouse/duckdb/open.js";

const N = Number(process.env.BENCH_QUERIES ?? 500);
const SQL = "SELECT count(*) AS n FROM raw.events";
const WIDE = "SELECT range AS id, 'row ' || range AS label, range * 1.5 AS amount FROM range(20000)";

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;
async function timed(n: number, fn: () => Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await fn();
    out.push(performance.now() - t0);
  }
  return out;
}

const ports = await fakePorts();
const api = await startTestApi(ports);
const direct = await DuckDBInstance.create(":memory:", NO_EXTENSION_LOADING);
const setup = await direct.connect();
await setup.run("CREATE SCHEMA raw; CREATE TABLE raw.events AS SELECT range AS n FROM range(3)");
setup.closeSync();
await lockDown(direct);
try {
  await timed(20, () => api.client.query(SQL));
  await timed(20, () => queryInstance(direct, SQL, DEFAULT_QUERY_LIMITS));
  const viaApi = await timed(N, () => api.client.query(SQL));
  const viaDuckDb = await timed(N, () => queryInstance(direct, SQL, DEFAULT_QUERY_LIMITS));
  const wideApi = await timed(5, () => api.client.query(WIDE));
  const wideDirect = await timed(5, () => queryInstance(direct, WIDE, DEFAULT_QUERY_LIMITS));
  const f = (x: number) => `${x.toFixed(2)} ms`;
  console.log(`one-row query, ${N} times: API p50 ${f(pct(viaApi, 50))} p95 ${f(pct(viaApi, 95))} | DuckDB directly p50 ${f(pct(viaDuckDb, 50))} p95 ${f(pct(viaDuckDb, 95))}`);
  console.log(`10,000-row capped answer (median of 5): API ${f(pct(wideApi, 50))} | DuckDB directly ${f(pct(wideDirect, 50))}`);
} finally {
  direct.closeSync();
  await api.close();
  ports.close();
}
